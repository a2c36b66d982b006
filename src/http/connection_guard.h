// ConnectionGuard: HttpServer's clock on its connections (server.h), apart from libmicrohttpd
// so that it can be tested with made-up times.
//
// libmicrohttpd closes a connection after `idle_seconds` without traffic, but a client that
// sends one byte now and then is never idle (a slowloris): with 64 KiB of headers allowed it
// could hold its connection for most of a day. The guard bounds each request by the clock:
//   - its head (request line and headers; over HTTPS the handshake too) must be in within
//     `header` of the moment the connection began to wait for it (accepted, or its previous
//     request ended);
//   - the whole exchange (head, body, and sending the reply: a client that reads slowly is
//     cut too) within `request` of that moment.
// A connection past a deadline is cut: `cut(fd)` (the server shuts the socket down; the
// library closes the connection at its next read or write).
//
// When more than `high_water` connections are open (the library closes any above its cap at
// once, before the guard hears of it), each new one evicts one connection that has not been
// answered: the one that has waited longest for its head (an idle keep-alive or a trickling
// client), else the one that has waited longest for its body. A client that sends its request
// in one go is read as soon as it is accepted, so a flood of idle connections delays it but
// cannot lock it out.
//
// Thread-safety: every method may be called from any thread. `cut` runs with the guard's lock
// held: the server tells Closed before the library closes a socket, so a descriptor cut is
// always the connection's own (never a number reused by another socket since).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace ferry::http {

struct GuardLimits {
  std::chrono::milliseconds header{std::chrono::seconds(10)};
  std::chrono::milliseconds request{std::chrono::seconds(30)};
  size_t high_water = 0;  // 0: no eviction
};

class ConnectionGuard {
 public:
  using Time = std::chrono::steady_clock::time_point;
  using Id = const void*;  // the library's connection

  struct Counts {
    size_t open = 0;  // connections not cut yet
    uint64_t header_timeouts = 0;
    uint64_t request_timeouts = 0;
    uint64_t evicted = 0;
  };

  ConnectionGuard(GuardLimits limits, std::function<void(int fd)> cut);

  // A connection was accepted: it waits for its first head from `now`. It may evict another.
  void Opened(Id id, int fd, Time now);
  void HeadIn(Id id);    // its request's head is complete (the body may follow)
  void Answered(Id id);  // its request was answered: the reply is being sent
  void Ended(Id id, Time now);  // its request ended: it waits for the next head from `now`
  void Closed(Id id);    // before the library closes the socket
  // Cuts every connection past a deadline at `now`; returns how many.
  size_t Sweep(Time now);
  Counts counts() const;

 private:
  enum class Phase { kHead, kBody, kReply };
  struct Entry {
    int fd = -1;
    Phase phase = Phase::kHead;
    Time since;
    bool cut = false;
  };
  void CutLocked(Entry& e);  // REQUIRES(mu_)
  void EvictOneLocked(Id spare);  // REQUIRES(mu_)

  const GuardLimits limits_;
  const std::function<void(int)> cut_;
  mutable std::mutex mu_;
  std::map<Id, Entry> entries_;  // GUARDED_BY(mu_)
  Counts counts_;                // GUARDED_BY(mu_)
};

}  // namespace ferry::http
