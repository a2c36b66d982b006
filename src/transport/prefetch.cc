#include "transport/prefetch.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include "checksum/checksum.h"
#include "transfer/verify.h"

namespace ferry::transport {
namespace {

// A GET gives the modification time in whole seconds (Last-Modified), a listing in
// milliseconds: the listing's is kept (as a plain copy keeps it) when it is the same second, or
// when the GET read the very object listed (same ETag): a store whose listing dates an object
// a little apart from its GET (an index written after the object), across a second's boundary,
// would otherwise leave a copy that looks changed to every later listing (seen once in
// transport_test.sh: one object of eleven copied again by the second run).
void KeepListedTime(const storage::ObjectInfo& listed, storage::ObjectInfo& object) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  if (object.metadata.count(storage::kMetaMtime) != 0) return;
  if ((!listed.etag.empty() && listed.etag == object.etag) ||
      duration_cast<seconds>(listed.mtime.time_since_epoch()) ==
          duration_cast<seconds>(object.mtime.time_since_epoch())) {
    object.mtime = listed.mtime;
  }
}

}  // namespace

namespace {

void ReadWholeOnce(storage::Backend& src, const storage::ObjectInfo& listed, bool by_version,
                   std::stop_token stop, ReadObject& r);

// ReadWhole into `r`, whose bytes buffer may already hold capacity to reuse.
void ReadWholeInto(storage::Backend& src, const storage::ObjectInfo& listed, bool by_version,
                   std::stop_token stop, ReadObject& r) {
  // One GET gives the bytes and every detail (tags too when the object has any). Not pinned to
  // the listed ETag: what is read is what the entry describes.
  // Bytes that do not match what the object declares (its CRC32C, MD5 ETag, multipart ETag in
  // a likely layout) were corrupted on the way: read again, a few times, as sync does; never
  // packed (the archive's own CRC would then vouch for the wrong bytes). Two refused reads with
  // the same bytes are the object's own: what it declares is not what it holds (a stale or
  // forged ferry-crc32c, bytes damaged at rest), and reading more changes nothing.
  constexpr int kAttempts = 3;
  std::optional<uint32_t> refused_crc;
  for (int attempt = 1;; ++attempt) {
    ReadWholeOnce(src, listed, by_version, stop, r);
    if (!r.status.ok()) return;
    const auto bytes = std::as_bytes(std::span(r.bytes.data(), r.bytes.size()));
    const uint32_t crc = checksum::Crc32c(bytes);
    const transfer::WholeCheck verdict =
        transfer::CheckWhole(transfer::CheckOf(r.object), bytes, crc, false);
    if (verdict != transfer::WholeCheck::kMismatch) return;
    if (refused_crc == crc) {
      r.refused_alike = true;
      r.status = Status::DataLoss(ReadTwiceAlikeMessage(listed.key, crc));
      return;
    }
    refused_crc = crc;
    if (attempt == kAttempts || stop.stop_requested()) {
      r.status = Status::DataLoss("bytes read from " + listed.key + " do not match the checksum " +
                                  "it declares, " + std::to_string(kAttempts) +
                                  " times (corrupted on the way); not packed");
      return;
    }
  }
}

// One read of ReadWholeInto.
void ReadWholeOnce(storage::Backend& src, const storage::ObjectInfo& listed, bool by_version,
                   std::stop_token stop, ReadObject& r) {
  r.status = Status::Ok();
  r.vanished = false;
  r.bytes.resize(listed.size);
  auto span = [&] { return std::as_writable_bytes(std::span(r.bytes.data(), r.bytes.size())); };
  if (by_version) {
    // A version the pass described (its details are `listed`): only its bytes are read, by
    // version id, or pinned to the ETag the pass saw when the source is unversioned.
    Status read = ReadRangeOf(src, listed, true, 0, span(), stop);
    r.vanished = read.code() == ErrorCode::kNotFound;
    r.status = read.WithContext(listed.key);
    if (read.ok()) r.object = listed;
    return;
  }
  auto object = src.ReadObject(listed.key, span(), "", stop);
  if (!object.ok() && object.status().code() == ErrorCode::kDataLoss) {
    // The object changed size since it was listed: read its current version.
    auto now = src.Stat(listed.key, false, stop);
    if (!now.ok()) {
      object = now.status();
    } else {
      r.bytes.resize(now->size);
      object = src.ReadObject(listed.key, span(), now->etag, stop);
    }
  }
  if (!object.ok()) {
    r.vanished = object.status().code() == ErrorCode::kNotFound;
    r.status = object.status().WithContext(listed.key);
    return;
  }
  r.object = std::move(object).value();
  r.object.key = listed.key;
  r.object.size = r.bytes.size();
  KeepListedTime(listed, r.object);
}

}  // namespace

std::string ReadTwiceAlikeMessage(const std::string& key, uint32_t crc) {
  return key + ": " + std::string(kReadTwiceAlike) + " (CRC32C " + checksum::Hex32(crc) +
         "), do not match what it declares: a stale or forged ferry-crc32c, or bytes damaged "
         "at rest, not a fault of the transfer; not packed";
}

bool ReadsVersion(const storage::ObjectInfo& object, bool by_version) {
  return by_version && !object.version_id.empty() && object.version_id != "null";
}

Status ReadRangeOf(storage::Backend& src, const storage::ObjectInfo& object, bool by_version,
                   uint64_t offset, std::span<std::byte> out, std::stop_token stop) {
  if (ReadsVersion(object, by_version)) {
    return src.ReadVersionAt(object.key, object.version_id, offset, out, stop);
  }
  return src.ReadAt(object.key, offset, out, object.etag, stop);
}

ReadObject ReadWhole(storage::Backend& src, const storage::ObjectInfo& listed,
                     std::stop_token stop, bool by_version) {
  ReadObject r;
  ReadWholeInto(src, listed, by_version, stop, r);
  return r;
}

Prefetcher::Prefetcher(storage::Backend& src, std::span<const storage::ObjectInfo> objects,
                       transfer::Executor& executor, const PrefetchOptions& options,
                       std::stop_token stop)
    : ReadAhead(executor, options.gate,
                {.count = objects.size(),
                 .reads = options.reads,
                 .window = options.window,
                 .window_bytes = options.window_bytes != 0
                                     ? options.window_bytes
                                     : std::max<size_t>(1, options.window) *
                                           std::max<uint64_t>(1, options.small_limit)},
                stop),
      src_(src),
      objects_(objects),
      small_limit_(options.small_limit),
      by_version_(options.by_version),
      window_(std::max<size_t>(1, options.window)),
      window_bytes_(options.window_bytes != 0
                        ? options.window_bytes
                        : window_ * std::max<uint64_t>(1, options.small_limit)) {
  Start();
}

Prefetcher::~Prefetcher() { Stop(); }

ReadObject Prefetcher::PrepareItem(size_t i) {
  ReadObject r;
  // The smallest spare buffer the object fits in (one too small would be reallocated).
  if (auto fit = spare_.lower_bound(static_cast<size_t>(objects_[i].size)); fit != spare_.end()) {
    r.bytes = std::move(fit->second);
    spare_bytes_ -= fit->first;
    spare_.erase(fit);
  }
  return r;
}

void Prefetcher::ReadItem(size_t i, ReadObject& item, std::stop_token stop) {
  item.bytes.clear();
  if (stop.stop_requested()) {
    item.status = Status::Cancelled("pack cancelled");
    return;
  }
  ReadWholeInto(src_, objects_[i], by_version_, stop, item);
}

ReadObject Prefetcher::Take(size_t index) {
  std::unique_lock lock(mu_);
  ReadObject* ready = Wait(lock, index);
  if (ready == nullptr) {
    ReadObject r;
    r.status = Status::Cancelled("pack cancelled");
    return r;
  }
  ReadObject r = std::move(*ready);
  Done(lock, index);
  return r;
}

void Prefetcher::GiveBack(std::string bytes) {
  std::lock_guard lock(mu_);
  // Kept while the spares fit the window: memory stays bounded by the window.
  const size_t capacity = bytes.capacity();
  if (spare_.size() >= window_ || spare_bytes_ + capacity > window_bytes_) return;
  spare_bytes_ += capacity;
  spare_.emplace(capacity, std::move(bytes));
}

RangeAhead::RangeAhead(storage::Backend& src, const storage::ObjectInfo& object,
                       transfer::Executor& executor, const RangeAheadOptions& options,
                       std::stop_token stop)
    : ReadAhead(executor, options.gate,
                {.count = static_cast<size_t>((object.size + std::max<size_t>(1, options.chunk) -
                                               1) /
                                              std::max<size_t>(1, options.chunk)),
                 .reads = options.reads,
                 .window = options.window,
                 .window_bytes = std::max<size_t>(1, options.window) *
                                 std::max<size_t>(1, options.chunk)},
                stop),
      src_(src),
      object_(object),
      chunk_(std::max<size_t>(1, options.chunk)),
      by_version_(options.by_version) {
  Start();
}

RangeAhead::~RangeAhead() { Stop(); }

uint64_t RangeAhead::Bytes(size_t i) const {
  return std::min<uint64_t>(chunk_, object_.size - uint64_t{i} * chunk_);
}

ReadRange RangeAhead::PrepareItem(size_t i) {
  ReadRange r;
  // A buffer handed out before, when there is one: no allocation (and page faults) per range.
  if (!spare_.empty()) {
    r.bytes = std::move(spare_.back());
    spare_.pop_back();
  }
  r.bytes.resize(static_cast<size_t>(Bytes(i)));
  return r;
}

void RangeAhead::ReadItem(size_t i, ReadRange& item, std::stop_token stop) {
  if (stop.stop_requested()) {
    item.status = Status::Cancelled("pack cancelled");
    return;
  }
  item.status = ReadRangeOf(src_, object_, by_version_, uint64_t{i} * chunk_, item.bytes, stop);
}

ReadRange* RangeAhead::Current(std::unique_lock<std::mutex>& lock, bool& stopped) {
  stopped = false;
  if (uint64_t{current_} * chunk_ >= object_.size) return nullptr;
  ReadRange* r = Wait(lock, current_);
  stopped = r == nullptr;
  return r;
}

void RangeAhead::Advance(std::unique_lock<std::mutex>& lock, size_t n) {
  ReadRange* r = Wait(lock, current_);  // read already: returns at once
  if (r == nullptr) return;
  offset_ += n;
  if (offset_ >= r->bytes.size()) {
    spare_.push_back(std::move(r->bytes));
    Done(lock, current_);
    ++current_;
    offset_ = 0;
  }
}

Result<size_t> RangeAhead::Read(std::span<std::byte> out) {
  std::unique_lock lock(mu_);
  if (out.empty()) return size_t{0};
  bool stopped;
  ReadRange* r = Current(lock, stopped);
  if (stopped) return Status::Cancelled("pack cancelled");
  if (r == nullptr) return size_t{0};
  if (!r->status.ok()) return r->status;
  const size_t n = std::min(out.size(), r->bytes.size() - offset_);
  std::memcpy(out.data(), r->bytes.data() + offset_, n);
  Advance(lock, n);
  return n;
}

Result<std::span<const std::byte>> RangeAhead::Lend() {
  std::unique_lock lock(mu_);
  bool stopped;
  ReadRange* r = Current(lock, stopped);
  if (stopped) return Status::Cancelled("pack cancelled");
  if (r == nullptr) return std::span<const std::byte>();
  if (!r->status.ok()) return r->status;
  // The range stays (a map entry: other ranges arriving do not move it) until Consume hands
  // its last byte out.
  return std::span<const std::byte>(r->bytes).subspan(offset_);
}

void RangeAhead::Consume(size_t n) {
  std::unique_lock lock(mu_);
  if (uint64_t{current_} * chunk_ >= object_.size) return;
  ReadRange* r = Wait(lock, current_);
  if (r == nullptr) return;
  Advance(lock, std::min(n, r->bytes.size() - offset_));
}

}  // namespace ferry::transport
