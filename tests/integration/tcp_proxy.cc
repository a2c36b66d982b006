#include "integration/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ferry::testing {

TcpProxy::TcpProxy(std::string upstream_host, int upstream_port)
    : upstream_host_(std::move(upstream_host)), upstream_port_(upstream_port) {
  std::lock_guard lock(mu_);
  Listen();
}

TcpProxy::~TcpProxy() {
  Cut();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  std::lock_guard lock(mu_);
  for (int fd : sockets_) ::close(fd);
}

void TcpProxy::Listen() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return;
  }
  port_ = ntohs(addr.sin_port);
  listener_ = fd;
  threads_.emplace_back([this, fd] { AcceptLoop(fd); });
}

void TcpProxy::Cut() {
  std::lock_guard lock(mu_);
  if (listener_ >= 0) {
    ::shutdown(listener_, SHUT_RDWR);  // wakes accept(); the accept thread closes it
    listener_ = -1;
  }
  for (int fd : sockets_) ::shutdown(fd, SHUT_RDWR);
}

void TcpProxy::Resume() {
  std::lock_guard lock(mu_);
  if (listener_ < 0) Listen();
}

void TcpProxy::AcceptLoop(int listener) {
  for (;;) {
    const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) break;
    const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    ::inet_pton(AF_INET, upstream_host_.c_str(), &addr.sin_addr);
    if (upstream < 0 ||
        ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(client);
      if (upstream >= 0) ::close(upstream);
      continue;
    }
    std::lock_guard lock(mu_);
    if (listener_ != listener) {  // cut while connecting
      ::close(client);
      ::close(upstream);
      break;
    }
    sockets_.push_back(client);
    sockets_.push_back(upstream);
    threads_.emplace_back([this, client, upstream] { Relay(client, upstream); });
    threads_.emplace_back([this, client, upstream] { Relay(upstream, client); });
  }
  ::close(listener);
}

void TcpProxy::Relay(int from, int to) {
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(from, buf, sizeof(buf));
    if (n <= 0) break;
    for (ssize_t sent = 0; sent < n;) {
      const ssize_t w = ::send(to, buf + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      if (w <= 0) {
        ::shutdown(from, SHUT_RDWR);
        return;
      }
      sent += w;
    }
  }
  ::shutdown(to, SHUT_RDWR);  // the other direction ends too
}

}  // namespace ferry::testing
