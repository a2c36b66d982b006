#include "s3/express.h"

namespace ferry::s3 {

std::string_view SessionModeName(SessionMode mode) {
  return mode == SessionMode::kReadOnly ? "ReadOnly" : "ReadWrite";
}

SessionMode SessionModeFor(std::string_view operation) {
  for (std::string_view read : {"GetObject", "HeadObject", "ListObjectsV2", "GetObjectAttributes",
                                "ListParts", "ListMultipartUploads"}) {
    if (operation == read) return SessionMode::kReadOnly;
  }
  return SessionMode::kReadWrite;
}

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

std::shared_ptr<ExpressSessions::Entry> ExpressSessions::EntryFor(std::string_view bucket,
                                                                   SessionMode mode) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(std::string(bucket), mode);
  auto it = entries_.find(key);
  if (it == entries_.end()) it = entries_.emplace(std::move(key), std::make_shared<Entry>()).first;
  return it->second;
}

Result<Credentials> ExpressSessions::Get(std::string_view bucket, SessionMode mode,
                                         const CreateFn& create) {
  if (mode == SessionMode::kReadOnly) {
    // A read may use the bucket's ReadWrite session (never the other way round).
    std::shared_ptr<Entry> rw = EntryFor(bucket, SessionMode::kReadWrite);
    std::unique_lock lock(rw->mu, std::try_to_lock);  // one being created: not waited for
    if (lock.owns_lock() && rw->valid && clock_.Now() < rw->refresh_at) return rw->credentials;
  }
  std::shared_ptr<Entry> entry = EntryFor(bucket, mode);
  std::lock_guard lock(entry->mu);
  const auto now = clock_.Now();
  if (entry->valid && now < entry->refresh_at) return entry->credentials;
  Result<SessionCredentials> made = create(bucket, mode);
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
  for (SessionMode mode : {SessionMode::kReadOnly, SessionMode::kReadWrite}) {
    std::shared_ptr<Entry> entry = EntryFor(bucket, mode);
    std::lock_guard lock(entry->mu);
    if (entry->valid && entry->credentials.session_token == token) entry->valid = false;
  }
}

uint64_t ExpressSessions::created() const {
  std::lock_guard lock(mu_);
  return created_;
}

void PartChecksums::Put(std::string_view upload_id, int part_number, std::string checksum) {
  std::lock_guard lock(mu_);
  auto first = parts_.lower_bound(std::make_pair(std::string(upload_id), 0));
  if (first == parts_.end() || first->first.first != upload_id) {
    order_.emplace_back(upload_id);  // a new upload
  }
  parts_[{std::string(upload_id), part_number}] = std::move(checksum);
  while (parts_.size() > kMaxParts && order_.size() > 1) {
    const std::string oldest = std::move(order_.front());
    order_.pop_front();
    if (oldest != upload_id) ForgetLocked(oldest);
  }
  // Uploads forgotten since keep their place in order_: drop those places once they are most.
  if (order_.size() > 64 && order_.size() > 2 * parts_.size()) {
    std::deque<std::string> live;
    for (std::string& id : order_) {
      auto it = parts_.lower_bound(std::make_pair(id, 0));
      if (it != parts_.end() && it->first.first == id) live.push_back(std::move(id));
    }
    order_.swap(live);
  }
}

std::optional<std::string> PartChecksums::Get(std::string_view upload_id, int part_number) const {
  std::lock_guard lock(mu_);
  auto it = parts_.find(std::make_pair(std::string(upload_id), part_number));
  if (it == parts_.end()) return std::nullopt;
  return it->second;
}

void PartChecksums::Forget(std::string_view upload_id) {
  std::lock_guard lock(mu_);
  ForgetLocked(upload_id);
}

void PartChecksums::ForgetLocked(std::string_view upload_id) {
  auto it = parts_.lower_bound(std::make_pair(std::string(upload_id), 0));
  while (it != parts_.end() && it->first.first == upload_id) it = parts_.erase(it);
}

size_t PartChecksums::size() const {
  std::lock_guard lock(mu_);
  return parts_.size();
}

}  // namespace ferry::s3
