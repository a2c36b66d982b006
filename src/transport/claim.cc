// Claims by generation (contract in claim.h).
#include "transport/claim.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <vector>

#include "checksum/checksum.h"

namespace ferry::transport {
namespace {

std::string GenerationKey(std::string_view prefix, uint64_t n) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%010llu", static_cast<unsigned long long>(n));
  return std::string(prefix) + digits;
}

std::string BodyOf(const ClaimGeneration& g) {
  nlohmann::json j = {{"owner", g.owner},
                      {"ttl_ms", g.ttl.count()},
                      {"watermark", nullptr},
                      {"entries", g.entries},
                      {"done", g.done}};
  if (g.watermark) j["watermark"] = *g.watermark;
  return j.dump();
}

// A generation's body as Create wrote it. Anyone who can write to staging can put anything
// there: every member is checked for its type (a member of another type is "not a claim", one
// line, never an exception).
// The largest body a generation may have.
constexpr uint64_t kMaxBody = 64 * 1024;

Result<ClaimGeneration> ParseBody(const std::string& body, uint64_t n, const std::string& key) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  auto typed = [&j](const char* name, bool (nlohmann::json::*is)() const noexcept,
                    bool required) {
    auto it = j.find(name);
    return it == j.end() ? !required : ((*it).*is)();
  };
  if (j.is_discarded() || !j.is_object() ||
      !typed("owner", &nlohmann::json::is_string, true) ||
      !typed("ttl_ms", &nlohmann::json::is_number_integer, true) ||
      (j.contains("watermark") && !j["watermark"].is_null() &&
       !j["watermark"].is_number_unsigned()) ||
      !typed("entries", &nlohmann::json::is_number_unsigned, false) ||
      !typed("done", &nlohmann::json::is_boolean, false)) {
    return Status::DataLoss("claim " + key + " is not a claim: " + body.substr(0, 100));
  }
  ClaimGeneration g;
  g.n = n;
  g.owner = j["owner"].get<std::string>();
  g.ttl = std::chrono::milliseconds(j["ttl_ms"].get<int64_t>());
  if (j.contains("watermark") && !j["watermark"].is_null()) {
    g.watermark = j["watermark"].get<uint64_t>();
  }
  g.entries = j.value("entries", uint64_t{0});
  g.done = j.value("done", false);
  return g;
}

Result<std::string> ReadBody(storage::Backend& staging, const std::string& key,
                             std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(storage::ObjectInfo info, staging.Stat(key, false, stop));
  if (info.size > kMaxBody) {  // what Create writes is a few hundred bytes
    return Status::DataLoss("claim " + key + " is not a claim: " + std::to_string(info.size) +
                            " bytes");
  }
  std::string body(info.size, '\0');
  FERRY_RETURN_IF_ERROR(
      staging.ReadObject(key, std::as_writable_bytes(std::span<char>(body)), "", stop).status());
  return body;
}

// Creates `key` with `body` only if absent. kAlreadyExists when another creator has it; a
// refusal of a key holding this very body (our own earlier attempt, stored before its reply
// was lost) counts as created.
Status Create(storage::Backend& staging, const std::string& key, const std::string& body,
              std::stop_token stop) {
  storage::WriteSpec spec;
  spec.size = body.size();
  spec.if_absent = true;
  spec.content.content_type = "application/json";
  Status s = staging.Put(key, checksum::AsBytes(body), spec, stop).status();
  if (s.code() != ErrorCode::kAlreadyExists) return s;
  auto there = ReadBody(staging, key, stop);
  if (there.ok() && *there == body) return Status::Ok();
  return s;
}

struct Newest {
  uint64_t n = 0;
  std::string key;
  std::chrono::system_clock::time_point mtime;
};

// The newest generation under `prefix`, or nullopt when the chain is empty.
Result<std::optional<Newest>> FindNewest(storage::Backend& staging, const std::string& prefix) {
  FERRY_ASSIGN_OR_RETURN(auto cursor, staging.List(prefix));
  std::optional<Newest> newest;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    if (o->key.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string tail = o->key.substr(prefix.size());
    // Generation numbers are ours: anything else under the prefix (not all digits, or past
    // 64 bits) is not a generation and is passed over.
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), n);
    if (tail.empty() || ec != std::errc() || end != tail.data() + tail.size()) continue;
    if (!newest || n > newest->n) newest = Newest{n, o->key, o->mtime};
  }
  return newest;
}

}  // namespace

std::string ClaimPrefix(std::string_view archive, std::string_view region) {
  return std::string(archive) + ".claim/" + (region.empty() ? std::string("-") : std::string(region)) +
         "/";
}

bool IsClaim(std::string_view key) { return key.find(kClaimInfix) != std::string_view::npos; }

std::string NewOwnerId() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  const uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char id[300];
  std::snprintf(id, sizeof id, "%s:%d:%016llx", host, static_cast<int>(getpid()),
                static_cast<unsigned long long>(r));
  return id;
}

Result<bool> ProbeCreateOnly(storage::Backend& staging, std::string_view owner,
                             std::stop_token stop) {
  if (!staging.features().put_if_absent) return false;
  if (auto t = staging.ServerTime(stop); !t.ok()) {
    if (t.status().code() == ErrorCode::kNotSupported) return false;
    return t.status();
  }
  std::string key = "ferry-create-only-probe-" + std::string(owner) + ".tmp";
  for (char& c : key) {
    if (c == ':' || c == '/') c = '-';
  }
  storage::WriteSpec spec;
  spec.size = 1;
  spec.if_absent = true;
  Status first = staging.Put(key, checksum::AsBytes(std::string_view("1")), spec, stop).status();
  if (first.code() == ErrorCode::kNotSupported) return false;
  FERRY_RETURN_IF_ERROR(first.WithContext("create-only probe"));
  Status second = staging.Put(key, checksum::AsBytes(std::string_view("2")), spec, stop).status();
  FERRY_RETURN_IF_ERROR(staging.Delete(key, stop));
  if (second.ok()) return false;  // the header was ignored
  if (second.code() == ErrorCode::kAlreadyExists) return true;
  if (second.code() == ErrorCode::kNotSupported) return false;
  return second.WithContext("create-only probe");
}

Claim::Claim(storage::Backend& staging, std::string archive, ClaimOptions options,
             std::stop_token stop)
    : staging_(staging),
      archive_(std::move(archive)),
      options_(std::move(options)),
      stop_(std::move(stop)) {}

Clock& Claim::clock() const {
  return ClockOr(options_.clock);
}

Result<std::unique_ptr<Claim>> Claim::Acquire(storage::Backend& staging,
                                              const std::string& archive,
                                              const ClaimOptions& options, Outcome* outcome,
                                              std::stop_token stop) {
  *outcome = Outcome::kHeld;
  const std::string prefix = ClaimPrefix(archive, options.region);
  FERRY_ASSIGN_OR_RETURN(std::optional<Newest> newest, FindNewest(staging, prefix));
  std::unique_ptr<Claim> claim(new Claim(staging, archive, options, stop));
  uint64_t next = 0;
  if (newest) {
    auto body = ReadBody(staging, newest->key, stop);
    // Deleted since the listing: its owner released the chain; a later listing looks again.
    if (!body.ok() && body.status().code() == ErrorCode::kNotFound) return std::unique_ptr<Claim>();
    FERRY_RETURN_IF_ERROR(body.status().WithContext("claim " + newest->key));
    FERRY_ASSIGN_OR_RETURN(ClaimGeneration g, ParseBody(*body, newest->n, newest->key));
    if (g.done) {
      *outcome = Outcome::kDone;
      return std::unique_ptr<Claim>();
    }
    // Both times are the store's: its clock now against the time it stored the generation.
    FERRY_ASSIGN_OR_RETURN(auto now, staging.ServerTime(stop));
    if (now - newest->mtime < g.ttl) return std::unique_ptr<Claim>();  // live: held
    claim->carried_ = g.watermark;
    claim->watermark_ = g.watermark;
    claim->entries_ = g.entries;
    next = newest->n + 1;
  }
  std::lock_guard lock(claim->mu_);
  claim->next_ = next;
  Status s = claim->RenewLocked();
  if (s.code() == ErrorCode::kAlreadyExists || s.code() == ErrorCode::kFailedPrecondition) {
    return std::unique_ptr<Claim>();  // another taker (or the owner's renewal) won
  }
  FERRY_RETURN_IF_ERROR(s);
  *outcome = Outcome::kOwned;
  return claim;
}

Status Claim::RenewLocked() {
  if (lost_) {
    return Status::FailedPrecondition("claim on " + archive_ + " lost to another unpacker");
  }
  const bool first = !has_generation_;
  ClaimGeneration g{.n = first ? next_ : n_ + 1,
                    .owner = options_.owner,
                    .ttl = options_.ttl,
                    .watermark = watermark_,
                    .entries = entries_,
                    .done = done_};
  const std::string prefix = ClaimPrefix(archive_, options_.region);
  const std::string key = GenerationKey(prefix, g.n);
  const Clock::MonoTime before = clock().MonoNow();
  Status s = Create(staging_, key, BodyOf(g), stop_);
  if (s.code() == ErrorCode::kAlreadyExists) {
    lost_ = true;
    return Status::FailedPrecondition("claim on " + archive_ + " lost to another unpacker (" +
                                      "generation " + std::to_string(g.n) + " taken)");
  }
  FERRY_RETURN_IF_ERROR(s.WithContext("claim on " + archive_));
  if (!first) {
    // n+1 is free also when a successor finished and released the chain (Release deletes
    // oldest first, so n is gone by then): our previous generation must still be there.
    auto previous = staging_.Stat(GenerationKey(prefix, n_), false, stop_);
    if (!previous.ok() && previous.status().code() == ErrorCode::kNotFound) {
      lost_ = true;
      (void)staging_.Delete(key, stop_);
      return Status::FailedPrecondition("claim on " + archive_ +
                                        " lost to another unpacker (released by it)");
    }
    FERRY_RETURN_IF_ERROR(previous.status().WithContext("claim on " + archive_));
  }
  has_generation_ = true;
  n_ = g.n;
  granted_ = before;
  return Status::Ok();
}

std::optional<uint64_t> Claim::carried() const { return carried_; }

uint64_t Claim::generation() const {
  std::lock_guard lock(mu_);
  return n_;
}

bool Claim::lost() const {
  std::lock_guard lock(mu_);
  return lost_;
}

Status Claim::Fence() {
  std::lock_guard lock(mu_);
  if (lost_) {
    return Status::FailedPrecondition("claim on " + archive_ + " lost to another unpacker");
  }
  const auto age = clock().MonoNow() - granted_;
  if (age >= options_.ttl / 3) {
    Status s = RenewLocked();
    if (!s.ok() && (lost_ || age >= options_.ttl / 2)) return s;
    // A transient failure to renew while the lease is young enough: write, renew next time.
  }
  if (clock().MonoNow() - granted_ >= options_.ttl / 2) {
    return Status::FailedPrecondition("claim on " + archive_ +
                                      ": lease past half its ttl, not renewed");
  }
  return Status::Ok();
}

Status Claim::Record(uint64_t written, uint64_t entries, bool done) {
  std::lock_guard lock(mu_);
  const std::optional<uint64_t> before = watermark_;
  const uint64_t entries_before = entries_;
  const bool done_before = done_;
  watermark_ = written;
  entries_ = entries;
  done_ = done;
  Status s = RenewLocked();
  if (!s.ok()) {
    watermark_ = before;
    entries_ = entries_before;
    done_ = done_before;
  }
  return s;
}

Status Claim::Release() {
  const std::string prefix = ClaimPrefix(archive_, options_.region);
  FERRY_ASSIGN_OR_RETURN(auto cursor, staging_.List(prefix));
  // Oldest first (generations list in order), one at a time: a stalled owner whose renewal
  // finds n+1 free then finds its own n gone too (RenewLocked), never a chain that looks like
  // its own. At most kReleaseBatch keys are held: deleted as the listing goes on, so a chain
  // grown huge (hostile, or generations of a long life) costs no more memory.
  constexpr size_t kReleaseBatch = 1000;
  std::vector<std::string> keys;
  auto remove = [&]() {
    for (const std::string& k : keys) FERRY_RETURN_IF_ERROR(staging_.Delete(k, stop_));
    keys.clear();
    return Status::Ok();
  };
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    if (o->key.compare(0, prefix.size(), prefix) == 0) keys.push_back(o->key);
    if (keys.size() >= kReleaseBatch) FERRY_RETURN_IF_ERROR(remove());
  }
  return remove();
}

}  // namespace ferry::transport
