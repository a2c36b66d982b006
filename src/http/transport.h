// HttpTransport: sends one HTTP request and returns the response. No retries, no signing:
// callers (the S3 client) own both. Implementations keep connections alive and reuse them.
//
// Errors: network faults, timeouts, connection resets and truncated bodies are kUnavailable;
// a malformed URL is kInvalidArgument; cancellation via the stop token is kCancelled; a server
// certificate that fails the TLS check is kUnauthenticated (never worth a retry). Any HTTP
// status (including 4xx/5xx) is a successful Send: interpreting it is the caller's job.
//
// Thread-safety: Send may be called from many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ferry::http {

// Whether `a` and `b` are equal but for the case of ASCII letters (header names).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Header list that keeps insertion order; names compare case-insensitively.
class Headers {
 public:
  void Set(std::string_view name, std::string_view value);  // replaces an existing one
  void Add(std::string_view name, std::string_view value);  // appends
  // Returns nullptr when absent.
  const std::string* Find(std::string_view name) const;
  std::string Get(std::string_view name) const;  // "" when absent
  void Remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
  void Clear() { entries_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// How one request checks the TLS certificate of its server (a remote's `ca_bundle` and
// `insecure_skip_verify`), in place of the transport's own settings (CurlOptions). A request
// goes out only on a connection made with the same settings: libcurl reuses a connection only
// for a request whose TLS settings match the ones it was made with.
struct TlsSettings {
  // PEM file of the CA certificates the server's certificate must chain to; the system's are
  // then not used. "": the transport's (CurlOptions::ca_bundle, else $AWS_CA_BUNDLE, else the
  // system's).
  std::string ca_bundle;
  // false: neither the certificate nor the host name is checked (anyone on the path can read
  // and change the traffic).
  bool verify = true;
  // Ends the message of a certificate that fails the check: how to fix it, e.g. "set ca_bundle
  // for remote 'ra'". "": nothing.
  std::string untrusted_hint;
};

struct HttpRequest {
  std::string method = "GET";
  // Absolute URL, already percent-encoded: scheme://host[:port]/path?query
  std::string url;
  Headers headers;
  // Request body; the span must stay valid until Send returns. Empty for no body.
  std::span<const std::byte> body;
  // Per-request limits. 0 = transport default.
  int timeout_ms = 0;
  // TLS settings of an https request; must stay valid until Send returns. Null: the
  // transport's own.
  const TlsSettings* tls = nullptr;
};

// Receives the response body as it arrives. Return non-OK to abort the transfer (the Send then
// fails with that status).
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Called once, before any Write, with the status and headers of the final response.
  virtual Status Begin(int status_code, const Headers& headers) {
    (void)status_code;
    (void)headers;
    return Status::Ok();
  }
  virtual Status Write(std::span<const std::byte> data) = 0;
  // Discards everything written so far so that the body can be delivered again from its first
  // byte; afterwards Begin and Write are called anew for the next response. The S3 client calls
  // it before retrying a request whose failed attempt had already delivered body bytes. Returns
  // false when the sink cannot rewind (the default); such a failure is then not retried by the
  // client but returned as is (kUnavailable), for a higher layer to retry.
  virtual bool Rewind() { return false; }
};

// Collects the body into a string (error bodies, XML replies).
class StringSink : public BodySink {
 public:
  explicit StringSink(size_t limit = 64u << 20) : limit_(limit) {}
  // Fails with kDataLoss when the body would exceed `limit`.
  Status Write(std::span<const std::byte> data) override;
  bool Rewind() override;
  std::string& body() { return body_; }

 private:
  size_t limit_;
  std::string body_;
};

// Writes the body into a caller-owned fixed buffer; fails with kDataLoss on overflow.
class SpanSink : public BodySink {
 public:
  explicit SpanSink(std::span<std::byte> out) : out_(out) {}
  Status Write(std::span<const std::byte> data) override;
  bool Rewind() override;  // restarts writing at offset 0
  size_t written() const { return written_; }

 private:
  std::span<std::byte> out_;
  size_t written_ = 0;
};

struct HttpResponse {
  int status_code = 0;
  Headers headers;
  // Body bytes delivered to the sink (after decoding, if any).
  uint64_t body_bytes = 0;
};

class Throttle;  // http/throttle.h

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // The response body goes to `sink`. The request's body is sent as is, with Content-Length.
  virtual Result<HttpResponse> Send(const HttpRequest& request, BodySink& sink,
                                    std::stop_token stop) = 0;
  // The limits this transport paces requests and bytes through (CurlOptions::throttle), for a
  // caller that learns of a pause an endpoint asked for (Retry-After); null when none.
  virtual Throttle* throttle() const { return nullptr; }
};

struct CurlOptions {
  long connect_timeout_ms = 10000;
  // Abort a transfer that moves less than 1 byte/s for this long (stalled connection).
  long low_speed_time_s = 30;
  long default_timeout_ms = 0;  // 0 = no overall limit (large parts take long)
  std::string ca_bundle;        // empty = system default or AWS_CA_BUNDLE
  bool verify_tls = true;
  // Tests only: "HOST:PORT" that every connection goes to whatever the URL's host (libcurl's
  // CURLOPT_CONNECT_TO); the URL, the Host header and the TLS name check stay the URL's. Lets a
  // test serve a fixed public host name (an SNS host) from a local server. Empty: none.
  std::string connect_to;
  // Process-wide limits applied to every request and body byte (limits::Limits); not owned,
  // outlives the transport. Null: none.
  Throttle* throttle = nullptr;
};

}  // namespace ferry::http
