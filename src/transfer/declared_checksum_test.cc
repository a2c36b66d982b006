// S3's additional checksums on the data path (docs/design/integrity.md §1): a source's declared
// full-object checksum (x-amz-checksum-*) is checked against the bytes read, whole or combined
// over parts, before anything becomes visible, and is a stronger check than an MD5 ETag; the
// written object carries the source's algorithm (its value when written whole) or the one
// asked for (--checksum-algorithm); metadata overrides reach the write.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>

#include "checksum/additional.h"
#include "storage/memory/memory_backend.h"
#include "transfer/memory_fixture.h"
#include "transfer/sync.h"

namespace ferry::transfer {
namespace {

using checksum::Algorithm;
using storage::MemoryBackend;
using storage::ObjectInfo;
using testing::Bytes;
using testing::SmallParts;

// A MemoryBackend whose objects declare the additional checksums set in `declared` (as S3's
// HEAD/GET with checksum mode do), and whose reads can flip one byte.
class DeclaringBackend : public MemoryBackend {
 public:
  explicit DeclaringBackend(Options o) : MemoryBackend(std::move(o)) {}
  std::map<std::string, checksum::Declared, std::less<>> declared;
  std::atomic<int> corrupt_reads{0};

  Result<ObjectInfo> Stat(std::string_view key, bool with_tags, std::stop_token stop) override {
    return Declare(MemoryBackend::Stat(key, with_tags, stop));
  }
  Result<ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                std::string_view etag, std::stop_token stop) override {
    Result<ObjectInfo> r = Declare(MemoryBackend::ReadObject(key, out, etag, stop));
    if (r.ok()) Flip(out);
    return r;
  }
  Status ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                std::string_view etag, std::stop_token stop) override {
    FERRY_RETURN_IF_ERROR(MemoryBackend::ReadAt(key, offset, out, etag, stop));
    Flip(out);
    return Status::Ok();
  }

 private:
  Result<ObjectInfo> Declare(Result<ObjectInfo> r) {
    if (r.ok()) {
      auto it = declared.find(r->key);
      if (it != declared.end()) r->checksum = it->second;
    }
    return r;
  }
  void Flip(std::span<std::byte> out) {
    if (out.empty() || corrupt_reads.fetch_sub(1) <= 0) return;
    out[out.size() / 2] ^= std::byte{0x01};
  }
};

// A MemoryBackend that records the WriteSpec of every write (whole and chunked).
class SpecRecordingBackend : public MemoryBackend {
 public:
  explicit SpecRecordingBackend(Options o) : MemoryBackend(std::move(o)) {}
  Result<storage::WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                                   const storage::WriteSpec& spec, std::stop_token stop) override {
    Record(key, spec);
    return MemoryBackend::Put(key, data, spec, stop);
  }
  Result<std::unique_ptr<storage::ChunkWriter>> OpenChunkWriter(std::string_view key,
                                                                const storage::WriteSpec& spec,
                                                                uint64_t part_size,
                                                                std::stop_token stop) override {
    Record(key, spec);
    return MemoryBackend::OpenChunkWriter(key, spec, part_size, stop);
  }
  storage::WriteSpec SpecOf(const std::string& key) {
    std::lock_guard lock(mu_);
    return specs_.at(key);
  }

 private:
  void Record(std::string_view key, const storage::WriteSpec& spec) {
    std::lock_guard lock(mu_);
    specs_[std::string(key)] = spec;
  }
  std::mutex mu_;
  std::map<std::string, storage::WriteSpec> specs_;
};

SyncOptions DeclaredOptions() {
  SyncOptions o;
  o.executor.concurrency = 4;
  o.executor.memory_budget = 256 * 1024;
  o.transfer.part_size = 4096;
  o.transfer.multipart_threshold = 20000;
  return o;
}

checksum::Declared DeclaredOf(Algorithm a, const std::string& bytes) {
  return {.algorithm = a, .value = checksum::Compute(a, checksum::AsBytes(bytes))};
}

TEST(DeclaredChecksumTest, AWrongDeclaredChecksumRefusesBytesWhoseMd5EtagIsRight) {
  for (uint64_t size : {3000u, 50000u}) {  // whole, and in parts
    DeclaringBackend src(SmallParts("a"));
    MemoryBackend dst(SmallParts("b"));
    const std::string body = Bytes(size, 11);
    testing::Put(src, "k", body);  // its MD5 ETag is right
    src.declared["k"] = DeclaredOf(Algorithm::kCrc32, Bytes(size, 12));
    Stats stats;
    testing::SyncOnOwnExecutor(src, dst, DeclaredOptions(), stats, {});
    ASSERT_EQ(stats.failures(), 1u) << size;
    EXPECT_EQ(stats.KeptFailures()[0].status.code(), ErrorCode::kDataLoss) << size;
    EXPECT_NE(stats.KeptFailures()[0].status.message().find("CRC32"), std::string::npos)
        << stats.KeptFailures()[0].status.message();
    EXPECT_FALSE(dst.Contents("k").has_value()) << size;
    EXPECT_EQ(dst.open_writers(), 0);
  }
}

TEST(DeclaredChecksumTest, EveryAlgorithmVerifiesAWholeReadAndTheCopyKeepsIt) {
  for (Algorithm a : {Algorithm::kCrc32, Algorithm::kCrc32c, Algorithm::kCrc64Nvme,
                      Algorithm::kSha1, Algorithm::kSha256}) {
    DeclaringBackend src(SmallParts("a"));
    SpecRecordingBackend dst(SmallParts("b"));
    const std::string body = Bytes(3000, 13);
    testing::Put(src, "k", body);
    src.declared["k"] = DeclaredOf(a, body);
    Stats stats;
    ASSERT_TRUE(testing::SyncOnOwnExecutor(src, dst, DeclaredOptions(), stats, {}).status.ok());
    EXPECT_EQ(stats.failures(), 0u) << checksum::AlgorithmName(a);
    EXPECT_EQ(dst.Contents("k"), body);
    const storage::WriteSpec spec = dst.SpecOf("k");
    EXPECT_EQ(spec.checksum_algorithm, a);
    EXPECT_EQ(spec.checksum_value, src.declared["k"].value);  // checked: sent for the store
  }
}

TEST(DeclaredChecksumTest, PartsCombineToTheDeclaredCrcAndCorruptionAbortsTheUpload) {
  for (Algorithm a : {Algorithm::kCrc32, Algorithm::kCrc32c, Algorithm::kCrc64Nvme}) {
    DeclaringBackend src(SmallParts("a"));
    SpecRecordingBackend dst(SmallParts("b"));
    const std::string body = Bytes(50000, 14);
    testing::PutMultipart(src, "big", body, 7000);  // another tool's layout: "-N" ETag
    src.declared["big"] = DeclaredOf(a, body);
    src.corrupt_reads = 1;
    Stats stats;
    testing::SyncOnOwnExecutor(src, dst, DeclaredOptions(), stats, {});
    ASSERT_EQ(stats.failures(), 1u) << checksum::AlgorithmName(a);
    EXPECT_EQ(stats.KeptFailures()[0].status.code(), ErrorCode::kDataLoss);
    EXPECT_FALSE(dst.Contents("big").has_value());
    EXPECT_EQ(dst.open_writers(), 0);
    Stats again;  // clean reads: copied, proven by the declared CRC alone
    ASSERT_TRUE(testing::SyncOnOwnExecutor(src, dst, DeclaredOptions(), again, {}).status.ok());
    EXPECT_EQ(again.failures(), 0u);
    EXPECT_EQ(again.objects_unverified.load(), 0u) << checksum::AlgorithmName(a);
    EXPECT_EQ(dst.Contents("big"), body);
    // Written in parts: the algorithm, not a whole-object value the parts would not make.
    EXPECT_EQ(dst.SpecOf("big").checksum_algorithm, a);
  }
}

// A source copied in parts whose ferry-crc32c is stale (a claim: integrity.md §8) but whose
// store-declared full-object CRC matches its bytes is copied: the declared CRC checks the
// parts, and the destination never carries the stale claim. Before, the claim was the
// expected CRC32C: "checksum mismatch", the upload aborted, every time.
TEST(DeclaredChecksumTest, AStaleFerryCrcClaimDoesNotFailACopyInPartsTheStoreVerifies) {
  DeclaringBackend src(SmallParts("a"));
  SpecRecordingBackend dst(SmallParts("b"));
  const std::string body = Bytes(50000, 16);
  storage::WriteSpec spec;
  spec.size = body.size();
  spec.metadata[storage::kMetaCrc32c] = "0badc0de";
  {
    auto w = src.OpenChunkWriter("big", spec, 7000, {});
    ASSERT_TRUE(w.ok());
    int n = 1;
    for (uint64_t off = 0; off < body.size(); off += 7000, ++n) {
      auto data = checksum::AsBytes(body).subspan(off, std::min<uint64_t>(7000, body.size() - off));
      ASSERT_TRUE((*w)->WriteChunk(n, off, data, {}).ok());
    }
    ASSERT_TRUE((*w)->Commit({}).ok());
  }
  src.declared["big"] = DeclaredOf(Algorithm::kCrc64Nvme, body);
  Stats stats;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src, dst, DeclaredOptions(), stats, {}).status.ok());
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(dst.Contents("big"), body);
  auto written = dst.Stat("big", false, {});
  ASSERT_TRUE(written.ok());
  EXPECT_NE(written->metadata.count(storage::kMetaCrc32c) ? written->metadata.at(storage::kMetaCrc32c)
                                                           : std::string(),
            "0badc0de");
}

TEST(DeclaredChecksumTest, CompositeChecksumsAreLeftToTheEtagsLayout) {
  DeclaringBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  const std::string body = Bytes(3000, 15);
  testing::Put(src, "k", body);
  // A composite value is not the checksum of the whole: never compared with it.
  checksum::Declared composite = DeclaredOf(Algorithm::kSha256, "other");
  composite.parts = 2;
  src.declared["k"] = composite;
  Stats stats;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src, dst, DeclaredOptions(), stats, {}).status.ok());
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(dst.Contents("k"), body);
}

TEST(DeclaredChecksumTest, AnAskedAlgorithmAndMetadataOverridesReachTheWrite) {
  DeclaringBackend src(SmallParts("a"));
  SpecRecordingBackend dst(SmallParts("b"));
  const std::string body = Bytes(3000, 16);
  testing::Put(src, "k", body, {{"owner", "x"}, {"drop", "y"}});
  src.declared["k"] = DeclaredOf(Algorithm::kCrc32, body);
  SyncOptions o = DeclaredOptions();
  o.transfer.checksum_algorithm = Algorithm::kSha256;
  o.transfer.overrides = {.metadata = {{"owner", "z"}}, .content_type = "text/csv", .replace = true};
  Stats stats;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src, dst, o, stats, {}).status.ok());
  const storage::WriteSpec spec = dst.SpecOf("k");
  EXPECT_EQ(spec.checksum_algorithm, Algorithm::kSha256);
  EXPECT_EQ(spec.checksum_value, "");  // another algorithm: the store's client computes it
  EXPECT_EQ(spec.metadata.at("owner"), "z");
  EXPECT_EQ(spec.metadata.count("drop"), 0u);
  EXPECT_EQ(spec.metadata.count(storage::kMetaCrc32c), 1u);  // ferry's own entries stay
  EXPECT_EQ(spec.content.content_type, "text/csv");
}

// --preserve-acl: the source's own grants, read for each copy, reach the write (whole and in
// parts); a source whose ACL cannot be read fails that object and writes nothing.
class AclSource : public MemoryBackend {
 public:
  explicit AclSource(Options o) : MemoryBackend(std::move(o)) {}
  storage::WriteAcl acl{"", "id=\"other\"", "", "", "id=\"owner\""};
  std::atomic<int> reads{0};
  bool refuse = false;
  Result<storage::WriteAcl> ReadAcl(const ObjectInfo& object, std::stop_token stop) override {
    (void)object, (void)stop;
    reads += 1;
    if (refuse) return Status::PermissionDenied("GetObjectAcl refused");
    return acl;
  }
};

TEST(DeclaredChecksumTest, PreservedAclsReachEveryWrite) {
  AclSource src(SmallParts("a"));
  SpecRecordingBackend dst(SmallParts("b"));
  testing::Put(src, "small", Bytes(3000, 21));
  testing::Put(src, "big", Bytes(50000, 22));
  SyncOptions o = DeclaredOptions();
  o.transfer.preserve_acl = true;
  Stats stats;
  ASSERT_TRUE(testing::SyncOnOwnExecutor(src, dst, o, stats, {}).status.ok());
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(src.reads.load(), 2);
  EXPECT_EQ(dst.SpecOf("small").acl, src.acl);
  EXPECT_EQ(dst.SpecOf("big").acl, src.acl);
  AclSource refusing(SmallParts("c"));
  refusing.refuse = true;
  testing::Put(refusing, "k", Bytes(3000, 23));
  MemoryBackend none(SmallParts("d"));
  Stats failed;
  testing::SyncOnOwnExecutor(refusing, none, o, failed, {});
  EXPECT_EQ(failed.failures(), 1u);
  EXPECT_FALSE(none.Contents("k").has_value());
}

}  // namespace
}  // namespace ferry::transfer
