// HttpServer: ferry's one HTTP listener (the metrics endpoint of any run, and `ferry serve`'s
// health, metrics, JSON API and event intake), over libmicrohttpd loaded on first use (a run
// that serves nothing never maps it). One polling thread accepts and reads; each complete
// request (its body read up to a limit) is answered by the handler on that thread, so handlers
// must be quick (a database transaction at most) and thread-safe only against the rest of the
// process.
//
// Bounds (hostile clients must never take what the process's own work needs): at most
// `max_connections` at once (past it a connection is closed at once), an idle or slow one is
// closed after `idle_seconds`, a body above `max_body` is refused with 413 without being kept,
// and a connection's buffers are capped.
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

#include "base/status.h"

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
  std::string listen;         // HOST:PORT (PORT 0: any free port); [::1]:PORT for IPv6
  std::string option = "--listen";  // the option or config key it came from, for errors
  size_t max_body = 1 << 20;  // larger bodies: 413
  unsigned max_connections = 64;
  unsigned idle_seconds = 10;
};

class HttpServer {
 public:
  // Binds and starts serving. kInvalidArgument for a malformed address, kUnavailable when it
  // cannot be bound, kNotSupported when libmicrohttpd is not installed.
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options,
                                                   ServerHandler handler);
  ~HttpServer();  // stops serving (waits for a handler in progress)
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // "http://HOST:PORT" as given in `listen`, with the bound port.
  const std::string& url() const { return url_; }

 private:
  struct Impl;
  HttpServer() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::string url_;
};

}  // namespace ferry::http
