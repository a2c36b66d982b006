// WaitReadable: the loopback test servers' wait for a socket (a listener's next connection, a
// connection's next bytes) that gives up once their `done` flag is set.
#pragma once

#include <poll.h>

#include <atomic>

namespace ferry::testing {

// True once `fd` is readable; false when `done` becomes true first (checked every 50 ms) or
// poll fails.
inline bool WaitReadable(int fd, const std::atomic<bool>& done) {
  while (!done) {
    pollfd p{fd, POLLIN, 0};
    const int r = poll(&p, 1, 50);
    if (r > 0) return true;
    if (r < 0) return false;
  }
  return false;
}

}  // namespace ferry::testing
