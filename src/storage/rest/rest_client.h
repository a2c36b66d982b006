// The pieces the clients of the REST stores (AzureClient, GcsClient) share: the sink that
// diverts an error reply's body away from the caller's, a reply's Retry-After, and the loop
// that sends a request again after transient failures (retry::Policy, full jitter).
//
// Thread-safety: ReplySink is one request's; the functions are thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <stop_token>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "http/transport.h"
#include "retry/policy.h"

namespace ferry::storage::rest {

// Sends a 2xx reply's body to `target` (or, when it is null, collects it, up to 64 MiB) and
// keeps a non-2xx reply's body (its first 64 KiB) in error(), so that a read buffer never holds
// an error document. Rewind always succeeds: Begin starts each attempt over.
class ReplySink : public http::BodySink {
 public:
  explicit ReplySink(http::BodySink* target) : target_(target) {}
  Status Begin(int status_code, const http::Headers& headers) override;
  Status Write(std::span<const std::byte> data) override;
  bool Rewind() override { return true; }
  // Whether `target` received a body (then a retry must rewind it).
  bool target_began() const { return began_; }
  std::string& error() { return error_; }
  std::string& collected() { return collected_; }

 private:
  http::BodySink* target_;
  bool ok_ = false;
  bool began_ = false;
  std::string error_;
  std::string collected_;
};

// A reply's Retry-After in seconds (at most 60); 0 when absent or not a number.
std::chrono::milliseconds RetryAfter(const http::Headers& headers);

// 64 random bits for the backoff's jitter (one generator per thread).
uint64_t RandomBits();

// What one attempt reports to the retry loop besides its result.
struct Attempt {
  bool began = false;                  // the caller's sink received body bytes
  std::chrono::milliseconds pause{0};  // a failure's Retry-After
  bool again_now = false;              // retry at once, once (a token to refresh)
};

// Calls `once(attempt)` until it succeeds, fails with a non-transient status (unless it set
// again_now), `policy.max_attempts` are used, or `stop` is requested. Between attempts it
// sleeps the backoff (or the reply's Retry-After, whichever is longer) on `clock`; a sink that
// saw part of a failed attempt's body is rewound first, or that failure is returned.
// `retries` counts the attempts sent again.
template <typename Reply, typename Once>
Result<Reply> SendWithRetries(const retry::Policy& policy, Clock& clock, http::BodySink* sink,
                              std::atomic<uint64_t>& retries, std::stop_token stop, Once once) {
  const int max_attempts = std::max(1, policy.max_attempts);
  bool again_now_used = false;
  for (int n = 1;; ++n) {
    Attempt tried;
    Result<Reply> reply = once(tried);
    if (reply.ok()) return reply;
    const Status& failure = reply.status();
    const bool again_now = tried.again_now && !again_now_used;
    if (!again_now && (!failure.transient() || n >= max_attempts || stop.stop_requested())) {
      return failure;
    }
    if (tried.began && (sink == nullptr || !sink->Rewind())) return failure;
    retries.fetch_add(1, std::memory_order_relaxed);
    if (again_now) {
      again_now_used = true;
      continue;
    }
    clock.SleepFor(std::max(tried.pause, retry::BackoffDelay(policy, n, RandomBits())), stop);
    if (stop.stop_requested()) return Status::Cancelled("cancelled while waiting to retry");
  }
}

}  // namespace ferry::storage::rest
