// Writer and Reader together: round trips, ranged reads per entry, damage detection, raw
// storage of incompressible data, shared frames of small entries.
#include <gtest/gtest.h>
#include <zstd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "archive/reader.h"
#include "archive/stream.h"
#include "archive/writer.h"
#include "checksum/checksum.h"

namespace ferry::archive {
namespace {

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Text-like data: compresses well, but not trivially.
std::string Text(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  static const char* words[] = {"alpha", "beta", "gamma",   "delta",   "2026-11-22",
                                "ERROR", "ok",   "\"id\":", "{",       "}",
                                ",",     "\n",   "value",   "region-a"};
  std::string s;
  while (s.size() < n) {
    s += words[rng() % 14];
    s += ' ';
    s += std::to_string(rng() % 1000);
  }
  s.resize(n);
  return s;
}

EntryHeader Header(std::string key, uint64_t size) {
  EntryHeader h;
  h.key = std::move(key);
  h.size = size;
  h.version_id = "ver-" + std::to_string(size);
  h.etag = "d41d8cd98f00b204e9800998ecf8427e";
  h.mtime_ns = 1'763'800'000'000'000'000 + static_cast<int64_t>(size);
  h.content.content_type = "application/json";
  h.content.cache_control = "no-cache";
  h.content.expires = "Thu, 01 Jan 2037 00:00:00 GMT";
  h.metadata = {{"a", "1"}, {"ünï", "valüe\nnext"}};
  h.tags = storage::Tags{{"t", "v"}};
  h.storage_class = "GLACIER_IR";
  h.destinations = {"region-b"};
  return h;
}

struct Packed {
  std::string bytes;
  std::vector<std::pair<EntryHeader, std::string>> entries;
};

// Two workers in jobs of 512 KiB (zstd's smallest), large entries above 64 KiB.
WriterOptions SmallJobs(uint64_t frame_size) {
  WriterOptions o;
  o.threads = 2;
  o.job_size = 512 << 10;
  o.frame_size = frame_size;
  o.small_limit = 64 << 10;
  return o;
}

WriterOptions SmallFrames() {
  WriterOptions o;
  o.level = 3;
  o.threads = 2;
  o.frame_size = 64 << 10;
  o.small_limit = 16 << 10;
  return o;
}

Packed Pack(std::vector<std::pair<EntryHeader, std::string>> entries, WriterOptions o) {
  Packed p;
  StringSink sink;
  auto w = Writer::Open(sink, o);
  EXPECT_TRUE(w.ok());
  for (auto& [h, body] : entries) {
    StringChunkSource src(body);
    Status s = (*w)->Add(h, src);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  auto summary = (*w)->Finish();
  EXPECT_TRUE(summary.ok());
  EXPECT_EQ(summary->archive_bytes, sink.bytes.size());
  p.bytes = std::move(sink.bytes);
  p.entries = std::move(entries);
  return p;
}

Packed MixedArchive() {
  std::vector<std::pair<EntryHeader, std::string>> e;
  const std::vector<std::string> keys = {
      "a.json",      "line\nbreak",          "../../escape",
      "日本/🙂", std::string(1024, 'x'), std::string("n\0l", 3)};
  for (size_t i = 0; i < keys.size(); ++i) {
    std::string body = Text(100 + 700 * i, static_cast<uint32_t>(i));
    e.emplace_back(Header(keys[i], body.size()), body);
  }
  // Object lock of two kinds (RoundTripsEntriesBytesAndMetadata compares every header).
  e[0].first.lock = {.mode = "GOVERNANCE",
                     .retain_until = std::chrono::system_clock::time_point(
                         std::chrono::milliseconds(2'000'000'000'123)),
                     .legal_hold = true};
  e[2].first.lock.legal_hold = true;
  e.emplace_back(Header("empty", 0), "");
  std::string big = Text(300 << 10, 99);  // 5 frames of 64 KiB
  e.emplace_back(Header("big.log", big.size()), big);
  std::string noise = Random(200 << 10, 7);
  e.emplace_back(Header("noise.bin", noise.size()), noise);
  e.emplace_back(Header("after", 5), "after");
  return Pack(std::move(e), SmallFrames());
}

std::string ReadBack(const Reader& r, const Entry& e) {
  StringSink out;
  Status s = r.ReadEntry(e, out);
  EXPECT_TRUE(s.ok()) << e.header.key << ": " << s.message();
  return out.bytes;
}

TEST(ArchiveTest, RoundTripsEntriesBytesAndMetadata) {
  Packed p = MixedArchive();
  StringRangeSource src(p.bytes);
  auto r = Reader::Open(src);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ((*r)->entries().size(), p.entries.size());
  for (size_t i = 0; i < p.entries.size(); ++i) {
    const Entry& e = (*r)->entries()[i];
    EXPECT_EQ(e.header, p.entries[i].first);
    EXPECT_EQ(ReadBack(**r, e), p.entries[i].second) << e.header.key;
    EXPECT_EQ(e.crc32c, checksum::Crc32c(checksum::AsBytes(p.entries[i].second)));
    EXPECT_EQ((*r)->Find(e.header.key), &e);
  }
  EXPECT_EQ((*r)->Find("../../escape", "nope"), nullptr);
  EXPECT_EQ((*r)->Find("big.log")->frame_count, 5u);
}

TEST(ArchiveTest, WholeArchiveIsAZstdStreamOfTheEntriesBytes) {
  Packed p = MixedArchive();
  std::string want;
  for (const auto& [h, body] : p.entries) want += body;
  ZSTD_DCtx* d = ZSTD_createDCtx();
  std::string got(want.size() + 1, '\0');
  ZSTD_inBuffer in{p.bytes.data(), p.bytes.size(), 0};
  ZSTD_outBuffer out{got.data(), got.size(), 0};
  while (in.pos < in.size) {
    const size_t r = ZSTD_decompressStream(d, &out, &in);
    ASSERT_FALSE(ZSTD_isError(r)) << ZSTD_getErrorName(r);
  }
  ZSTD_freeDCtx(d);
  got.resize(out.pos);
  EXPECT_EQ(got, want);
}

TEST(ArchiveTest, OneEntryIsReadWithRangedReadsOfItsFramesOnly) {
  Packed p = MixedArchive();
  StringRangeSource src(p.bytes);
  auto r = Reader::Open(src);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(src.reads(), 3);  // header, trailer, manifest
  const Entry& big = *(*r)->Find("big.log");
  const int before = src.reads();
  const uint64_t bytes_before = src.bytes_read();
  EXPECT_EQ(ReadBack(**r, big), p.entries[7].second);
  EXPECT_EQ(src.reads() - before, 5);
  uint64_t frames_bytes = 0;
  for (uint32_t i = big.first_frame; i < big.first_frame + big.frame_count; ++i) {
    frames_bytes += (*r)->manifest().frames[i].stored_size;
  }
  EXPECT_EQ(src.bytes_read() - bytes_before, frames_bytes);
  EXPECT_LT(frames_bytes, p.bytes.size() / 2);
  // A small entry in a shared frame: one read.
  const int before_small = src.reads();
  EXPECT_EQ(ReadBack(**r, *(*r)->Find("日本/🙂")), p.entries[3].second);
  EXPECT_EQ(src.reads() - before_small, 1);
}

TEST(ArchiveTest, TruncatedOrForeignArchiveIsRefusedWithOneLine) {
  Packed p = MixedArchive();
  for (size_t cut : {size_t{0}, size_t{10}, kHeaderSize + kTrailerSize - 1, p.bytes.size() / 2,
                     p.bytes.size() - 1, p.bytes.size() - kTrailerSize}) {
    const std::string_view part = std::string_view(p.bytes).substr(0, cut);
    StringRangeSource src(part);
    auto r = Reader::Open(src);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss) << cut;
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
  const std::string foreign = Text(4096, 1);
  StringRangeSource src(foreign);
  auto r = Reader::Open(src);
  EXPECT_EQ(r.status().message(), "not a ferry archive (bad magic number)");
  // A damaged manifest fails its checksum.
  std::string bad = p.bytes;
  bad[bad.size() - kTrailerSize - 3] ^= 0x40;
  StringRangeSource bad_src(bad);
  EXPECT_EQ(Reader::Open(bad_src).status().message(),
            "corrupt archive: manifest checksum mismatch");
}

std::string ZstdOf(std::string_view plain) {
  std::string packed(ZSTD_compressBound(plain.size()), '\0');
  const size_t n = ZSTD_compress(packed.data(), packed.size(), plain.data(), plain.size(), 19);
  EXPECT_FALSE(ZSTD_isError(n));
  packed.resize(ZSTD_isError(n) ? 0 : n);
  return packed;
}

// An archive framed as a writer of format `version` frames it: header, `data_frames`, the
// manifest frame holding `packed_manifest` (zstd-compressed manifest bytes), trailer.
std::string FramedArchive(std::string_view data_frames, std::string_view packed_manifest,
                          uint32_t version) {
  std::string bytes = EncodeHeader(version);
  bytes += data_frames;
  const uint64_t manifest_offset = bytes.size();
  const auto payload = static_cast<uint32_t>(packed_manifest.size());
  for (uint32_t v : {kSkippableMagic, payload}) {
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  bytes += packed_manifest;
  bytes += EncodeTrailer(
      Trailer{.manifest_offset = manifest_offset,
              .manifest_size = packed_manifest.size() + 8,
              .manifest_crc32c = checksum::Crc32c(checksum::AsBytes(packed_manifest))},
      version);
  return bytes;
}

// An archive an older ferry wrote (format version 1: header, manifest and trailer say 1, no
// lock fields) still opens, and every entry reads back with its bytes and metadata.
TEST(ArchiveTest, AVersionOneArchiveStillReads) {
  Packed p = MixedArchive();
  StringRangeSource now_src(p.bytes);
  auto now = Reader::Open(now_src);
  ASSERT_TRUE(now.ok());
  Manifest m = (*now)->manifest();
  for (Entry& e : m.entries) e.header.lock = {};  // version 1 had none
  const FrameInfo& last = m.frames.back();
  const std::string data = p.bytes.substr(kHeaderSize, last.offset + last.stored_size - kHeaderSize);
  const std::string old = FramedArchive(data, ZstdOf(EncodeManifest(m, 1)), 1);
  ASSERT_EQ(old[16], 1);
  StringRangeSource src(old);
  auto r = Reader::Open(src);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ((*r)->entries().size(), p.entries.size());
  for (size_t i = 0; i < p.entries.size(); ++i) {
    const Entry& e = (*r)->entries()[i];
    EntryHeader want = p.entries[i].first;
    want.lock = {};
    EXPECT_EQ(e.header, want);
    EXPECT_EQ(ReadBack(**r, e), p.entries[i].second) << e.header.key;
  }
  // The entry that has a lock in the version-2 archive has none here.
  ASSERT_TRUE((*now)->Find("a.json")->header.lock.any());
  EXPECT_FALSE((*r)->Find("a.json")->header.lock.any());
}

// A hostile manifest of a few hundred bytes that zstd expands to 32 MiB of zeros (millions
// of empty entries: hundreds of MiB once decoded) is refused from its sizes, before anything of that
// size is allocated. Before, `archive ls` of such an archive used 507 MB.
TEST(ArchiveTest, AManifestThatWouldExpandFarBeyondItsSizeIsRefused) {
  std::string plain(32u << 20, '\0');
  plain[0] = 1;                       // format version
  plain[2] = static_cast<char>(0xff);  // entries: a count as large as what follows allows
  plain[3] = static_cast<char>(0xff);
  plain[4] = 0x7f;
  const std::string packed = ZstdOf(plain);
  ASSERT_LT(packed.size(), 64u * 1024);
  const std::string bytes = FramedArchive("", packed, kFormatVersion);
  StringRangeSource src(bytes);
  auto r = Reader::Open(src);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.status().message().find("would expand to 33554432 bytes"), std::string::npos)
      << r.status().message();
}

TEST(ArchiveTest, CorruptFrameFailsTheChecksum) {
  Packed p = MixedArchive();
  StringRangeSource src0(p.bytes);
  auto r0 = Reader::Open(src0);
  ASSERT_TRUE(r0.ok());
  for (const char* key : {"noise.bin", "big.log"}) {
    const Entry& e = *(*r0)->Find(key);
    const FrameInfo& f = (*r0)->manifest().frames[e.first_frame];
    EXPECT_EQ(f.stored, std::string(key) == "noise.bin");
    std::string bad = p.bytes;
    bad[f.offset + f.stored_size / 2] ^= 0x01;  // a raw block passes zstd: only the CRC sees it
    StringRangeSource src(bad);
    auto r = Reader::Open(src);
    ASSERT_TRUE(r.ok());
    StringSink out;
    Status s = (*r)->ReadEntry(*(*r)->Find(key), out);
    EXPECT_EQ(s.code(), ErrorCode::kDataLoss) << key;
    EXPECT_NE(s.message().find(key), std::string::npos) << s.message();
  }
}

TEST(ArchiveTest, IncompressibleDataIsStoredRawWithinTwoPercent) {
  std::string noise = Random(3 << 20, 11);
  WriterOptions o;
  o.frame_size = 1 << 20;
  Packed p = Pack({{Header("noise", noise.size()), noise}}, o);
  EXPECT_LE(static_cast<double>(p.bytes.size()), 1.02 * static_cast<double>(noise.size()));
  StringRangeSource src(p.bytes);
  auto r = Reader::Open(src);
  ASSERT_TRUE(r.ok());
  const Entry& e = (*r)->entries()[0];
  EXPECT_TRUE(e.stored);
  EXPECT_EQ(e.frame_count, 3u);
  for (const FrameInfo& f : (*r)->manifest().frames) EXPECT_TRUE(f.stored);
  EXPECT_EQ(ReadBack(**r, e), noise);
  // Compressible data of the same size is compressed, not stored.
  std::string text = Text(3 << 20, 12);
  Packed t = Pack({{Header("text", text.size()), text}}, o);
  EXPECT_LT(t.bytes.size(), text.size() / 2);
}

TEST(ArchiveTest, ManySmallEntriesCompressCloseToOneSolidStream) {
  std::vector<std::pair<EntryHeader, std::string>> e;
  std::string solid;
  for (int i = 0; i < 2000; ++i) {
    std::string body = "{\"id\":" + std::to_string(i) + ",\"name\":\"user" + std::to_string(i) +
                       "\",\"region\":\"region-a\",\"tags\":[\"x\",\"y\"],\"score\":" +
                       std::to_string(i * 37 % 1000) + "}\n";
    solid += body;
    e.emplace_back(Header("obj/" + std::to_string(i) + ".json", body.size()), body);
  }
  Packed p = Pack(e, WriterOptions{});
  std::string z(ZSTD_compressBound(solid.size()), '\0');
  const size_t zn = ZSTD_compress(z.data(), z.size(), solid.data(), solid.size(), 3);
  size_t manifest = 0;
  {
    StringRangeSource src(p.bytes);
    auto r = Reader::Open(src);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->manifest().frames.size(), 1u);
    const FrameInfo& f = (*r)->manifest().frames[0];
    EXPECT_LE(static_cast<double>(f.stored_size), 1.10 * static_cast<double>(zn));
    manifest = p.bytes.size() - f.stored_size;
  }
  EXPECT_GT(manifest, 0u);
}

TEST(ArchiveTest, SourceOfTheWrongSizeFailsTheEntryAndTheWriter) {
  StringSink sink;
  auto w = Writer::Open(sink, SmallFrames());
  ASSERT_TRUE(w.ok());
  StringChunkSource shorter("abc");
  Status s = (*w)->Add(Header("k", 4), shorter);
  EXPECT_EQ(s.code(), ErrorCode::kDataLoss);
  StringChunkSource ok("abcd");
  EXPECT_EQ((*w)->Add(Header("k2", 4), ok).code(), ErrorCode::kDataLoss);  // writer broken
  StringSink sink2;
  auto w2 = Writer::Open(sink2, SmallFrames());
  std::string big = Text(40 << 10, 3);
  StringChunkSource longer(big);
  EXPECT_EQ((*w2)->Add(Header("big", big.size() - 1), longer).code(), ErrorCode::kDataLoss);
}

// The writer refuses the entry past its limits (so every archive it writes reads back), and
// the archive of the entries before it is whole.
TEST(ArchiveTest, AnEntryPastTheManifestLimitsIsRefusedByTheWriter) {
  WriterOptions o = SmallFrames();
  o.limits.max_entries = 2;
  StringSink sink;
  auto w = Writer::Open(sink, o);
  ASSERT_TRUE(w.ok());
  for (const char* key : {"a", "b"}) {
    StringChunkSource body("abcd");
    ASSERT_TRUE((*w)->Add(Header(key, 4), body).ok());
  }
  StringChunkSource third("abcd");
  Status s = (*w)->Add(Header("c", 4), third);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("at most 2 objects"), std::string::npos) << s.message();
  // Items: Header() gives each entry 2 metadata pairs, 1 tag and 1 destination.
  o.limits = {};
  o.limits.max_items = 7;
  StringSink sink2;
  auto w2 = Writer::Open(sink2, o);
  StringChunkSource one("abcd");
  ASSERT_TRUE((*w2)->Add(Header("a", 4), one).ok());
  StringChunkSource two("abcd");
  EXPECT_EQ((*w2)->Add(Header("b", 4), two).code(), ErrorCode::kInvalidArgument);
  // Within the limits the same archive reads back under them.
  o.limits = {.max_entries = 2, .max_frames = 1, .max_items = 8};
  Packed p = Pack({{Header("a", 4), "abcd"}, {Header("b", 4), "efgh"}}, o);
  StringRangeSource src(p.bytes);
  auto r = Reader::Open(src);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->manifest().entries.size(), 2u);
}

TEST(ArchiveTest, BadOptionsAreRefused) {
  StringSink sink;
  WriterOptions o;
  o.level = 0;
  EXPECT_EQ(Writer::Open(sink, o).status().code(), ErrorCode::kInvalidArgument);
  o.level = 23;
  EXPECT_EQ(Writer::Open(sink, o).status().code(), ErrorCode::kInvalidArgument);
  o.level = 3;
  o.job_size = 256 << 10;  // below zstd's smallest job
  EXPECT_EQ(Writer::Open(sink, o).status().code(), ErrorCode::kInvalidArgument);
}

// Frames many zstd jobs long (two workers, the smallest job): every entry reads back, from
// the whole archive and by ranged reads of its own frames.
TEST(ArchiveTest, FramesOfManyWorkerJobsRoundTrip) {
  const WriterOptions o = SmallJobs(4 << 20);
  std::vector<std::pair<EntryHeader, std::string>> e;
  for (int i = 0; i < 40; ++i) {
    std::string body = Text(50 << 10, static_cast<uint32_t>(i));
    e.emplace_back(Header("small/" + std::to_string(i), body.size()), body);
  }
  std::string big = Text(9 << 20, 5);  // three frames, each eight jobs
  e.emplace_back(Header("big.log", big.size()), big);
  Packed p = Pack(e, o);
  StringRangeSource src(p.bytes);
  auto r = Reader::Open(src);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ((*r)->entries().size(), p.entries.size());
  for (size_t i = 0; i < p.entries.size(); ++i) {
    EXPECT_EQ(ReadBack(**r, (*r)->entries()[i]), p.entries[i].second) << i;
  }
  EXPECT_EQ((*r)->Find("big.log")->frame_count, 3u);
  EXPECT_LT(p.bytes.size(), (9u << 20) / 2);  // compressed, not stored
}

// A source that lends its bytes in pieces of uneven sizes (as a read-ahead lends its ranges).
class LendingSource : public ChunkSource {
 public:
  LendingSource(std::string_view bytes, size_t piece) : bytes_(bytes), piece_(piece) {}
  Result<size_t> Read(std::span<std::byte> out) override {
    const size_t n = std::min(out.size(), bytes_.size() - pos_);
    std::memcpy(out.data(), bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  bool CanLend() const override { return true; }
  Result<std::span<const std::byte>> Lend() override {
    ++lends;
    // Pieces of piece_, piece_ / 3, piece_, ...: frame and zstd job ends fall inside them.
    const size_t size = (lends % 2 == 0 ? piece_ / 3 + 1 : piece_);
    lent_at_ = pos_;
    return std::span(reinterpret_cast<const std::byte*>(bytes_.data()) + pos_,
                     std::min(size, bytes_.size() - pos_));
  }
  void Consume(size_t n) override { pos_ = lent_at_ + n; }
  int lends = 0;

 private:
  std::string_view bytes_;
  size_t piece_;
  size_t pos_ = 0;
  size_t lent_at_ = 0;
};

// A large entry taken from a source that lends its bytes makes the same archive, byte for
// byte, as one read into the writer's chunk: frames split at the same raw offsets, the same
// CRC32C, the same sampling (a lent piece smaller than the sample too), stored raw when noise.
TEST(ArchiveTest, ALentSourceMakesTheSameArchiveAsARead) {
  const WriterOptions o = SmallJobs(1 << 20);
  const std::string big = Text((3 << 20) + 4321, 11);  // four frames
  const std::string noise = Random((1 << 20) + 99, 12);
  for (size_t piece : {size_t{100 << 10}, size_t{1 << 20}, size_t{4 << 20}}) {
    StringSink read_sink;
    StringSink lent_sink;
    int lends = 0;
    for (bool lend : {false, true}) {
      auto w = Writer::Open(lend ? lent_sink : read_sink, o);
      ASSERT_TRUE(w.ok());
      for (const auto& [key, body] : {std::pair<std::string, const std::string*>{"big", &big},
                                      {"noise", &noise}}) {
        Status s;
        if (lend) {
          LendingSource src(*body, piece);
          s = (*w)->Add(Header(key, body->size()), src);
          lends += src.lends;
        } else {
          StringChunkSource src(*body);
          s = (*w)->Add(Header(key, body->size()), src);
        }
        ASSERT_TRUE(s.ok()) << s.message();
      }
      ASSERT_TRUE((*w)->Finish().ok());
    }
    EXPECT_GE(lends, 2) << piece;  // one piece per entry when a piece holds it whole
    ASSERT_EQ(lent_sink.bytes.size(), read_sink.bytes.size()) << piece;
    EXPECT_TRUE(lent_sink.bytes == read_sink.bytes) << piece;
    StringRangeSource src(lent_sink.bytes);
    auto r = Reader::Open(src);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(ReadBack(**r, *(*r)->Find("big")), big);
    EXPECT_EQ(ReadBack(**r, *(*r)->Find("noise")), noise);
    EXPECT_TRUE((*r)->Find("noise")->stored);
  }
}

// A lending source that ends before the entry's size fails the entry with kDataLoss.
TEST(ArchiveTest, ALentSourceEndingEarlyFailsTheEntry) {
  WriterOptions o;
  o.threads = 2;
  o.small_limit = 64 << 10;
  const std::string big = Text(300 << 10, 13);
  StringSink sink;
  auto w = Writer::Open(sink, o);
  ASSERT_TRUE(w.ok());
  LendingSource src(big, 64 << 10);
  Status s = (*w)->Add(Header("big", big.size() + 1), src);
  EXPECT_EQ(s.code(), ErrorCode::kDataLoss) << s.message();
}

}  // namespace
}  // namespace ferry::archive

namespace ferry::archive {
namespace {

// EntryStream: every entry front to back (skipping some), each frame read and decoded once.
TEST(EntryStreamTest, ReadsEntriesInOrderDecodingEachFrameOnce) {
  Packed p = MixedArchive();
  StringRangeSource src(p.bytes);
  auto r = Reader::Open(src);
  ASSERT_TRUE(r.ok());
  const int opened_reads = src.reads();
  EntryStream stream((*r)->manifest(), src, 1 << 20);
  for (size_t i = 0; i < p.entries.size(); ++i) {
    if (i == 2) continue;  // skipped: decoded and dropped
    StringSink out;
    Status s = stream.Read(i, out);
    ASSERT_TRUE(s.ok()) << p.entries[i].first.key << ": " << s.message();
    EXPECT_EQ(out.bytes, p.entries[i].second) << p.entries[i].first.key;
  }
  EXPECT_EQ(src.reads() - opened_reads, 1);  // the whole data region in one 1 MiB read
  StringSink again;
  EXPECT_EQ(stream.Read(1, again).code(), ErrorCode::kInvalidArgument);  // backwards
}

TEST(EntryStreamTest, ACorruptFrameFailsItsEntry) {
  Packed p = MixedArchive();
  StringRangeSource clean(p.bytes);
  auto r0 = Reader::Open(clean);
  ASSERT_TRUE(r0.ok());
  // Damage the raw (stored) frames of noise.bin: zstd passes raw blocks through unchecked.
  const Entry* noise = (*r0)->Find("noise.bin");
  ASSERT_TRUE(noise->stored);
  std::string bad = p.bytes;
  const FrameInfo& f = (*r0)->manifest().frames[noise->first_frame];
  bad[f.offset + 100] = static_cast<char>(bad[f.offset + 100] ^ 1);
  StringRangeSource src(bad);
  auto r = Reader::Open(src);
  ASSERT_TRUE(r.ok());
  EntryStream stream((*r)->manifest(), src, 4096);
  Status s;
  size_t i = 0;
  for (; i < p.entries.size() && s.ok(); ++i) {
    StringSink out;
    s = stream.Read(i, out);
  }
  EXPECT_EQ(s.code(), ErrorCode::kDataLoss);
  EXPECT_EQ((*r)->entries()[i - 1].header.key, "noise.bin");
}

// The writer's clock in the test below: it moves when the slow body or sink says their time
// went by, and by a microsecond each time it is read (every stage the writer times takes some).
class TickingClock : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return {}; }
  void SleepFor(std::chrono::milliseconds d, std::stop_token stop) override {
    (void)stop;
    ns_ += std::chrono::nanoseconds(d).count();
  }
  MonoTime MonoNow() const override {
    return MonoTime(std::chrono::nanoseconds(ns_.fetch_add(1000) + 1000));
  }

 private:
  mutable std::atomic<int64_t> ns_{0};
};

// A body that takes `delay` per Read, and a sink that takes `delay` per Write (on `clock`): the
// summary's stage times must show them (they are how pack's serialisation is found, archive.md).
class SlowChunkSource : public ChunkSource {
 public:
  SlowChunkSource(std::string_view bytes, std::chrono::milliseconds delay, Clock& clock)
      : inner_(bytes), delay_(delay), clock_(clock) {}
  Result<size_t> Read(std::span<std::byte> out) override {
    clock_.SleepFor(delay_, {});
    return inner_.Read(out);
  }

 private:
  StringChunkSource inner_;
  std::chrono::milliseconds delay_;
  Clock& clock_;
};

class SlowSink : public ByteSink {
 public:
  SlowSink(std::chrono::milliseconds delay, Clock& clock) : delay_(delay), clock_(clock) {}
  Status Write(std::span<const std::byte> data) override {
    clock_.SleepFor(delay_, {});
    return inner.Write(data);
  }
  StringSink inner;

 private:
  std::chrono::milliseconds delay_;
  Clock& clock_;
};

TEST(ArchiveWriter, SummaryTimesTheWriterThreadsStages) {
  using std::chrono::milliseconds;
  TickingClock clock;
  SlowSink sink(milliseconds(2), clock);
  WriterOptions o = SmallFrames();
  o.clock = &clock;
  auto w = Writer::Open(sink, o);
  ASSERT_TRUE(w.ok());
  const std::string big = Text(300 << 10, 5);  // 5 compressed frames of 64 KiB
  SlowChunkSource body(big, milliseconds(5), clock);
  ASSERT_TRUE((*w)->Add(Header("big.log", big.size()), body).ok());
  auto summary = (*w)->Finish();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->frames, 5u);
  // The body fits one 1 MiB chunk: one Read of 5 ms at least.
  EXPECT_GE(summary->read_seconds, 0.005);
  // The header, the frames, the manifest, the trailer: 2 ms per write at least.
  EXPECT_GE(summary->sink_seconds, 0.002 * 8);
  EXPECT_GT(summary->feed_seconds, 0.0);
  EXPECT_GT(summary->frame_end_seconds, 0.0);
  // The bytes written through the slow sink read back exactly.
  StringRangeSource src(sink.inner.bytes);
  auto r = Reader::Open(src);
  ASSERT_TRUE(r.ok());
  StringSink out;
  ASSERT_TRUE((*r)->ReadEntry((*r)->entries()[0], out).ok());
  EXPECT_EQ(out.bytes, big);
}

}  // namespace
}  // namespace ferry::archive
