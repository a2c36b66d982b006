// TcpProxy: a loopback TCP relay for tests that need to cut a client off from a real server
// (here: PostgreSQL) at a moment of their choosing, without touching the server. It listens on
// 127.0.0.1 (port 0) and relays every accepted connection to the upstream address.
//
// Used by tests/integration/job_store_pg_test.cc to prove reconnects and the reconnect budget.
// Thread-safe; each relayed direction runs on its own thread.
#pragma once

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ferry::testing {

class TcpProxy {
 public:
  TcpProxy(std::string upstream_host, int upstream_port);
  ~TcpProxy();  // Cut(), then joins every thread
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // The local port; 0 if the proxy could not listen.
  int port() const { return port_; }
  // Drops every relayed connection and closes the listening socket: new connections are
  // refused until Resume.
  void Cut();
  // Listens again on the same port.
  void Resume();

 private:
  void Listen();  // REQUIRES: mu_ held
  void AcceptLoop(int listener);
  void Relay(int from, int to);

  const std::string upstream_host_;
  const int upstream_port_;
  int port_ = 0;
  std::mutex mu_;
  int listener_ = -1;                 // GUARDED_BY(mu_)
  std::vector<int> sockets_;          // GUARDED_BY(mu_): relayed sockets, both ends
  std::vector<std::thread> threads_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::testing
