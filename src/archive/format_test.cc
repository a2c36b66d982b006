#include "archive/format.h"

#include <gtest/gtest.h>

#include <chrono>

#include "checksum/checksum.h"

namespace ferry::archive {
namespace {

using checksum::AsBytes;

EntryHeader FullHeader(std::string key) {
  EntryHeader h;
  h.key = std::move(key);
  h.size = 12345678901ull;
  h.version_id = "v.3~xyz";
  h.etag = "0123456789abcdef0123456789abcdef-7";
  h.mtime_ns = 1'700'000'000'123'456'789;
  h.content = {.content_type = "text/csv; charset=utf-8",
               .content_encoding = "gzip",
               .content_language = "fr-CA",
               .content_disposition = "attachment; filename=\"a b.csv\"",
               .cache_control = "max-age=60",
               .expires = "Wed, 21 Oct 2026 07:28:00 GMT"};
  h.metadata = {{"ferry-crc32c", "e3069283"}, {"owner", "éàü \n tab\t"}, {"empty", ""}};
  h.tags = storage::Tags{{"team", "data"}, {"k=v", "a&b"}, {"team", "dup"}};
  h.storage_class = "STANDARD_IA";
  h.destinations = {"region-a", "region-b", ""};
  h.lock = {.mode = "COMPLIANCE",
            .retain_until = std::chrono::system_clock::time_point(
                std::chrono::duration_cast<std::chrono::system_clock::duration>(
                    std::chrono::nanoseconds(1'900'000'000'123'000'000))),
            .legal_hold = true};
  return h;
}

// A manifest of one empty entry with `lock`, encoded as this ferry writes it.
std::string ManifestWithLock(const storage::ObjectLock& lock) {
  Manifest m;
  Entry e;
  e.header.key = "locked";
  e.header.lock = lock;
  m.entries.push_back(e);
  return EncodeManifest(m);
}

// Where the lock fields of ManifestWithLock's one entry begin: after the version, the frame
// count (0), the entry count (1), and the header up to its destinations (0) — what a version-1
// encoding of the same entry ends with, before its five location fields.
size_t LockFieldsAt() {
  Manifest m;
  Entry e;
  e.header.key = "locked";
  m.entries.push_back(e);
  return EncodeManifest(m, 1).size() - 5;
}

TEST(ManifestTest, RoundTripsHostileKeysAndEveryKindOfMetadata) {
  Manifest m;
  m.frames = {
      {.offset = 24, .stored_size = 100, .raw_size = 4000, .crc32c = 0xdeadbeef, .stored = false},
      {.offset = 124,
       .stored_size = (1ull << 33),
       .raw_size = (1ull << 33) - 5,
       .crc32c = 1,
       .stored = true}};
  const std::vector<std::string> keys = {"plain.txt",
                                         "üñíçødé/日本語/🙂.json",
                                         "line\nbreak\r\n",
                                         "../../etc/passwd",
                                         std::string("nul\0inside", 10),
                                         std::string(1024, 'k'),
                                         "trailing/",
                                         "",
                                         "\xff\xfe bad utf8",
                                         " spaces  ",
                                         "a/./b//c"};
  for (size_t i = 0; i < keys.size(); ++i) {
    Entry e;
    e.header = FullHeader(keys[i]);
    e.crc32c = 0xffffffff - static_cast<uint32_t>(i);
    e.first_frame = 0;
    e.frame_count = 2;
    e.offset_in_frame = i;
    e.stored = i % 2 == 0;
    e.header.size = 100 + i;
    if (i == 3) e.header.tags.reset();  // none, distinct from empty
    if (i == 4) e.header.tags = storage::Tags{};
    m.entries.push_back(e);
  }
  const std::string bytes = EncodeManifest(m);
  auto back = DecodeManifest(AsBytes(bytes));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, m);
  EXPECT_FALSE(back->entries[3].header.tags.has_value());
  EXPECT_TRUE(back->entries[4].header.tags.has_value());
}

TEST(ManifestTest, RoundTripsEachKindOfLock) {
  const auto until = std::chrono::system_clock::time_point(std::chrono::seconds(2'000'000'000));
  for (const storage::ObjectLock& lock :
       {storage::ObjectLock{},
        storage::ObjectLock{.mode = "GOVERNANCE", .retain_until = until, .legal_hold = false},
        storage::ObjectLock{.mode = "COMPLIANCE", .retain_until = until, .legal_hold = true},
        storage::ObjectLock{.mode = "", .retain_until = {}, .legal_hold = true}}) {
    auto back = DecodeManifest(AsBytes(ManifestWithLock(lock)));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->entries.at(0).header.lock, lock) << lock.mode << lock.legal_hold;
  }
}

// A version-1 manifest (an older ferry's: no lock fields) still decodes, its entries without
// lock; the same manifest as version 2 is longer by the three lock fields of each entry.
TEST(ManifestTest, AVersionOneManifestStillDecodes) {
  Manifest m;
  m.frames = {{.offset = 24, .stored_size = 10, .raw_size = 30, .crc32c = 7, .stored = false}};
  for (int i = 0; i < 3; ++i) {
    Entry e;
    e.header = FullHeader("k" + std::to_string(i));
    e.header.lock = {};
    e.header.size = 10;
    e.frame_count = 1;
    e.offset_in_frame = 10 * static_cast<uint64_t>(i);
    m.entries.push_back(e);
  }
  const std::string v1 = EncodeManifest(m, 1);
  ASSERT_EQ(v1[0], 1);
  EXPECT_EQ(EncodeManifest(m).size(), v1.size() + 3 * 3);
  auto back = DecodeManifest(AsBytes(v1));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, m);
  // Its locks were never written: a lock given to the version-1 encoder is left out.
  m.entries[1].header.lock.legal_hold = true;
  back = DecodeManifest(AsBytes(EncodeManifest(m, 1)));
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->entries[1].header.lock.any());
  // Versions other than 1 and 2 are refused by name.
  std::string v3 = v1;
  v3[0] = 3;
  auto r = DecodeManifest(AsBytes(v3));
  EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.status().message().find("version 3 is not supported"), std::string::npos)
      << r.status().message();
}

TEST(ManifestTest, MalformedLockFieldsAreRefused) {
  const auto until = std::chrono::system_clock::time_point(std::chrono::seconds(2'000'000'000));
  const size_t at = LockFieldsAt();
  // The mode's string: length 10 then "GOVERNANCE"; replaced by another word of that length.
  std::string unknown = ManifestWithLock({.mode = "GOVERNANCE", .retain_until = until});
  ASSERT_EQ(unknown.substr(at, 11), std::string("\x0aGOVERNANCE"));
  unknown.replace(at + 1, 10, "GOVERNANCX");
  // A date without a mode: the empty mode (0), then a date where 0 belongs.
  std::string no_mode = ManifestWithLock({});
  ASSERT_EQ(no_mode.substr(at, 3), std::string(3, '\0'));
  no_mode[at + 1] = 5;
  // A mode without a date: the empty mode's place given "COMPLIANCE" (the encoder writes a
  // retention at the epoch as none, so that what it writes decodes).
  std::string zero_date = ManifestWithLock({.mode = "COMPLIANCE", .retain_until = {}});
  ASSERT_EQ(zero_date.substr(at, 3), std::string(3, '\0'));
  ASSERT_TRUE(DecodeManifest(AsBytes(zero_date)).ok());
  zero_date.replace(at, 1, std::string("\x0a") + "COMPLIANCE");
  // A legal hold other than 0 or 1.
  std::string hold = ManifestWithLock({.mode = "", .retain_until = {}, .legal_hold = true});
  ASSERT_EQ(hold[at + 2], 1);
  hold[at + 2] = 2;
  for (const auto& [bytes, why] :
       std::vector<std::pair<std::string, std::string>>{
           {unknown, "unknown object lock mode"},
           {no_mode, "retain-until date without a lock mode"},
           {zero_date, "lock mode without a retain-until date"},
           {hold, "legal hold other than 0 or 1"}}) {
    auto r = DecodeManifest(AsBytes(bytes));
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  }
}

TEST(ManifestTest, EveryTruncationIsRefusedAsDataLoss) {
  Manifest m;
  m.frames = {{.offset = 24, .stored_size = 10, .raw_size = 10, .crc32c = 7, .stored = false}};
  Entry e;
  e.header = FullHeader("k");
  e.header.size = 10;
  e.frame_count = 1;
  m.entries.push_back(e);
  const std::string bytes = EncodeManifest(m);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodeManifest(AsBytes(std::string_view(bytes).substr(0, n)));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
  }
  auto extra = DecodeManifest(AsBytes(bytes + "x"));
  EXPECT_EQ(extra.status().code(), ErrorCode::kDataLoss);
}

TEST(ManifestTest, EntryPointingPastItsFramesIsRefused) {
  Manifest m;
  m.frames = {{.offset = 24, .stored_size = 10, .raw_size = 10, .crc32c = 7, .stored = false}};
  Entry e;
  e.header.key = "k";
  e.header.size = 11;  // one byte more than its frame holds
  e.frame_count = 1;
  m.entries.push_back(e);
  auto r = DecodeManifest(AsBytes(EncodeManifest(m)));
  EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
  m.entries[0].header.size = 5;
  m.entries[0].first_frame = 1;  // no such frame
  r = DecodeManifest(AsBytes(EncodeManifest(m)));
  EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
}

// A manifest names more entries, frames or items than a reader will hold: refused before
// they are allocated (each costs far more in memory than the bytes it takes), with a line that
// says which limit.
TEST(ManifestTest, AManifestPastItsLimitsIsRefused) {
  Manifest m;
  m.frames = {{.offset = 24, .stored_size = 10, .raw_size = 50, .crc32c = 7, .stored = false},
              {.offset = 34, .stored_size = 10, .raw_size = 50, .crc32c = 8, .stored = false}};
  for (int i = 0; i < 5; ++i) {
    Entry e;
    e.header.key = "k" + std::to_string(i);
    e.header.size = 10;
    e.header.metadata = {{"a", "1"}, {"b", "2"}};
    e.header.tags = storage::Tags{{"t", "v"}};
    e.frame_count = 1;
    e.offset_in_frame = 10 * static_cast<uint64_t>(i);
    m.entries.push_back(e);
  }
  const std::string bytes = EncodeManifest(m);
  ASSERT_TRUE(DecodeManifest(AsBytes(bytes), {.max_entries = 5, .max_frames = 2, .max_items = 15})
                  .ok());
  auto entries = DecodeManifest(AsBytes(bytes), {.max_entries = 4});
  EXPECT_EQ(entries.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(entries.status().message().find("5 entries, more than the 4"), std::string::npos)
      << entries.status().message();
  auto frames = DecodeManifest(AsBytes(bytes), {.max_frames = 1});
  EXPECT_EQ(frames.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(frames.status().message().find("2 frames"), std::string::npos);
  auto items = DecodeManifest(AsBytes(bytes), {.max_items = 14});
  EXPECT_EQ(items.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(items.status().message().find("more than 14 metadata pairs"), std::string::npos)
      << items.status().message();
}

TEST(TrailerTest, RoundTripsAndRefusesOtherBytes) {
  const Trailer t{.manifest_offset = 1ull << 40, .manifest_size = 77, .manifest_crc32c = 9};
  const std::string bytes = EncodeTrailer(t);
  ASSERT_EQ(bytes.size(), kTrailerSize);
  auto back = DecodeTrailer(AsBytes(bytes));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->manifest_offset, t.manifest_offset);
  EXPECT_EQ(back->manifest_size, 77u);
  EXPECT_EQ(back->manifest_crc32c, 9u);
  std::string bad = bytes;
  bad[35] ^= 1;
  EXPECT_EQ(DecodeTrailer(AsBytes(bad)).status().code(), ErrorCode::kDataLoss);
  std::string future = bytes;
  future[28] = 3;  // version 3
  auto r = DecodeTrailer(AsBytes(future));
  EXPECT_NE(r.status().message().find("version 3"), std::string::npos);
  EXPECT_EQ(static_cast<uint32_t>(bytes[28]), kFormatVersion);
  auto old = DecodeTrailer(AsBytes(EncodeTrailer(t, 1)));  // an older ferry's archive
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->manifest_size, 77u);
}

TEST(HeaderTest, ChecksMagicAndVersion) {
  const std::string h = EncodeHeader();
  ASSERT_EQ(h.size(), kHeaderSize);
  EXPECT_TRUE(CheckHeader(AsBytes(h)).ok());
  EXPECT_EQ(static_cast<uint32_t>(h[16]), kFormatVersion);
  EXPECT_TRUE(CheckHeader(AsBytes(EncodeHeader(1))).ok());
  EXPECT_EQ(CheckHeader(AsBytes(EncodeHeader(3))).code(), ErrorCode::kDataLoss);
  EXPECT_EQ(CheckHeader(AsBytes(std::string(kHeaderSize, 'x'))).code(), ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace ferry::archive
