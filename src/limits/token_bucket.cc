#include "limits/token_bucket.h"

#include <algorithm>

namespace ferry::limits {

TokenBucket::TokenBucket(double rate, double burst, Time now)
    : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {}

void TokenBucket::Set(double rate, double burst, Time now) {
  Refill(now);
  const bool was_unlimited = rate_ <= 0;
  rate_ = rate;
  burst_ = std::max(1.0, burst);
  // a limit set where there was none starts with a full bucket, as a new one does
  tokens_ = was_unlimited ? burst_ : std::min(tokens_, burst_);
  last_ = std::max(last_, now);
}

void TokenBucket::Restart(double rate, double burst, Time now) {
  rate_ = rate;
  burst_ = std::max(1.0, burst);
  tokens_ = rate_ > 0 ? 0 : burst_;
  last_ = now;
}

void TokenBucket::Refill(Time now) {
  if (now > last_) {
    const double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + seconds * rate_);
    last_ = now;
  }
}

std::chrono::nanoseconds TokenBucket::Take(double n, Time now) {
  if (rate_ <= 0) return std::chrono::nanoseconds(0);
  Refill(now);
  tokens_ -= n;
  if (tokens_ >= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<long long>(-tokens_ / rate_ * 1e9));
}

}  // namespace ferry::limits
