// ParseListen: the address a listener binds (server.h), from what a user wrote.
//
//   HOST:PORT      HOST a name (resolved with getaddrinfo: its first address), an IPv4
//                  address, or an IPv6 one in brackets ([::1]:9380); 0.0.0.0 or [::] for every
//                  interface, which must be written out
//   PORT, :PORT    127.0.0.1: a listener is reachable from this machine only unless told
//                  otherwise
// PORT is 0 (any free port) to 65535. kInvalidArgument, naming `option`, for anything else or
// a host that does not resolve.
#pragma once

#include <sys/socket.h>

#include <string>

#include "base/status.h"

namespace ferry::http {

struct ListenAddress {
  sockaddr_storage address{};  // with the port
  bool ipv6 = false;
  int port = 0;
  std::string host;  // as written, brackets kept ("127.0.0.1" for a port alone)
};

Result<ListenAddress> ParseListen(const std::string& listen, const std::string& option);

}  // namespace ferry::http
