// CurlTransport: the production HttpTransport, built on libcurl easy handles.
//
// Created once by the composition root (src/app/) and shared by every S3 client. Each Send
// borrows an easy handle from a pool (a mutex-guarded stack of idle handles) and gives it back
// afterwards; the pool grows to the peak number of concurrent requests. The transfer runs on
// the calling thread through that thread's libcurl multi handle, driven by epoll
// (curl_loop.h: about a third fewer system calls than curl_easy_perform), whose connection
// cache keeps each thread's keep-alive connections: in steady state no handle is created and no
// connection is opened per request. Small bodies (up to 60 KiB) go out in the same write as the
// headers.
//
// Per request: CURLOPT_NOSIGNAL, TCP_NODELAY, the connect timeout and low-speed limit from
// CurlOptions, the request's timeout (or the default), the exact Content-Length of the body
// (also 0 for an empty PUT/POST), no "Expect: 100-continue", no automatic decompression, HEAD
// via CURLOPT_NOBODY, no redirects followed, the URL path sent as is (no dot-segment removal:
// S3 keys such as "../x" are legal). Only the final response's headers are reported
// (1xx interim responses are skipped). TLS: the CA bundle is the request's (HttpRequest::tls),
// else CurlOptions::ca_bundle, else $AWS_CA_BUNDLE, else the system's; a bundle replaces the
// system's CAs, it does not add to them. The peer and host name checks are on unless the
// request's settings (or CurlOptions::verify_tls) turn them off; a connection is reused only
// by a request with the same settings. Proxies come from the environment as libcurl reads
// them (http_proxy, https_proxy, all_proxy, no_proxy and their upper-case forms). Setting
// $FERRY_CURL_VERBOSE makes libcurl trace every transfer to stderr (debugging only: the trace
// includes request headers).
//
// Thread-safety: Send may be called from many threads at once.
#pragma once

#include <cstddef>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "http/transport.h"

namespace ferry::http {

// Requests of this process in flight through every CurlTransport (from the moment a request
// has passed the throttle and holds a handle until Send returns), and the most seen at once
// since the process started: what `ferry_http_requests_in_flight` and its `_peak` report, the
// proof that the executor's concurrency bounds the requests whatever runs in the process.
struct RequestsInFlight {
  uint64_t now = 0;
  uint64_t peak = 0;
};
RequestsInFlight ProcessRequestsInFlight();

class CurlTransport : public HttpTransport {
 public:
  explicit CurlTransport(CurlOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // See HttpTransport::Send. Calls sink.Begin(status, headers) once before the first body byte
  // (also when the response has no body), then sink.Write for each chunk. Errors: network
  // faults, timeouts, resets and truncated bodies -> kUnavailable; malformed URL ->
  // kInvalidArgument; stop requested -> kCancelled; a server certificate that fails the check
  // -> kUnauthenticated (curl_errors.h); a sink's non-OK status is returned as is.
  Result<HttpResponse> Send(const HttpRequest& request, BodySink& sink,
                            std::stop_token stop) override;

  Throttle* throttle() const override { return options_.throttle; }

  // Number of idle handles in the pool (for tests and metrics).
  size_t idle_handles() const;
  // Number of easy handles created so far (for tests: stays flat in steady state).
  size_t handles_created() const;

 private:
  void* Acquire();  // a configured CURL* (idle or new)
  void Release(void* handle);

  const CurlOptions options_;
  const std::string ca_bundle_;  // resolved once: options, then $AWS_CA_BUNDLE
  // The environment names a proxy: libcurl applies it (else handles are set to none).
  const bool proxy_from_environment_;

  mutable std::mutex mu_;
  std::vector<void*> idle_;     // GUARDED_BY(mu_): CURL* handles, most recently used last
  size_t handles_created_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace ferry::http
