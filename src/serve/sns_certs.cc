// SnsCertCache (sns_certs.h): SNS signing certificates by URL, fetched when missing or expired,
// kept once a signature verified with them.
#include "serve/sns_certs.h"

#include <algorithm>
#include <utility>

#include "events/errors.h"
#include "events/sns.h"

namespace ferry::serve {

SnsCertCache::SnsCertCache(http::HttpTransport& transport, Clock& clock,
                           SnsCertCacheOptions options)
    : transport_(transport), clock_(clock), options_(options) {}

uint64_t SnsCertCache::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

size_t SnsCertCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::optional<std::string> SnsCertCache::Cached(const std::string& url) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(url);
  if (it == entries_.end()) return std::nullopt;
  if (clock_.Now() < it->second.not_after) {
    it->second.last_used = ++uses_;
    return it->second.pem;
  }
  entries_.erase(it);  // expired: fetched again (SNS may have put a new one there)
  return std::nullopt;
}

Result<std::string> SnsCertCache::Fetch(const std::string& url, std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(events::CheckSigningCertUrl(url));
  FERRY_RETURN_IF_ERROR(TakeFetchBudget());
  FERRY_ASSIGN_OR_RETURN(std::string pem, Download(url, stop));
  FERRY_RETURN_IF_ERROR(events::SnsCertificateNotAfter(pem, clock_.Now()).status());
  return pem;
}

void SnsCertCache::Keep(const std::string& url, const std::string& pem) {
  Result<std::chrono::system_clock::time_point> not_after =
      events::SnsCertificateNotAfter(pem, clock_.Now());
  if (!not_after.ok()) return;
  std::lock_guard lock(mu_);
  KeepLocked(url, {.pem = pem, .not_after = *not_after, .last_used = ++uses_});
}

Status SnsCertCache::TakeFetchBudget() {
  std::lock_guard lock(mu_);
  const Clock::MonoTime now = clock_.MonoNow();
  while (!recent_fetches_.empty() && now - recent_fetches_.front() >= std::chrono::minutes(1)) {
    recent_fetches_.pop_front();
  }
  if (recent_fetches_.size() >= options_.max_fetches_per_minute) {
    return Status::Unavailable(
        "too many SNS certificate fetches in the last minute (" +
        std::to_string(options_.max_fetches_per_minute) + ")");
  }
  recent_fetches_.push_back(now);
  ++fetches_;
  return Status::Ok();
}

Result<std::string> SnsCertCache::Download(const std::string& url, std::stop_token stop) {
  http::HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.timeout_ms = options_.timeout_ms;
  http::StringSink sink(options_.max_bytes);
  Result<http::HttpResponse> response = transport_.Send(request, sink, stop);
  if (!response.ok()) {
    if (response.status().code() == ErrorCode::kCancelled) return response.status();
    if (response.status().code() == ErrorCode::kDataLoss) {
      return events::Refuse(events::Reason::kBadCertificate,
                            url + " answered more than " + std::to_string(options_.max_bytes) +
                                " bytes: not a certificate");
    }
    return Status::Unavailable("cannot fetch " + url + ": " +
                               response.status().message());
  }
  const int code = response->status_code;
  if (code >= 500 || code == 429) {
    return Status::Unavailable(url + " answered " + std::to_string(code));
  }
  if (code != 200) {
    return events::Refuse(events::Reason::kBadCertificate,
                          url + " answered " + std::to_string(code));
  }
  return std::move(sink.body());
}

void SnsCertCache::KeepLocked(const std::string& url, Entry entry) {
  const auto now = clock_.Now();
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.not_after <= now; });
  while (!entries_.empty() && entries_.size() >= options_.capacity && !entries_.count(url)) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; });
    entries_.erase(oldest);
  }
  if (options_.capacity > 0) entries_[url] = std::move(entry);
}

}  // namespace ferry::serve
