// RefreshingProvider: an s3::CredentialsProvider over a Source of temporary credentials that
// hands out the current set and fetches the next one before it expires, without a gap for the
// requests in flight (the AWS SDKs' advisory and mandatory refresh):
//
//   fetched ........ refresh_at ............ must_refresh_at ...... expiration
//   current set      one caller fetches       every caller waits     (never used past it)
//                    while the others keep    for the new set
//                    signing with the current
//
// refresh_at = expiration - min(refresh_ahead (5 min), lifetime / 2); must_refresh_at =
// expiration - min(must_ahead (1 min), lifetime / 8). Exactly one thread fetches at a time
// (the one that found the set due; no thread of its own: one engine). An advisory fetch that
// fails keeps the current set, logs one warning, and is tried again after `retry_after`
// (10 s); a mandatory one that fails returns its error to every caller waiting (the S3 client
// retries kUnavailable like any transient failure). With nothing usable left (expired, never
// fetched, refused by the store), a failed fetch is not repeated by every caller: until
// `failure_backoff` (1 s) has passed, doubled at each further failure up to
// `failure_backoff_max` (30 s), callers get the last error at once, without a fetch, so an
// outage of STS, IMDS or a helper costs about one fetch per 30 s, not one per request. A
// success resets the backoff. Sets without an expiration are fetched once. Expired(used) (a
// store refused `used`) makes the next Get fetch (once the backoff allows), unless the set was
// fetched less than `retry_after` ago (then the refusal was not about expiry).
//
// Time is read through the Clock given (tests: testing::FakeClock). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "base/clock.h"
#include "credentials/source.h"
#include "s3/client.h"

namespace ferry::credentials {

struct RefreshOptions {
  Clock* clock = nullptr;  // null: the system clock (ClockOr)
  std::chrono::seconds refresh_ahead{300};
  std::chrono::seconds must_ahead{60};
  std::chrono::seconds retry_after{10};
  // After a failed fetch that left nothing usable: the first wait, doubled up to the cap.
  std::chrono::milliseconds failure_backoff{1000};
  std::chrono::milliseconds failure_backoff_max{30000};
};

class RefreshingProvider : public s3::CredentialsProvider {
 public:
  explicit RefreshingProvider(std::unique_ptr<Source> source, RefreshOptions options = {});

  Result<s3::Credentials> Get() override;
  void Expired(const s3::Credentials& used) override;

  // Sets fetched so far (for tests and the run's summary).
  uint64_t fetches() const;
  const Source& source() const { return *source_; }

 private:
  struct Times {
    std::chrono::system_clock::time_point refresh_at;
    std::chrono::system_clock::time_point must_refresh_at;
  };
  // Fetches with mu_ released; `lock` holds mu_ on entry and return.
  Status FetchLocked(std::unique_lock<std::mutex>& lock);
  // Whether the current set may be handed out at `now`. Needs mu_.
  bool UsableLocked(std::chrono::system_clock::time_point now) const;
  // The wait after the failures_-th failure in a row with nothing usable. Needs mu_.
  std::chrono::system_clock::duration FailureBackoffLocked() const;

  std::unique_ptr<Source> source_;
  RefreshOptions options_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Expiring> current_;                  // GUARDED_BY(mu_)
  std::chrono::system_clock::time_point fetched_at_;  // GUARDED_BY(mu_)
  std::optional<Times> times_;                        // GUARDED_BY(mu_); null: never expires
  bool fetching_ = false;                             // GUARDED_BY(mu_)
  bool stale_ = false;                                // GUARDED_BY(mu_): Expired() said so
  std::chrono::system_clock::time_point next_try_;    // GUARDED_BY(mu_): after a failed fetch
  int failures_ = 0;  // GUARDED_BY(mu_): failed fetches in a row that left nothing usable
  uint64_t fetches_ = 0;                              // GUARDED_BY(mu_)
  uint64_t generation_ = 0;                           // GUARDED_BY(mu_): fetches ended
  Status last_error_;                                 // GUARDED_BY(mu_): of the last fetch
  bool warned_ = false;                               // GUARDED_BY(mu_)
};

}  // namespace ferry::credentials
