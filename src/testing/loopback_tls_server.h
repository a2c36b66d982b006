// LoopbackTlsServer: a tiny HTTPS server on 127.0.0.1 (port 0) for the transport's TLS tests,
// over a throwaway PKI made at construction (EC P-256 keys, valid from an hour ago for a day):
// a CA, the server's certificate it issued for IP:127.0.0.1 and DNS:localhost, and a second,
// unrelated CA. Both CAs are written as PEM files into a directory the caller names.
//
// Every request (its head; bodies are not read) is answered "200 OK" with the body "ok".
// Keep-alive is honoured; each connection is served by a thread of its own. A client that gives
// up during the handshake (it does not trust the certificate) is dropped.
//
// Tests only: the constructor makes the process ignore SIGPIPE. Thread-safe accessors.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace ferry::testing {

class LoopbackTlsServer {
 public:
  // Writes `dir`/ca.pem and `dir`/other-ca.pem (the directory must exist).
  explicit LoopbackTlsServer(const std::string& dir);
  ~LoopbackTlsServer();  // stops accepting, closes the connection, joins the thread
  LoopbackTlsServer(const LoopbackTlsServer&) = delete;
  LoopbackTlsServer& operator=(const LoopbackTlsServer&) = delete;

  // "https://127.0.0.1:<port><path>"
  std::string Url(const std::string& path) const;
  int port() const { return port_; }
  const std::string& ca_file() const { return ca_file_; }              // issued the server's
  const std::string& other_ca_file() const { return other_ca_file_; }  // issued nothing here
  int handshakes() const { return handshakes_; }  // connections whose handshake completed
  int requests() const { return requests_; }

 private:
  bool WaitReadable(int fd);
  void Run();
  void Serve(int fd);

  void* ctx_ = nullptr;  // SSL_CTX*
  std::string ca_file_;
  std::string other_ca_file_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<int> handshakes_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace ferry::testing
