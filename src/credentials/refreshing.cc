#include "credentials/refreshing.h"

#include <algorithm>

#include "obs/log.h"
#include "s3/time_format.h"

namespace ferry::credentials {

using std::chrono::system_clock;

RefreshingProvider::RefreshingProvider(std::unique_ptr<Source> source, RefreshOptions options)
    : source_(std::move(source)),
      options_(options),
      clock_(ClockOr(options.clock)) {}


uint64_t RefreshingProvider::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

bool RefreshingProvider::UsableLocked(system_clock::time_point now) const {
  return current_.has_value() && !stale_ && !(current_->expiration && now >= *current_->expiration);
}

system_clock::duration RefreshingProvider::FailureBackoffLocked() const {
  system_clock::duration wait = options_.failure_backoff;
  for (int i = 1; i < failures_ && wait < options_.failure_backoff_max; ++i) wait *= 2;
  return std::min<system_clock::duration>(wait, options_.failure_backoff_max);
}

Status RefreshingProvider::FetchLocked(std::unique_lock<std::mutex>& lock) {
  fetching_ = true;
  lock.unlock();
  Result<Expiring> got = source_->Fetch();
  const system_clock::time_point now = clock_.Now();
  if (got.ok() && got->expiration && *got->expiration <= now) {
    got = Status::Unavailable(source_->Describe() + " gave credentials that expired at " +
                              s3::FormatIso8601(*got->expiration));
  }
  if (got.ok() && got->credentials.anonymous()) {
    got = Status::InvalidArgument(source_->Describe() + " gave no access key id");
  }
  lock.lock();
  fetching_ = false;
  ++generation_;
  if (!got.ok()) {
    last_error_ = got.status();
    if (UsableLocked(now)) {
      next_try_ = now + options_.retry_after;  // the current set still signs meanwhile
    } else {
      // nothing to hand out: without a wait every caller would fetch again at once
      ++failures_;
      next_try_ = now + FailureBackoffLocked();
    }
    cv_.notify_all();
    return last_error_;
  }
  ++fetches_;
  last_error_ = Status::Ok();
  failures_ = 0;
  current_ = *std::move(got);
  fetched_at_ = now;
  stale_ = false;
  warned_ = false;
  times_.reset();
  if (current_->expiration) {
    const auto lifetime = *current_->expiration - now;
    const auto ahead = std::min<system_clock::duration>(options_.refresh_ahead, lifetime / 2);
    const auto must = std::min<system_clock::duration>(options_.must_ahead, lifetime / 8);
    times_ = Times{*current_->expiration - ahead, *current_->expiration - must};
  }
  cv_.notify_all();
  return Status::Ok();
}

Result<s3::Credentials> RefreshingProvider::Get() {
  std::unique_lock lock(mu_);
  for (;;) {
    const system_clock::time_point now = clock_.Now();
    const bool usable = UsableLocked(now);
    if (usable) {
      const bool must = times_ && now >= times_->must_refresh_at;
      const bool due = times_ && now >= times_->refresh_at;
      if (!due || now < next_try_) return current_->credentials;
      if (fetching_ && !must) return current_->credentials;  // another caller refreshes
    } else if (!fetching_ && !last_error_.ok() && now < next_try_) {
      return last_error_;  // nothing usable and the last fetch failed: backing off
    }
    if (fetching_) {
      // Nothing usable (or about to expire): wait for the fetch under way, and take its result.
      const uint64_t seen = generation_;
      cv_.wait(lock, [&] { return !fetching_; });
      if (generation_ != seen && !last_error_.ok() && !UsableLocked(clock_.Now())) {
        return last_error_;
      }
      continue;
    }
    Status s = FetchLocked(lock);
    if (s.ok()) return current_->credentials;
    if (!UsableLocked(clock_.Now())) return s;
    if (!warned_) {
      warned_ = true;
      obs::Log(obs::Level::kWarn,
               "could not refresh credentials ahead of their expiry; signing with the current "
               "ones until " +
                   s3::FormatIso8601(*current_->expiration) + ": " + s.message(),
               {{"source", source_->Describe()}});
    }
    return current_->credentials;
  }
}

void RefreshingProvider::Expired(const s3::Credentials& used) {
  std::lock_guard lock(mu_);
  if (!current_ || current_->credentials.access_key_id != used.access_key_id ||
      current_->credentials.session_token != used.session_token) {
    return;  // already replaced
  }
  // Just fetched: the refusal is about what these credentials may do, not about their age.
  if (clock_.Now() - fetched_at_ < options_.retry_after) return;
  stale_ = true;
}

}  // namespace ferry::credentials
