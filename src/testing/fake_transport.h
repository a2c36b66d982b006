// FakeTransport: an HttpTransport for unit tests. It answers from a script of replies (status,
// headers, body) or injected transport errors, in order, and records every request it got
// (method, URL, headers and a copy of the body) so tests can assert on what was sent.
//
// A scripted reply's body goes through the sink exactly as CurlTransport would deliver it:
// Begin(status, headers), then Write in chunks. An injected error can first deliver part of a
// body (a connection reset mid-download). When the script is empty, Send fails with kInternal
// ("no scripted reply"), so a test notices unexpected extra requests.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "http/transport.h"

namespace ferry::testing {

struct FakeReply {
  int status = 200;
  http::Headers headers;
  std::string body;
  // When not OK, Send returns this status after delivering `body` (if any) to the sink.
  Status error;

  static FakeReply Ok(std::string body = {}, http::Headers headers = {});
  // An S3 XML error reply: <Error><Code>code</Code><Message>message</Message></Error>.
  static FakeReply S3Error(int status, std::string code, std::string message = {});
  // A transport failure (e.g. kUnavailable "connection reset"), after `partial_body` was
  // delivered with status 200.
  static FakeReply NetworkError(Status error, std::string partial_body = {});
};

struct RecordedRequest {
  std::string method;
  std::string url;
  http::Headers headers;
  std::string body;
  std::optional<http::TlsSettings> tls;  // a copy of the request's TLS settings, if it had any
};

class FakeTransport : public http::HttpTransport {
 public:
  // Appends a reply to the script.
  void Push(FakeReply reply);
  // Optional: computes replies for requests when the script is empty.
  void SetHandler(std::function<FakeReply(const http::HttpRequest&)> handler);

  Result<http::HttpResponse> Send(const http::HttpRequest& request, http::BodySink& sink,
                                  std::stop_token stop) override;

  std::vector<RecordedRequest> requests() const;
  size_t request_count() const;
  size_t pending_replies() const;

  // What throttle() returns (the limits a caller reports Retry-After pauses to); not owned.
  void SetThrottle(http::Throttle* throttle) { throttle_ = throttle; }
  http::Throttle* throttle() const override { return throttle_; }

  // Body chunk size used when delivering replies to sinks.
  static constexpr size_t kChunk = 4;

 private:
  mutable std::mutex mu_;
  std::deque<FakeReply> script_;                                // GUARDED_BY(mu_)
  std::function<FakeReply(const http::HttpRequest&)> handler_;  // GUARDED_BY(mu_)
  std::vector<RecordedRequest> requests_;                       // GUARDED_BY(mu_)
  http::Throttle* throttle_ = nullptr;
};

}  // namespace ferry::testing
