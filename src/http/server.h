// HttpServer: ferry's one HTTP listener (the metrics endpoint of any run, and `ferry serve`'s
// health, metrics, JSON API and event intake), over libmicrohttpd loaded on first use (a run
// that serves nothing never maps it). One polling thread accepts and reads; each complete
// request (its body read up to a limit) is answered by the handler on that thread, so handlers
// must be quick (a database transaction at most) and thread-safe only against the rest of the
// process. Over HTTPS when given a certificate and key (server_tls.h), through libmicrohttpd's
// GnuTLS.
//
// Bounds (hostile clients must never take what the process's own work needs, nor lock out a
// client that asks properly; docs/design/http.md, "HttpServer"):
//   - at most `max_connections` at once (past it a connection is closed at once), and above
//     7/8 of it each new connection evicts the one that has waited longest for its request
//     (connection_guard.h);
//   - a connection idle for `idle_seconds` is closed; a request's head (and TLS handshake) must
//     be in within `header_seconds`, and the whole exchange done within `request_seconds`, however
//     slowly the client trickles (the polling thread cuts it: it looks 4 times a second);
//   - a body above `max_body` is refused with 413 before it is read when announced; one that
//     grows past it unannounced (chunked) closes the connection at once; all bodies held at
//     once stay under `max_buffered` (past it: 503 with Retry-After); each connection's buffers
//     are capped at 64 KiB (its request line and headers must fit).
//
// Thread-safety: Start/Stop/port from one thread; the handler runs on the server's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "http/server_tls.h"
#include "obs/metrics.h"

namespace ferry::http {

struct ServerRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::map<std::string, std::string> query;    // decoded arguments
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct ServerResponse {
  int code = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static ServerResponse Text(int code, std::string body) {
    ServerResponse r;
    r.code = code;
    r.body = std::move(body);
    return r;
  }
  static ServerResponse Json(int code, std::string body) {
    ServerResponse r = Text(code, std::move(body));
    r.content_type = "application/json";
    return r;
  }
};

using ServerHandler = std::function<ServerResponse(const ServerRequest&)>;

struct ServerOptions {
  // HOST:PORT (PORT 0: any free port); [::1]:PORT for IPv6; PORT or :PORT alone: 127.0.0.1.
  // Another interface only when named (0.0.0.0:PORT, [::]:PORT, an address or a host name).
  std::string listen;
  std::string option = "--listen";  // the option or config key it came from, for errors
  TlsFiles tls;               // both files: HTTPS; neither: plain HTTP
  size_t max_body = 1 << 20;  // larger bodies: 413
  size_t max_buffered = 16 << 20;  // bodies held at once (raised to max_body when below it)
  unsigned max_connections = 64;
  unsigned idle_seconds = 10;
  unsigned header_seconds = 10;   // a request's head (and TLS handshake) in within this
  unsigned request_seconds = 30;  // its whole exchange (head, body, reply) within this
  // Where the listener's own series go (null: nowhere), labelled listener=`name`:
  //   ferry_http_server_connections{listener}           open now
  //   ferry_http_server_cut_total{listener,reason}      connections closed by ferry:
  //       header_timeout | request_timeout | evicted | body_too_large | busy
  //   ferry_tls_cert_expiry_timestamp_seconds{listener} HTTPS only: when its certificate
  //       expires (unix s, TlsPem::not_after)
  obs::Registry* registry = nullptr;
  std::string name = "http";
  // The connections' deadlines are read on its MonoNow (null: the system's); not owned.
  Clock* clock = nullptr;
};

class HttpServer {
 public:
  // Binds and starts serving. kInvalidArgument for a malformed address or TLS files that do not
  // check (one line naming the option), kUnavailable when it cannot be bound, kNotSupported when
  // libmicrohttpd is not installed or (with TLS files) was built without TLS.
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options,
                                                   ServerHandler handler);
  ~HttpServer();  // stops serving (waits for a handler in progress)
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // "http://HOST:PORT" ("https://" with TLS) with the host as given in `listen` (127.0.0.1 for
  // a port alone) and the bound port.
  const std::string& url() const { return url_; }

 private:
  struct Impl;
  HttpServer() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::string url_;
};

}  // namespace ferry::http
