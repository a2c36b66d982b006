// LoopbackHttpServer: a tiny HTTP/1.1 server on 127.0.0.1 (port 0) for transport tests. Each
// request is recorded and answered with the raw bytes a handler returns, so tests can send
// anything a real server might: interim 1xx replies, truncated bodies, stalls, closed
// connections. Keep-alive is honoured; connections are served one at a time by one thread.
//
// Used by src/http/curl_transport_test.cc. Thread-safe accessors; the handler runs on the
// server thread.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ferry::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;  // request target as sent: path and query
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string body;                                          // Content-Length bytes

  bool Has(const std::string& lower_name) const;
  // The first value of a header, or "<absent>".
  std::string Get(const std::string& lower_name) const;
};

class LoopbackHttpServer {
 public:
  // Returns the raw reply bytes (status line, headers, body); "" sends nothing. Setting `close`
  // drops the connection after the reply.
  using Handler = std::function<std::string(const ReceivedRequest&, bool& close)>;

  explicit LoopbackHttpServer(Handler handler);
  ~LoopbackHttpServer();  // stops accepting, closes the connection, joins the thread
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  // "http://127.0.0.1:<port><path>"
  std::string Url(const std::string& path) const;
  int connections() const { return connections_; }
  std::vector<ReceivedRequest> requests() const;

 private:
  bool WaitReadable(int fd);
  void Run();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace ferry::testing
