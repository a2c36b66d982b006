// The engine never lets bytes corrupted on the way become visible at the destination: reads
// are checked against what the source declares (ferry's CRC32C, an MD5 ETag, a multipart ETag
// whose part layout is reproduced) before the write, or by the destination itself
// (Content-MD5); what nothing could check is counted. CorruptingBackend flips one byte of
// chosen reads of a MemoryBackend, as a faulty network path would.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "transfer/content.h"
#include "transfer/low_level_retries.h"
#include "transfer/memory_fixture.h"
#include "transfer/sync.h"
#include "transfer/verify.h"

namespace ferry::transfer {
namespace {

using storage::Backend;
using storage::MemoryBackend;
using testing::Bytes;
using testing::Put;
using testing::PutMultipart;
using testing::SmallParts;
using storage::ObjectInfo;

// A MemoryBackend whose reads flip one byte, for the first `corrupt_reads` reads (then clean),
// and which can report the part size of multipart objects (as AWS does with partNumber).
class CorruptingBackend : public MemoryBackend {
 public:
  explicit CorruptingBackend(Options o) : MemoryBackend(std::move(o)) {}
  std::atomic<int> corrupt_reads{0};
  std::optional<uint64_t> told_part_size;

  Status ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                std::string_view etag, std::stop_token stop) override {
    FERRY_RETURN_IF_ERROR(MemoryBackend::ReadAt(key, offset, out, etag, stop));
    Flip(out);
    return Status::Ok();
  }
  Result<ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                std::string_view etag, std::stop_token stop) override {
    auto r = MemoryBackend::ReadObject(key, out, etag, stop);
    if (r.ok()) Flip(out);
    return r;
  }
  Result<std::optional<uint64_t>> FirstPartSize(const ObjectInfo& object,
                                                std::stop_token stop) override {
    (void)object, (void)stop;
    return told_part_size;
  }

 private:
  void Flip(std::span<std::byte> out) {
    if (out.empty() || corrupt_reads.fetch_sub(1) <= 0) return;
    out[out.size() / 2] ^= std::byte{0x20};
  }
};

SyncOptions Options() {
  SyncOptions o;
  o.executor.concurrency = 4;
  o.executor.memory_budget = 256 * 1024;
  o.transfer.part_size = 4096;
  o.transfer.multipart_threshold = 20000;
  return o;
}

SyncResult RunOnce(Backend& src, Backend& dst, Stats& stats, SyncOptions options = Options()) {
  return testing::SyncOnOwnExecutor(src, dst, options, stats, {});
}

TEST(VerifyTest, CandidatePartSizesReproduceCommonLayouts) {
  const uint64_t mib = 1 << 20;
  auto c = CandidatePartSizes(20'000'000, 3);  // aws cli: 8 MiB parts
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0], 8 * mib);
  for (uint64_t p : c) EXPECT_EQ((20'000'000 + p - 1) / p, 3u);
  EXPECT_TRUE(CandidatePartSizes(100, 0).empty());
  EXPECT_EQ(CandidatePartSizes(100, 1), std::vector<uint64_t>{100});
}

TEST(VerifyTest, CheckOfReadsWhatTheSourceDeclares) {
  ObjectInfo o;
  o.etag = "0123456789abcdef0123456789abcdef";
  EXPECT_TRUE(CheckOf(o).md5.has_value());
  o.etag = "0123456789abcdef0123456789abcdef-12";
  SourceCheck c = CheckOf(o);
  EXPECT_TRUE(c.multipart.has_value());
  EXPECT_EQ(c.parts, 12);
  o.etag_opaque = true;  // SSE-KMS: not a digest of the bytes
  EXPECT_FALSE(CheckOf(o).any());
  o.etag_opaque = false;
  o.etag = "garbage-x";
  EXPECT_FALSE(CheckOf(o).any());
  o.has_details = true;
  o.metadata[storage::kMetaCrc32c] = "0a0b0c0d";
  EXPECT_EQ(CheckOf(o).crc32c, 0x0a0b0c0du);
}

TEST(IntegrityTest, CorruptWholeReadOfMd5ObjectIsReadAgainNeverWritten) {
  CorruptingBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  const std::string body = Bytes(3000, 1);
  Put(src, "k", body);  // MD5 ETag, no ferry checksum (another tool's object)
  src.corrupt_reads = 1;
  Stats stats;
  ASSERT_TRUE(RunOnce(src, dst, stats).status.ok());
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.checksum_retries.load(), 1u);
  EXPECT_EQ(dst.Contents("k"), body);
  EXPECT_EQ(stats.objects_unverified.load(), 0u);
}

// --low-level-retries: a read refused by its checksum is done again that many times, no more.
TEST(IntegrityTest, CorruptReadsAreDoneAgainUpToTheLowLevelRetries) {
  struct Restore {
    ~Restore() { SetLowLevelRetries(kDefaultLowLevelRetries); }
  } restore;
  for (int retries : {0, 3, 10}) {
    SetLowLevelRetries(retries);
    for (int corrupt : {retries, retries + 1}) {
      CorruptingBackend src(SmallParts("a"));
      MemoryBackend dst(SmallParts("b"));
      const std::string body = Bytes(3000, 4);
      Put(src, "k", body);
      src.corrupt_reads = corrupt;
      Stats stats;
      RunOnce(src, dst, stats);
      const bool copied = corrupt <= retries;
      EXPECT_EQ(stats.failures(), copied ? 0u : 1u) << retries << " " << corrupt;
      EXPECT_EQ(stats.checksum_retries.load(), static_cast<uint64_t>(std::min(corrupt, retries)))
          << retries << " " << corrupt;
      EXPECT_EQ(dst.Contents("k"), copied ? std::optional<std::string>(body) : std::nullopt)
          << retries << " " << corrupt;
    }
  }
}

TEST(IntegrityTest, PersistentCorruptionFailsAndKeepsTheOldDestination) {
  for (bool dst_checks_md5 : {true, false}) {  // S3-like destination, and a local-like one
    CorruptingBackend src(SmallParts("a"));
    MemoryBackend::Options o = SmallParts("b");
    o.features.verifies_content_md5 = dst_checks_md5;
    MemoryBackend dst(o);
    Put(src, "k", Bytes(3000, 2));
    Put(dst, "k", Bytes(3000, 3));  // the old version, same size: must survive
    const auto old = dst.Contents("k");
    src.corrupt_reads = 1000;
    Stats stats;
    RunOnce(src, dst, stats);
    ASSERT_EQ(stats.failures(), 1u) << dst_checks_md5;
    EXPECT_EQ(stats.KeptFailures()[0].status.code(), ErrorCode::kDataLoss);
    EXPECT_EQ(dst.Contents("k"), old) << dst_checks_md5;
  }
}

TEST(IntegrityTest, CorruptPartOfCrcObjectAbortsTheUpload) {
  CorruptingBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  const std::string body = Bytes(50000, 4);
  Put(src, "big", body,
      {{storage::kMetaCrc32c, checksum::Hex32(checksum::Crc32c(checksum::AsBytes(body)))}});
  src.corrupt_reads = 1;
  Stats stats;
  RunOnce(src, dst, stats);
  ASSERT_EQ(stats.failures(), 1u);
  EXPECT_EQ(stats.KeptFailures()[0].status.code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(dst.Contents("big").has_value());
  EXPECT_EQ(dst.open_writers(), 0);
  Stats again;  // the next run copies it
  ASSERT_TRUE(RunOnce(src, dst, again).status.ok());
  EXPECT_EQ(again.failures(), 0u);
  EXPECT_EQ(dst.Contents("big"), body);
}

// ferry-crc32c is a writer's claim (docs/design/integrity.md): a source whose claim is stale
// (its bytes rewritten by a tool that kept the metadata) but whose MD5 ETag the store computed
// matches the bytes read is copied, stamped with the CRC32C of those bytes; a read damaged on
// the way is still refused by the ETag and read again.
TEST(IntegrityTest, AStaleFerryCrcClaimIsOverruledByTheStoresMd5) {
  CorruptingBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  const std::string body = Bytes(3000, 7);
  Put(src, "k", body, {{storage::kMetaCrc32c, "0badc0de"}});
  src.corrupt_reads = 1;
  Stats stats;
  ASSERT_TRUE(RunOnce(src, dst, stats).status.ok());
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.checksum_retries.load(), 1u);  // the damaged read, refused by the MD5
  EXPECT_EQ(dst.Contents("k"), body);
  auto written = dst.Stat("k", false, {});
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->crc32c(), checksum::Crc32c(checksum::AsBytes(body)));
  // The check itself: the store's digest decides over the claim, both ways.
  const auto data = checksum::AsBytes(body);
  const uint32_t crc = checksum::Crc32c(data);
  SourceCheck check;
  check.crc32c = 0x0badc0de;
  check.md5 = checksum::Md5(data);
  EXPECT_EQ(CheckWhole(check, data, crc, false), WholeCheck::kVerified);
  check.crc32c = crc;  // a claim of these bytes over an MD5 of others: the MD5 is not asked
  EXPECT_EQ(CheckWhole(check, data, crc, false), WholeCheck::kVerified);
  check.declared = checksum::Declared{.algorithm = checksum::Algorithm::kSha256,
                                      .value = checksum::Compute(checksum::Algorithm::kSha256,
                                                                 checksum::AsBytes(std::string("x"))),
                                      .parts = 0};
  EXPECT_EQ(CheckWhole(check, data, crc, false), WholeCheck::kMismatch);  // the store decides
  check.declared->value = checksum::Compute(checksum::Algorithm::kSha256, data);
  check.crc32c = 0x0badc0de;
  EXPECT_EQ(CheckWhole(check, data, crc, false), WholeCheck::kVerified);
  // Only the claim, and it does not match: refused (read again), never written unchecked.
  SourceCheck only_claim;
  only_claim.crc32c = 0x0badc0de;
  EXPECT_EQ(CheckWhole(only_claim, data, crc, false), WholeCheck::kMismatch);
}

// --checksum (SameContent): equal ferry-crc32c claims over bytes that differ, on objects whose
// multipart ETags prove nothing, are read and found different; unequal claims over the same
// bytes are found the same.
TEST(IntegrityTest, SameContentReadsBytesWhatEverTheClaims) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  const std::string body = Bytes(5000, 8);
  std::string changed = body;
  changed[2500] ^= 0x01;
  PutMultipart(src, "k", body, 1024);
  PutMultipart(dst, "k", changed, 2048);
  PutMultipart(dst, "same", body, 2048);
  auto s = src.Stat("k", false, {});
  auto d = dst.Stat("k", false, {});
  auto same = dst.Stat("same", false, {});
  ASSERT_TRUE(s.ok() && d.ok() && same.ok());
  const std::string claim = checksum::Hex32(checksum::Crc32c(checksum::AsBytes(body)));
  s->metadata[storage::kMetaCrc32c] = claim;
  d->metadata[storage::kMetaCrc32c] = claim;  // kept over the changed bytes
  same->key = "same";
  same->metadata[storage::kMetaCrc32c] = "0badc0de";  // stale over the same bytes
  ByteBudget budget(1 << 20);
  auto r = SameContent({.backend = src, .object = *s}, {.backend = dst, .object = *d}, budget,
                       1024, {});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  s->key = "k";
  r = SameContent({.backend = src, .object = *s}, {.backend = dst, .object = *same}, budget, 1024,
                  {});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
}

TEST(IntegrityTest, MultipartEtagOfAnotherToolIsReproducedAndChecked) {
  // Written by "another tool" with 5,000-byte parts: no ferry checksum, ETag "<md5>-10".
  for (bool whole : {false, true}) {
    CorruptingBackend src(SmallParts("a"));
    MemoryBackend dst(SmallParts("b"));
    const std::string body = Bytes(50000, 5);
    PutMultipart(src, "big", body, 5000);
    src.told_part_size = 5000;  // the store tells the layout (AWS: HEAD ?partNumber=1)
    SyncOptions o = Options();
    if (whole) o.transfer.multipart_threshold = 1 << 20;  // copied in one read and one write
    src.corrupt_reads = 1;
    Stats stats;
    RunOnce(src, dst, stats, o);
    if (whole) {  // read again at once
      EXPECT_EQ(stats.failures(), 0u);
      EXPECT_EQ(stats.checksum_retries.load(), 1u);
      EXPECT_EQ(dst.Contents("big"), body);
    } else {  // the upload is aborted; the next run copies it
      ASSERT_EQ(stats.failures(), 1u);
      EXPECT_EQ(stats.KeptFailures()[0].status.code(), ErrorCode::kDataLoss);
      EXPECT_FALSE(dst.Contents("big").has_value());
      Stats again;
      ASSERT_TRUE(RunOnce(src, dst, again, o).status.ok());
      EXPECT_EQ(again.failures(), 0u);
      EXPECT_EQ(again.objects_unverified.load(), 0u);
      EXPECT_EQ(dst.Contents("big"), body);
      auto a = src.Stat("big", false, {});
      auto b = dst.Stat("big", false, {});
      EXPECT_EQ(a->etag, b->etag);  // same layout: the same multipart ETag
    }
  }
}

// A MemoryBackend destination that reports each written part's MD5 as S3 does (the UploadPart
// ETag: the MD5 of the bytes the store received), or a wrong one when `lie` is set.
class PartMd5Backend : public MemoryBackend {
 public:
  explicit PartMd5Backend(Options o) : MemoryBackend(std::move(o)) {}
  std::atomic<int> reported{0};
  std::atomic<bool> lie{false};

  Result<std::unique_ptr<storage::ChunkWriter>> OpenChunkWriter(std::string_view key,
                                                                const storage::WriteSpec& spec,
                                                                uint64_t part_size,
                                                                std::stop_token stop) override {
    FERRY_ASSIGN_OR_RETURN(auto inner, MemoryBackend::OpenChunkWriter(key, spec, part_size, stop));
    return std::unique_ptr<storage::ChunkWriter>(new Writer(*this, std::move(inner)));
  }

 private:
  class Writer : public storage::ChunkWriter {
   public:
    Writer(PartMd5Backend& owner, std::unique_ptr<storage::ChunkWriter> inner)
        : owner_(owner), inner_(std::move(inner)) {}
    const std::string& upload_id() const override { return inner_->upload_id(); }
    Status WriteChunk(int part, uint64_t offset, std::span<const std::byte> data,
                      std::stop_token stop) override {
      FERRY_RETURN_IF_ERROR(inner_->WriteChunk(part, offset, data, stop));
      std::string bytes(reinterpret_cast<const char*>(data.data()), data.size());
      if (owner_.lie) bytes += "x";
      std::lock_guard lock(mu_);
      md5s_[part] = checksum::Hex(checksum::Md5(checksum::AsBytes(bytes)));
      return Status::Ok();
    }
    std::string WrittenPartMd5(int part) const override {
      owner_.reported += 1;
      std::lock_guard lock(mu_);
      auto it = md5s_.find(part);
      return it == md5s_.end() ? std::string() : it->second;
    }
    void AddMetadataOnCommit(std::map<std::string, std::string> extra) override {
      inner_->AddMetadataOnCommit(std::move(extra));
    }
    Result<storage::WriteResult> Commit(std::stop_token stop) override {
      return inner_->Commit(stop);
    }
    Status Abort() override { return inner_->Abort(); }
    Result<std::optional<std::vector<storage::StoredPart>>> ListStoredParts(
        std::stop_token stop) override {
      return inner_->ListStoredParts(stop);
    }
    void AdoptPart(const storage::StoredPart& part) override { inner_->AdoptPart(part); }
    void Detach() override { inner_->Detach(); }

   private:
    PartMd5Backend& owner_;
    std::unique_ptr<storage::ChunkWriter> inner_;
    mutable std::mutex mu_;
    std::map<int, std::string> md5s_;
  };
};

// A "-N" source without ferry's CRC is checked by the digest of its part MD5s; where the store
// reports each part's MD5 (S3 part ETags: the store checked the signed payload it received),
// the engine takes it instead of hashing the part, and a corrupt read still aborts the upload.
TEST(IntegrityTest, LayoutDigestIsCheckedFromTheStoresPartMd5s) {
  CorruptingBackend src(SmallParts("a"));
  PartMd5Backend dst(SmallParts("b"));
  const std::string body = Bytes(50000, 9);
  PutMultipart(src, "big", body, 5000);
  src.told_part_size = 5000;  // the exact layout: a mismatch is corruption

  src.corrupt_reads = 1;
  Stats corrupt;
  RunOnce(src, dst, corrupt);
  ASSERT_EQ(corrupt.failures(), 1u);
  EXPECT_EQ(corrupt.KeptFailures()[0].status.code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(dst.Contents("big").has_value());  // aborted: nothing visible
  EXPECT_EQ(dst.open_writers(), 0);

  // The MD5s the store reports are what is compared: a store that got other bytes than the
  // source's (here: says so) fails the check although every read was clean.
  dst.lie = true;
  Stats lied;
  RunOnce(src, dst, lied);
  ASSERT_EQ(lied.failures(), 1u);
  EXPECT_EQ(lied.KeptFailures()[0].status.code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(dst.Contents("big").has_value());

  dst.lie = false;
  dst.reported = 0;
  Stats clean;
  ASSERT_TRUE(RunOnce(src, dst, clean).status.ok());
  EXPECT_EQ(clean.failures(), 0u);
  EXPECT_EQ(clean.objects_unverified.load(), 0u);
  EXPECT_EQ(dst.reported.load(), 10);  // one per part
  EXPECT_EQ(dst.Contents("big"), body);
}

TEST(IntegrityTest, UnknownLayoutIsCountedUnverified) {
  CorruptingBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  const std::string body = Bytes(50000, 6);
  PutMultipart(src, "big", body, 4999);  // no candidate reproduces it, the store cannot tell
  Stats stats;
  ASSERT_TRUE(RunOnce(src, dst, stats).status.ok());
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.objects_unverified.load(), 1u);
  EXPECT_EQ(dst.Contents("big"), body);
}

// A large object another tool wrote in one PUT: its ETag is the MD5 of all its bytes, which the
// parts (finishing in any order) cannot compute; an in-order second read does, before the
// upload completes.
TEST(IntegrityTest, LargeObjectWithAnMd5EtagIsCheckedBeforeCompleting) {
  CorruptingBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  const std::string body = Bytes(50000, 9);
  Put(src, "big", body);  // MD5 ETag, no ferry checksum
  src.corrupt_reads = 1;  // the first part read is corrupted
  Stats stats;
  RunOnce(src, dst, stats);
  ASSERT_EQ(stats.failures(), 1u);
  EXPECT_EQ(stats.KeptFailures()[0].status.code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(dst.Contents("big").has_value());
  Stats again;
  ASSERT_TRUE(RunOnce(src, dst, again).status.ok());
  EXPECT_EQ(again.failures(), 0u);
  EXPECT_EQ(again.objects_unverified.load(), 0u);
  EXPECT_EQ(dst.Contents("big"), body);
}

// Another tool's multipart object on a store that cannot tell its part size (RGW): the
// layout is guessed from the sizes tools use. A corrupted read is caught (the digest differs,
// and a second read disagrees with the first); a wrong guess (two reads agree) is counted
// unverified, never failed forever.
TEST(IntegrityTest, GuessedLayoutCatchesCorruptionAndCountsAWrongGuess) {
  SyncOptions o = Options();
  o.executor.memory_budget = 64 << 20;
  o.transfer.multipart_threshold = 1 << 20;
  const std::string body = Bytes(20'000'000, 8);
  {
    CorruptingBackend src(SmallParts("a"));  // written with the AWS CLI's 8 MiB parts
    MemoryBackend dst(SmallParts("b"));
    PutMultipart(src, "big", body, 8 << 20);
    src.corrupt_reads = 1;
    Stats stats;
    RunOnce(src, dst, stats, o);
    ASSERT_EQ(stats.failures(), 1u);
    EXPECT_EQ(stats.KeptFailures()[0].status.code(), ErrorCode::kDataLoss);
    EXPECT_FALSE(dst.Contents("big").has_value());
    Stats again;
    ASSERT_TRUE(RunOnce(src, dst, again, o).status.ok());
    EXPECT_EQ(again.failures(), 0u);
    EXPECT_EQ(again.objects_unverified.load(), 0u);  // the guess was right: verified
    EXPECT_EQ(dst.Contents("big"), body);
  }
  {
    CorruptingBackend src(SmallParts("a"));  // 7 MiB parts: the 8 MiB guess is wrong
    MemoryBackend dst(SmallParts("b"));
    PutMultipart(src, "big", body, 7 << 20);
    Stats stats;
    ASSERT_TRUE(RunOnce(src, dst, stats, o).status.ok());
    EXPECT_EQ(stats.failures(), 0u);
    EXPECT_EQ(stats.objects_unverified.load(), 1u);
    EXPECT_EQ(dst.Contents("big"), body);
  }
}

}  // namespace
}  // namespace ferry::transfer

namespace ferry::transfer {
namespace {

// A source whose object is replaced after the engine first looked at it: every later Stat
// sees another version.
class ChangingSource : public MemoryBackend {
 public:
  explicit ChangingSource(Options o) : MemoryBackend(std::move(o)) {}
  std::atomic<int> stats_seen{0};
  Result<ObjectInfo> Stat(std::string_view key, bool with_tags, std::stop_token stop) override {
    auto r = MemoryBackend::Stat(key, with_tags, stop);
    if (r.ok() && stats_seen.fetch_add(1) >= 1) r->etag = "0123456789abcdef0123456789abcdef";
    return r;
  }
};

TEST(IntegrityTest, ServerSideMultipartCopyChecksTheSourceBeforeCompleting) {
  ChangingSource src(SmallParts("same"));
  MemoryBackend dst(SmallParts("same"));
  Put(src, "big", Bytes(30000, 7));
  SyncOptions o = Options();
  o.transfer.server_side_copy_limit = 10000;  // copied in parts on the server
  Stats stats;
  RunOnce(src, dst, stats, o);
  ASSERT_EQ(stats.failures(), 1u);
  EXPECT_EQ(stats.KeptFailures()[0].status.code(), ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(dst.Contents("big").has_value());
  EXPECT_EQ(dst.open_writers(), 0);
}

}  // namespace
}  // namespace ferry::transfer

namespace ferry::transfer {
namespace {

using testing::MemoryJournal;

// Copies `listed` with `journal` through one engine, as a transfer job does.
Status CopyOne(Backend& src, Backend& dst, const ObjectInfo& listed,
               std::shared_ptr<UploadJournal> journal, Stats& stats) {
  const SyncOptions o = Options();
  Status result = Status::Internal("not done");
  {
    Executor executor(o.executor);
    TransferEngine engine(executor, o.transfer, src, dst, stats);
    CopyRequest r;
    r.src = listed;
    r.journal = std::move(journal);
    r.done = [&](const Status& s) { result = s; };
    engine.Copy(std::move(r));
    engine.Wait();
  }
  return result;
}

using testing::Listed;

// An upload interrupted (here: a transient failure to complete it keeps it
// for the journal) whose source is then overwritten with other bytes of the same size must not be
// resumed: the old parts are of the old version. The next attempt aborts it and starts over.
TEST(IntegrityTest, ResumeNeverMixesTwoVersionsOfTheSource) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  const std::string v1 = Bytes(30000, 10), v2 = Bytes(30000, 11);
  Put(src, "big", v1);
  auto journal = std::make_shared<MemoryJournal>();
  // Every part is written and journaled; completing fails (transient): the upload is kept.
  dst.FailNext(MemoryBackend::kCommit, 1, Status::Unavailable("503 on complete"));
  Stats first;
  EXPECT_EQ(CopyOne(src, dst, Listed(src, "big"), journal, first).code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(journal->upload_.has_value()) << "kept for the next attempt";
  EXPECT_GT(journal->upload_->parts.size(), 0u);
  Put(src, "big", v2);  // overwritten between the attempts, same size
  Stats second;
  ASSERT_TRUE(CopyOne(src, dst, Listed(src, "big"), journal, second).ok());
  EXPECT_EQ(second.uploads_restarted.load(), 1u);
  EXPECT_EQ(second.parts_resumed.load(), 0u);
  EXPECT_EQ(dst.Contents("big"), v2);
  auto pending = dst.ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty()) << "the stale upload was aborted";
  // Same version: the parts are adopted, not sent again.
  Put(src, "big2", v1);
  auto j2 = std::make_shared<MemoryJournal>();
  dst.FailNext(MemoryBackend::kCommit, 1, Status::Unavailable("503 on complete"));
  Stats a;
  EXPECT_FALSE(CopyOne(src, dst, Listed(src, "big2"), j2, a).ok());
  Stats b;
  ASSERT_TRUE(CopyOne(src, dst, Listed(src, "big2"), j2, b).ok());
  EXPECT_EQ(b.uploads_restarted.load(), 0u);
  EXPECT_GT(b.parts_resumed.load(), 0u);
  EXPECT_EQ(dst.Contents("big2"), v1);
}

// No upload goes unrecorded (journal.h). An attempt killed between creating an upload and
// recording it left a Creating record: the next attempt aborts the key's uploads started since
// (less the margin), and only those: another key's, and one started long before, stay.
TEST(IntegrityTest, AnUploadCreatedButNotRecordedIsAbortedByTheNextAttempt) {
  ferry::testing::FakeClock clock(std::chrono::system_clock::now() - std::chrono::minutes(5));
  MemoryBackend src(SmallParts("a"));
  auto dst_options = SmallParts("b");
  dst_options.clock = &clock;
  MemoryBackend dst(dst_options);
  Put(src, "big", Bytes(30000, 12));
  auto open_and_leave = [&](const std::string& key) {
    storage::WriteSpec spec;
    spec.size = 30000;
    auto w = dst.OpenChunkWriter(key, spec, 1024, {});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    (*w)->Detach();
  };
  open_and_leave("big");  // five minutes ago: not this job's (another tool's, or older)
  clock.SleepFor(std::chrono::minutes(5), {});
  auto journal = std::make_shared<MemoryJournal>();
  journal->upload_ = UploadJournal::Upload{"", 0, "pin", {}, clock.Now()};
  open_and_leave("big");    // the killed attempt's upload
  open_and_leave("big-2");  // another key's
  Stats stats;
  ASSERT_TRUE(CopyOne(src, dst, Listed(src, "big"), journal, stats).ok());
  EXPECT_EQ(dst.Contents("big"), Bytes(30000, 12));
  EXPECT_EQ(stats.uploads_restarted.load(), 1u);
  auto pending = dst.ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u) << "the older upload and the other key's stay";
  EXPECT_FALSE(journal->upload_.has_value()) << "cleared after the commit";
}

// A worker whose lease is lost between creating an upload and recording it (Begin fails) aborts
// it: the job's next holder cannot know it. One that cannot record Creating creates nothing.
TEST(IntegrityTest, AnUploadThatCannotBeRecordedIsAborted) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  Put(src, "big", Bytes(30000, 13));
  auto journal = std::make_shared<MemoryJournal>();
  journal->begin_error = Status::Cancelled("lease lost");
  Stats stats;
  EXPECT_EQ(CopyOne(src, dst, Listed(src, "big"), journal, stats).code(), ErrorCode::kCancelled);
  auto pending = dst.ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty()) << "aborted";
  auto j2 = std::make_shared<MemoryJournal>();
  j2->creating_error = Status::Cancelled("lease lost");
  Stats s2;
  EXPECT_EQ(CopyOne(src, dst, Listed(src, "big"), j2, s2).code(), ErrorCode::kCancelled);
  pending = dst.ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty()) << "nothing created";
  EXPECT_FALSE(dst.Contents("big").has_value());
}

// Item 5: an object changed after it was listed fails its pinned read (412); the engine looks
// at it again and copies the current version instead of failing forever.
TEST(IntegrityTest, ObjectChangedSinceListedIsCopiedInItsCurrentVersion) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  Put(src, "k", "old bytes");
  const ObjectInfo listed = Listed(src, "k");
  Put(src, "k", "new bytes, longer");
  Stats stats;
  ASSERT_TRUE(CopyOne(src, dst, listed, nullptr, stats).ok());
  EXPECT_EQ(dst.Contents("k"), "new bytes, longer");
  // Deleted since it was listed: nothing to copy, not a failure.
  Put(src, "gone", "x");
  const ObjectInfo gone = Listed(src, "gone");
  ASSERT_TRUE(src.Delete("gone", {}).ok());
  Stats after;
  EXPECT_TRUE(CopyOne(src, dst, gone, nullptr, after).ok());
  EXPECT_FALSE(dst.Contents("gone").has_value());
}

}  // namespace
}  // namespace ferry::transfer
