// Plain sockets for HttpServer's tests (server_test.cc, server_guard_test.cc): a client on
// 127.0.0.1 that sends raw bytes and reads what the server answers. Tests only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace ferry::http::test_sockets {

// A connected socket to 127.0.0.1:port whose reads give up after `timeout_s` (a failing test
// says so, never hangs); -1 when the connection is refused.
inline int Connect(int port, int timeout_s = 5) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval wait{.tv_sec = timeout_s, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
  return fd;
}

// Sends what it can of `raw` (the server may answer and close before reading all of a large
// body); the bytes sent.
inline size_t SendAll(int fd, const std::string& raw) {
  size_t sent = 0;
  while (sent < raw.size()) {
    const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  return sent;
}

// Everything the server answers until it closes (or the read times out).
inline std::string ReadAll(int fd) {
  std::string reply;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  return reply;
}

// Sends `raw` on a new connection and returns the whole answer.
inline std::string Exchange(int port, const std::string& raw) {
  const int fd = Connect(port);
  if (fd < 0) return "connect failed";
  SendAll(fd, raw);
  std::string reply = ReadAll(fd);
  ::close(fd);
  return reply;
}

}  // namespace ferry::http::test_sockets
