// TokenBucket: a rate with a burst, for one limit (bytes per second of a direction, requests
// per second of an endpoint). Pure: no clock, no lock; the caller passes the time and holds
// whatever lock it shares the bucket under (limits.h).
//
// Take(n) never refuses: it takes n units now, letting the bucket run into debt, and returns how
// long the caller waits before it goes on (0 while the burst covers it). A caller that comes
// after one in debt sees the debt and waits longer, so takers of a shared bucket are spaced
// out in the order they came, and over any span the units taken stay within
// rate x span + burst. A rate of 0 means no limit (Take always returns 0).
#pragma once

#include <chrono>

namespace ferry::limits {

class TokenBucket {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // A full bucket (burst units ready) at `now`. `burst` below 1 counts as 1.
  TokenBucket(double rate, double burst, Time now);

  // Changes the rate and the burst from `now` on; units already taken (debt) stay taken. A
  // bucket that had no rate starts full.
  void Set(double rate, double burst, Time now);

  // Starts again at `rate` and `burst` from `now`, forgetting every turn given (their takers
  // take one again at the new rate): empty, the next taker goes one unit's time from now (a
  // taker that went just before is not followed at once).
  void Restart(double rate, double burst, Time now);

  // Takes `n` units at `now`; returns the wait before the caller goes on.
  std::chrono::nanoseconds Take(double n, Time now);

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  void Refill(Time now);

  double rate_;
  double burst_;
  double tokens_;  // may be negative: units taken ahead of the rate
  Time last_;
};

}  // namespace ferry::limits
