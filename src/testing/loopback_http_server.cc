#include "testing/loopback_http_server.h"

#include "testing/wait_readable.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace ferry::testing {

bool ReceivedRequest::Has(const std::string& lower_name) const {
  for (const auto& h : headers) {
    if (h.first == lower_name) return true;
  }
  return false;
}

std::string ReceivedRequest::Get(const std::string& lower_name) const {
  for (const auto& h : headers) {
    if (h.first == lower_name) return h.second;
  }
  return "<absent>";
}

LoopbackHttpServer::LoopbackHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 16) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("LoopbackHttpServer");
    std::abort();  // a test fixture that cannot listen on loopback is a broken environment
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  done_ = true;
  thread_.join();
  close(listen_fd_);
}

std::string LoopbackHttpServer::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<ReceivedRequest> LoopbackHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

bool LoopbackHttpServer::WaitReadable(int fd) { return ferry::testing::WaitReadable(fd, done_); }

void LoopbackHttpServer::Run() {
  while (WaitReadable(listen_fd_)) {
    const int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++connections_;
    Serve(fd);
    close(fd);
  }
}

void LoopbackHttpServer::Serve(int fd) {
  std::string buffer;
  char chunk[65536];
  auto fill = [&] {
    if (!WaitReadable(fd)) return false;
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  };
  for (;;) {
    size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return;
    }
    ReceivedRequest req;
    const std::string head = buffer.substr(0, end);
    buffer.erase(0, end + 4);
    const size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
    req.method = request_line.substr(0, sp1);
    req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      const std::string line = head.substr(pos, e - pos);
      pos = e + 2;
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = colon == std::string::npos ? std::string() : line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers.emplace_back(std::move(name), std::move(value));
    }
    const size_t length = req.Has("content-length")
                              ? std::strtoul(req.Get("content-length").c_str(), nullptr, 10)
                              : 0;
    while (buffer.size() < length) {
      if (!fill()) return;
    }
    req.body = buffer.substr(0, length);
    buffer.erase(0, length);
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
    }
    bool close_after = false;
    const std::string reply = handler_(req, close_after);
    if (!reply.empty()) send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    if (close_after) return;
  }
}

}  // namespace ferry::testing
