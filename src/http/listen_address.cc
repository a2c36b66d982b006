// ParseListen (listen_address.h).
#include "http/listen_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace ferry::http {

Result<ListenAddress> ParseListen(const std::string& listen, const std::string& option) {
  const Status malformed = Status::InvalidArgument(
      option + ": \"" + listen + "\" is not HOST:PORT, :PORT or PORT");
  const size_t colon = listen.rfind(':');
  ListenAddress out;
  // a port alone (with or without its colon): the loopback interface
  out.host = colon == std::string::npos || colon == 0 ? "127.0.0.1" : listen.substr(0, colon);
  const char* first = listen.data() + (colon == std::string::npos ? 0 : colon + 1);
  const char* last = listen.data() + listen.size();
  const auto parsed = std::from_chars(first, last, out.port);
  if (first == last || parsed.ec != std::errc() || parsed.ptr != last || out.port < 0 ||
      out.port > 65535) {
    return malformed;
  }
  std::string host = out.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0 || found == nullptr) {
    return Status::InvalidArgument(option + ": cannot resolve \"" + host +
                                   "\": " + gai_strerror(rc));
  }
  std::memcpy(&out.address, found->ai_addr, found->ai_addrlen);
  out.ipv6 = found->ai_family == AF_INET6;
  freeaddrinfo(found);
  const uint16_t port = htons(static_cast<uint16_t>(out.port));
  if (out.ipv6) {
    reinterpret_cast<sockaddr_in6*>(&out.address)->sin6_port = port;
  } else {
    reinterpret_cast<sockaddr_in*>(&out.address)->sin_port = port;
  }
  return out;
}

}  // namespace ferry::http
