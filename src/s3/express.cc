#include "s3/express.h"

namespace ferry::s3 {

bool HasDirectoryBucketSuffix(std::string_view bucket) {
  return bucket.size() > kDirectoryBucketSuffix.size() && bucket.ends_with(kDirectoryBucketSuffix);
}

std::string DirectoryBucketZone(std::string_view bucket) {
  if (!HasDirectoryBucketSuffix(bucket)) return {};
  const std::string_view rest = bucket.substr(0, bucket.size() - kDirectoryBucketSuffix.size());
  const size_t cut = rest.rfind("--");
  if (cut == std::string_view::npos || cut == 0 || cut + 2 >= rest.size()) return {};
  return std::string(rest.substr(cut + 2));
}

std::string ZonalEndpoint(std::string_view zone, std::string_view region) {
  return "https://s3express-" + std::string(zone) + "." + std::string(region) + ".amazonaws.com";
}

std::chrono::system_clock::time_point SessionRefreshTime(
    std::chrono::system_clock::time_point now, std::chrono::system_clock::time_point expiration) {
  const auto life = expiration - now;
  if (life <= std::chrono::seconds(0)) return now + std::chrono::minutes(1);
  return now + life * 4 / 5;
}

std::shared_ptr<ExpressSessions::Entry> ExpressSessions::EntryFor(std::string_view bucket) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(bucket);
  if (it == entries_.end()) {
    it = entries_.emplace(std::string(bucket), std::make_shared<Entry>()).first;
  }
  return it->second;
}

Result<Credentials> ExpressSessions::Get(std::string_view bucket, const CreateFn& create) {
  std::shared_ptr<Entry> entry = EntryFor(bucket);
  std::lock_guard lock(entry->mu);
  const auto now = clock_.Now();
  if (entry->valid && now < entry->refresh_at) return entry->credentials;
  Result<SessionCredentials> made = create(bucket);
  if (!made.ok()) {
    entry->valid = false;
    return made.status().WithContext("CreateSession");
  }
  entry->credentials = made->credentials;
  entry->refresh_at = SessionRefreshTime(clock_.Now(), made->expiration);
  entry->valid = true;
  {
    std::lock_guard count(mu_);
    ++created_;
  }
  return entry->credentials;
}

void ExpressSessions::Invalidate(std::string_view bucket, std::string_view token) {
  std::shared_ptr<Entry> entry = EntryFor(bucket);
  std::lock_guard lock(entry->mu);
  if (entry->valid && entry->credentials.session_token == token) entry->valid = false;
}

uint64_t ExpressSessions::created() const {
  std::lock_guard lock(mu_);
  return created_;
}

}  // namespace ferry::s3
