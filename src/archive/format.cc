// Encoding of the manifest, header and trailer (see format.h and docs/design/archive.md).
// Integers are little-endian; variable ones are LEB128 varints; strings are a varint length
// followed by the bytes (any bytes: keys may hold newlines, NUL or invalid UTF-8).
#include "archive/format.h"

#include <chrono>
#include <cstdint>
#include <cstring>

#include "checksum/checksum.h"

namespace ferry::archive {
namespace {

constexpr size_t kMaxKeyBytes = 64 * 1024;

void PutFixed(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetFixed(std::span<const std::byte> in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(in[at + i]) << (8 * i);
  return v;
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

// Reads the manifest's fields; the first failure sticks and every later read yields zeros.
class Decoder {
 public:
  explicit Decoder(std::span<const std::byte> in) : in_(in) {}

  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Fail("manifest truncated");
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fail("manifest varint too long");
  }
  std::string String(size_t max = SIZE_MAX) {
    const uint64_t n = Varint();
    if (!ok()) return {};
    if (n > in_.size() - pos_ || n > max) {
      Fail("manifest string length " + std::to_string(n) + " past its end");
      return {};
    }
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  // A count of items that each take at least one byte: bounded by what is left.
  uint64_t Count() {
    const uint64_t n = Varint();
    if (ok() && n > in_.size() - pos_)
      return Fail("manifest count " + std::to_string(n) + " too large");
    return n;
  }
  // A count of `what`, at most `max` (ManifestLimits) besides what is left.
  uint64_t Count(const char* what, uint64_t max) {
    const uint64_t n = Count();
    if (ok() && n > max) {
      return Fail("manifest names " + std::to_string(n) + " " + what + ", more than the " +
                  std::to_string(max) + " an archive may hold");
    }
    return n;
  }
  // A count of items (metadata pairs, tags, destinations) of one entry, counted against the
  // manifest's budget of items.
  uint64_t Items() {
    const uint64_t n = Count();
    if (ok() && n > items_left_) {
      return Fail("manifest holds more than " + std::to_string(max_items_) +
                  " metadata pairs, tags and destinations");
    }
    items_left_ -= n;
    return n;
  }
  void LimitItems(uint64_t max) { max_items_ = items_left_ = max; }
  bool ok() const { return error_.empty(); }
  bool at_end() const { return pos_ == in_.size(); }
  const std::string& error() const { return error_; }
  uint64_t Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    pos_ = in_.size();
    return 0;
  }

 private:
  std::span<const std::byte> in_;
  size_t pos_ = 0;
  std::string error_;
  uint64_t max_items_ = UINT64_MAX;
  uint64_t items_left_ = UINT64_MAX;
};

bool Readable(uint64_t version) {
  return version >= kOldestFormatVersion && version <= kFormatVersion;
}

Status Unsupported(const char* what, uint64_t version) {
  return Status::DataLoss(std::string(what) + " version " + std::to_string(version) +
                          " is not supported (this ferry reads versions " +
                          std::to_string(kOldestFormatVersion) + " to " +
                          std::to_string(kFormatVersion) + ")");
}

// A retention dated at or before the epoch (over for decades: it protects nothing) is written
// as none, so that whatever is written decodes (a mode needs a date other than 0).
void EncodeLock(std::string& out, const storage::ObjectLock& lock) {
  const int64_t until = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            lock.retain_until.time_since_epoch())
                            .count();
  const bool retention = !lock.mode.empty() && until > 0;
  PutString(out, retention ? lock.mode : std::string());
  PutVarint(out, retention ? static_cast<uint64_t>(until) : 0);
  PutVarint(out, lock.legal_hold ? 1 : 0);
}

// The lock fields of a version-2 entry; malformed ones fail `d`.
storage::ObjectLock DecodeLock(Decoder& d) {
  storage::ObjectLock lock;
  lock.mode = d.String(16);
  const auto until = static_cast<int64_t>(d.Varint());
  const uint64_t hold = d.Varint();
  if (!d.ok()) return lock;
  if (!lock.mode.empty() && lock.mode != "GOVERNANCE" && lock.mode != "COMPLIANCE") {
    d.Fail("manifest names an unknown object lock mode");
  } else if (lock.mode.empty() != (until == 0)) {
    d.Fail(lock.mode.empty() ? "manifest has a retain-until date without a lock mode"
                             : "manifest has a lock mode without a retain-until date");
  } else if (hold > 1) {
    d.Fail("manifest has a legal hold other than 0 or 1");
  }
  lock.retain_until = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(until)));
  lock.legal_hold = hold == 1;
  return lock;
}

void EncodeHeaderFields(std::string& out, const EntryHeader& h, uint32_t version) {
  PutString(out, h.key);
  PutVarint(out, h.size);
  PutString(out, h.version_id);
  PutString(out, h.etag);
  PutVarint(out, static_cast<uint64_t>(h.mtime_ns));
  for (const std::string* s :
       {&h.content.content_type, &h.content.content_encoding, &h.content.content_language,
        &h.content.content_disposition, &h.content.cache_control, &h.content.expires}) {
    PutString(out, *s);
  }
  PutVarint(out, h.metadata.size());
  for (const auto& [name, value] : h.metadata) {
    PutString(out, name);
    PutString(out, value);
  }
  PutVarint(out, h.tags.has_value() ? 1 : 0);
  if (h.tags.has_value()) {
    PutVarint(out, h.tags->size());
    for (const auto& [name, value] : *h.tags) {
      PutString(out, name);
      PutString(out, value);
    }
  }
  PutString(out, h.storage_class);
  PutVarint(out, h.destinations.size());
  for (const std::string& d : h.destinations) PutString(out, d);
  if (version >= 2) EncodeLock(out, h.lock);
}

EntryHeader DecodeHeaderFields(Decoder& d, uint64_t version) {
  EntryHeader h;
  h.key = d.String(kMaxKeyBytes);
  h.size = d.Varint();
  h.version_id = d.String();
  h.etag = d.String();
  h.mtime_ns = static_cast<int64_t>(d.Varint());
  for (std::string* s :
       {&h.content.content_type, &h.content.content_encoding, &h.content.content_language,
        &h.content.content_disposition, &h.content.cache_control, &h.content.expires}) {
    *s = d.String();
  }
  for (uint64_t n = d.Items(); n > 0 && d.ok(); --n) {
    std::string name = d.String();
    h.metadata[std::move(name)] = d.String();
  }
  if (d.Varint() != 0) {
    h.tags.emplace();
    for (uint64_t n = d.Items(); n > 0 && d.ok(); --n) {
      std::string name = d.String();
      h.tags->emplace_back(std::move(name), d.String());
    }
  }
  h.storage_class = d.String();
  for (uint64_t n = d.Items(); n > 0 && d.ok(); --n) h.destinations.push_back(d.String());
  if (version >= 2 && d.ok()) h.lock = DecodeLock(d);
  return h;
}

void PutSkippableHeader(std::string& out, uint32_t payload) {
  PutFixed(out, kSkippableMagic, 4);
  PutFixed(out, payload, 4);
}

}  // namespace

std::string EncodeManifest(const Manifest& m, uint32_t version) {
  std::string out;
  PutVarint(out, version);
  PutVarint(out, m.frames.size());
  for (const FrameInfo& f : m.frames) {
    PutVarint(out, f.offset);
    PutVarint(out, f.stored_size);
    PutVarint(out, f.raw_size);
    PutVarint(out, f.crc32c);
    PutVarint(out, f.stored ? 1 : 0);
  }
  PutVarint(out, m.entries.size());
  for (const Entry& e : m.entries) {
    EncodeHeaderFields(out, e.header, version);
    PutVarint(out, e.crc32c);
    PutVarint(out, e.first_frame);
    PutVarint(out, e.frame_count);
    PutVarint(out, e.offset_in_frame);
    PutVarint(out, e.stored ? 1 : 0);
  }
  return out;
}

Result<Manifest> DecodeManifest(std::span<const std::byte> bytes, const ManifestLimits& limits) {
  Decoder d(bytes);
  d.LimitItems(limits.max_items);
  Manifest m;
  const uint64_t version = d.Varint();
  if (d.ok() && !Readable(version)) return Unsupported("archive manifest", version);
  for (uint64_t n = d.Count("frames", limits.max_frames); n > 0 && d.ok(); --n) {
    FrameInfo f;
    f.offset = d.Varint();
    f.stored_size = d.Varint();
    f.raw_size = d.Varint();
    f.crc32c = static_cast<uint32_t>(d.Varint());
    f.stored = d.Varint() != 0;
    m.frames.push_back(f);
  }
  for (uint64_t n = d.Count("entries", limits.max_entries); n > 0 && d.ok(); --n) {
    Entry e;
    e.header = DecodeHeaderFields(d, version);
    e.crc32c = static_cast<uint32_t>(d.Varint());
    e.first_frame = static_cast<uint32_t>(d.Varint());
    e.frame_count = static_cast<uint32_t>(d.Varint());
    e.offset_in_frame = d.Varint();
    e.stored = d.Varint() != 0;
    m.entries.push_back(std::move(e));
  }
  if (d.ok() && !d.at_end()) d.Fail("manifest has trailing bytes");
  if (!d.ok()) return Status::DataLoss("corrupt archive: " + d.error());
  // Every entry's bytes must lie inside the frames it names.
  for (const Entry& e : m.entries) {
    const uint64_t end = uint64_t{e.first_frame} + e.frame_count;
    if (end > m.frames.size()) {
      return Status::DataLoss("corrupt archive: entry frames out of range");
    }
    uint64_t raw = 0;
    for (uint64_t i = e.first_frame; i < end; ++i) raw += m.frames[i].raw_size;
    if (e.header.size > 0 && (e.frame_count == 0 || e.offset_in_frame + e.header.size > raw)) {
      return Status::DataLoss("corrupt archive: entry larger than its frames");
    }
  }
  return m;
}

std::string EncodeHeader(uint32_t version) {
  std::string out;
  PutSkippableHeader(out, kHeaderSize - 8);
  out.append(kHeaderMagic, sizeof kHeaderMagic);
  PutFixed(out, version, 4);
  PutFixed(out, 0, 4);
  return out;
}

Status CheckHeader(std::span<const std::byte> b) {
  if (b.size() < kHeaderSize || GetFixed(b, 0, 4) != kSkippableMagic ||
      std::memcmp(b.data() + 8, kHeaderMagic, sizeof kHeaderMagic) != 0) {
    return Status::DataLoss("not a ferry archive (bad magic number)");
  }
  if (const uint64_t v = GetFixed(b, 16, 4); !Readable(v)) {
    return Unsupported("archive format", v);
  }
  return Status::Ok();
}

std::string EncodeTrailer(const Trailer& t, uint32_t version) {
  std::string out;
  PutSkippableHeader(out, kTrailerSize - 8);
  PutFixed(out, t.manifest_offset, 8);
  PutFixed(out, t.manifest_size, 8);
  PutFixed(out, t.manifest_crc32c, 4);
  PutFixed(out, version, 4);
  out.append(kTrailerMagic, sizeof kTrailerMagic);
  return out;
}

Result<Trailer> DecodeTrailer(std::span<const std::byte> b) {
  if (b.size() != kTrailerSize || GetFixed(b, 0, 4) != kSkippableMagic ||
      GetFixed(b, 4, 4) != kTrailerSize - 8 ||
      std::memcmp(b.data() + 32, kTrailerMagic, sizeof kTrailerMagic) != 0) {
    return Status::DataLoss("truncated or corrupt archive (no trailer at its end)");
  }
  if (const uint64_t v = GetFixed(b, 28, 4); !Readable(v)) return Unsupported("archive format", v);
  return Trailer{.manifest_offset = GetFixed(b, 8, 8),
                 .manifest_size = GetFixed(b, 16, 8),
                 .manifest_crc32c = static_cast<uint32_t>(GetFixed(b, 24, 4))};
}

}  // namespace ferry::archive
