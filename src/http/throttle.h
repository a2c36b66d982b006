// Throttle: the process-wide limits a transport applies to every request it sends: requests
// per second per endpoint, bytes per second per direction, and pauses an endpoint asked for
// (Retry-After). Implemented by limits::Limits (src/limits); the http module only calls it.
//
// An endpoint is the URL's "host:port" (scheme default port when none is written).
//
// Thread-safety: every method may be called from many threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <stop_token>
#include <string_view>

namespace ferry::http {

enum class Direction { kUp, kDown };

class Throttle {
 public:
  virtual ~Throttle() = default;
  // Before a request to `endpoint` is sent: returns once it may go (at once when no limit
  // binds) or when `stop` is requested.
  virtual void BeforeRequest(std::string_view endpoint, std::stop_token stop) = 0;
  // Before `n` request body bytes are sent (kUp) or after `n` response body bytes arrived
  // (kDown): returns once the direction's rate allows going on, or when `stop` is requested.
  virtual void Bytes(Direction direction, size_t n, std::stop_token stop) = 0;
  // The endpoint asked to be left alone for `pause` (a throttling reply's Retry-After): no
  // request goes to it before then.
  virtual void PauseEndpoint(std::string_view endpoint, std::chrono::milliseconds pause) = 0;
  // Once for every BeforeRequest that returned, when that request is over: `status` is the
  // HTTP status of its reply, 0 when there was none (a network error, a timeout, a stop). The
  // limits learn from it how the endpoint copes (429 and 503 are throttling: limits.h, the
  // adaptive rate).
  virtual void AfterRequest(std::string_view endpoint, int status) {
    (void)endpoint;
    (void)status;
  }
  // After BeforeRequest, before the request is sent: takes one of the process's request slots
  // (the most requests in flight at once), waiting while every slot is taken. Returns whether
  // a slot was taken, which ReleaseSlot gives back once the request is over: false when no
  // slots are set, or when `stop` was requested while waiting. A request holds its slot only
  // while it is sent and answered (its body goes from or into memory, never waiting for
  // another request), so slots cannot deadlock.
  virtual bool TakeSlot(std::stop_token stop) {
    (void)stop;
    return false;
  }
  virtual void ReleaseSlot() {}
};

// "host:port" of an absolute URL (scheme://[user@]host[:port]/...): the port is the scheme's
// default (80, 443) when the URL names none; "" for a URL without "://".
std::string_view EndpointOf(std::string_view url, std::string& storage);

}  // namespace ferry::http
