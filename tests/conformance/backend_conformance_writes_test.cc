// The Backend conformance suite, part 2: chunked writes, what a write records besides the bytes
// (metadata, content headers, tags, storage class, mtime) and server-side copies. Each
// capability is tested on both sides of its features() flag: supported means it round-trips,
// unsupported means it is refused or visibly not stored.
#include <algorithm>
#include <random>
#include <thread>

#include "checksum/checksum.h"
#include "conformance/backend_factory.h"

namespace ferry::conformance {
namespace {

using std::chrono::system_clock;
using storage::ChunkWriter;
using storage::ContentHeaders;
using storage::ObjectInfo;
using storage::Tags;
using storage::WriteSpec;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

WriteSpec SpecOf(uint64_t size) {
  WriteSpec spec;
  spec.size = size;
  return spec;
}

std::span<const std::byte> Slice(const std::string& s, uint64_t offset, uint64_t n) {
  return checksum::AsBytes(std::string_view(s).substr(offset, n));
}

}  // namespace

TEST_P(BackendConformanceTest, ChunkedWriteOutOfOrderEqualsConcatenation) {
  const uint64_t part = std::max<uint64_t>(features().min_part_size, 1000);
  const std::string body = RandomBytes(2 * part + part / 2, 7);
  auto writer = backend().OpenChunkWriter("chunked", SpecOf(body.size()), part, {});
  if (!features().chunked_write) {
    EXPECT_EQ(writer.status().code(), ErrorCode::kNotSupported);
    return;
  }
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ChunkWriter& w = **writer;
  EXPECT_FALSE(w.upload_id().empty());
  ASSERT_TRUE(w.WriteChunk(3, 2 * part, Slice(body, 2 * part, part), {}).ok());
  ASSERT_TRUE(w.WriteChunk(1, 0, Slice(body, 0, part), {}).ok());
  EXPECT_EQ(ListKeys("").value(), std::vector<std::string>{}) << "nothing visible before Commit";
  ASSERT_TRUE(w.WriteChunk(2, part, Slice(body, part, part), {}).ok());
  auto etag = w.Commit({});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(ReadString("chunked").value(), body);
  auto info = backend().Stat("chunked", false, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, body.size());
  EXPECT_EQ(info->etag, etag->etag);
  EXPECT_EQ(ListKeys("").value(), std::vector<std::string>{"chunked"});
}

TEST_P(BackendConformanceTest, ChunkedWriteFromManyThreads) {
  if (!features().chunked_write) return;  // refusal covered by the out-of-order test
  const uint64_t part = std::max<uint64_t>(features().min_part_size, 1000);
  constexpr int kParts = 6;
  const std::string body = RandomBytes(kParts * part - 1, 8);
  auto writer = backend().OpenChunkWriter("threads/k", SpecOf(body.size()), part, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::vector<Status> results(kParts);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int n = kParts - t; n >= 1; n -= 3) {  // each thread its parts, back to front
        const uint64_t offset = (n - 1) * part;
        results[n - 1] = (*writer)->WriteChunk(n, offset, Slice(body, offset, part), {});
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : results) ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_EQ(ReadString("threads/k").value(), body);
}

TEST_P(BackendConformanceTest, AbortedOrDroppedChunkedWriteLeavesNothing) {
  if (!features().chunked_write) return;  // refusal covered by the out-of-order test
  const uint64_t part = std::max<uint64_t>(features().min_part_size, 1000);
  const std::string body = RandomBytes(3 * part, 9);
  {
    auto writer = backend().OpenChunkWriter("aborted", SpecOf(body.size()), part, {});
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE((*writer)->WriteChunk(1, 0, Slice(body, 0, part), {}).ok());
    ASSERT_TRUE((*writer)->WriteChunk(2, part, Slice(body, part, part), {}).ok());
    Status aborted = (*writer)->Abort();
    ASSERT_TRUE(aborted.ok()) << aborted.ToString();
    EXPECT_TRUE((*writer)->Abort().ok()) << "Abort twice is harmless";
  }
  {
    auto writer = backend().OpenChunkWriter("dropped", SpecOf(body.size()), part, {});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->WriteChunk(1, 0, Slice(body, 0, part), {}).ok());
  }  // destroyed without Commit: aborts
  EXPECT_EQ(ListKeys("").value(), std::vector<std::string>{});
  EXPECT_EQ(backend().Stat("aborted", false, {}).status().code(), ErrorCode::kNotFound);
}

TEST_P(BackendConformanceTest, ChunkedWriteRecordsMetadataAddedBeforeCommit) {
  if (!features().chunked_write) return;  // refusal covered by the out-of-order test
  const uint64_t part = std::max<uint64_t>(features().min_part_size, 1000);
  const std::string body = RandomBytes(part + 1, 12);
  WriteSpec spec = SpecOf(body.size());
  spec.metadata = {{"owner", "bob"}};
  auto writer = backend().OpenChunkWriter("k", spec, part, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->WriteChunk(2, part, Slice(body, part, 1), {}).ok());
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, Slice(body, 0, part), {}).ok());
  (*writer)->AddMetadataOnCommit({{"ferry-crc32c", "0a1b2c3d"}});
  auto etag = (*writer)->Commit({});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  auto info = backend().Stat("k", false, {});
  ASSERT_TRUE(info.ok());
  if (features().metadata && GetParam().records_metadata_on_commit) {
    EXPECT_EQ(info->metadata,
              (std::map<std::string, std::string>{{"ferry-crc32c", "0a1b2c3d"}, {"owner", "bob"}}));
  } else if (features().metadata) {
    // The spec's metadata only: nothing was written a second time to add the rest.
    EXPECT_EQ(info->metadata, (std::map<std::string, std::string>{{"owner", "bob"}}));
  } else {
    EXPECT_TRUE(info->metadata.empty());
  }
  EXPECT_EQ(ReadString("k").value(), body);
}

TEST_P(BackendConformanceTest, MetadataAndContentHeadersRoundTripWhenSupported) {
  WriteSpec spec;
  spec.metadata = {
      {"ferry-crc32c", "0a1b2c3d"}, {"ferry-mtime", "1600000000123456789"}, {"owner", "bob"}};
  spec.content = {"text/plain; charset=utf-8",      "identity",   "fr-CA",
                  "attachment; filename=\"r.txt\"", "max-age=60", "Wed, 21 Oct 2037 07:28:00 GMT"};
  ASSERT_TRUE(PutString("k", "body", spec).ok());
  auto info = backend().Stat("k", false, {});
  ASSERT_TRUE(info.ok());
  std::string out(4, '\0');
  auto read = backend().ReadObject("k", std::as_writable_bytes(std::span(out)), "", {});
  ASSERT_TRUE(read.ok());
  if (features().metadata) {
    EXPECT_EQ(info->metadata, spec.metadata);
    EXPECT_EQ(info->content, spec.content);
    EXPECT_EQ(info->crc32c(), 0x0a1b2c3du);
    EXPECT_EQ(read->metadata, spec.metadata);
    EXPECT_EQ(read->content, spec.content);
  } else {
    EXPECT_TRUE(info->metadata.empty()) << "features().metadata is false: nothing stored";
    EXPECT_EQ(info->content, ContentHeaders{});
    EXPECT_TRUE(read->metadata.empty());
  }
}

TEST_P(BackendConformanceTest, TagsRoundTripWhenSupported) {
  WriteSpec spec;
  spec.tags = Tags{{"team", "data"}, {"tier", "gold"}};
  ASSERT_TRUE(PutString("k", "x", spec).ok());
  auto info = backend().Stat("k", /*with_tags=*/true, {});
  ASSERT_TRUE(info.ok());
  if (!features().tags) {
    EXPECT_TRUE(!info->tags.has_value() || info->tags->empty()) << "tags unsupported";
    EXPECT_EQ(backend().PutTags("k", {{"a", "b"}}, {}).code(), ErrorCode::kNotSupported);
    return;
  }
  ASSERT_TRUE(info->tags.has_value());
  Tags got = *info->tags;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, *spec.tags);
  EXPECT_FALSE(backend().Stat("k", /*with_tags=*/false, {})->tags.has_value());
  ASSERT_TRUE(backend().PutTags("k", {{"only", "this"}}, {}).ok());
  EXPECT_EQ(backend().Stat("k", true, {})->tags, (Tags{{"only", "this"}}));
  EXPECT_EQ(backend().PutTags("absent", {{"a", "b"}}, {}).code(), ErrorCode::kNotFound);
}

TEST_P(BackendConformanceTest, StorageClassRoundTripsWhenSupported) {
  WriteSpec spec;
  spec.storage_class = GetParam().other_storage_class;
  ASSERT_TRUE(PutString("classy", "x", spec).ok());
  ASSERT_TRUE(PutString("plain", "x").ok());
  auto classy = backend().Stat("classy", false, {});
  ASSERT_TRUE(classy.ok());
  EXPECT_EQ(classy->storage_class, features().storage_class ? spec.storage_class : "");
  EXPECT_EQ(backend().Stat("plain", false, {})->storage_class, "") << "default reads as \"\"";
}

TEST_P(BackendConformanceTest, WriteMtimeIsKeptOnlyByFileStores) {
  WriteSpec spec;
  spec.mtime = system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
      std::chrono::nanoseconds(1'000'000'000'123'456'789)));  // 2001-09-09
  ASSERT_TRUE(PutString("k", "x", spec).ok());
  auto info = backend().Stat("k", false, {});
  ASSERT_TRUE(info.ok());
  if (GetParam().keeps_write_mtime) {
    EXPECT_EQ(info->mtime, spec.mtime);
    EXPECT_EQ(ListAll("").value().at(0).mtime, spec.mtime);
  } else {
    EXPECT_GT(info->mtime, system_clock::time_point(std::chrono::hours(24 * 365 * 50)))
        << "the mtime is the time of the write";
  }
}

TEST_P(BackendConformanceTest, ServerSideCopyMatchesFeatures) {
  EXPECT_EQ(backend().CanCopyFrom(backend()), features().server_side_copy);
  const std::string body = RandomBytes(2000, 10);
  WriteSpec spec;
  spec.metadata = {{"owner", "bob"}};
  ASSERT_TRUE(PutString("src", body, spec).ok());
  auto object = backend().Stat("src", true, {});
  ASSERT_TRUE(object.ok());
  auto copied = backend().CopyFrom(backend(), *object, "dst", "", {});
  if (!features().server_side_copy) {
    EXPECT_EQ(copied.status().code(), ErrorCode::kNotSupported);
    return;
  }
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(ReadString("dst").value(), body);
  if (features().metadata) {
    EXPECT_EQ(backend().Stat("dst", false, {})->metadata, spec.metadata);
  }

  if (!features().chunked_write) return;
  const uint64_t part = std::max<uint64_t>(features().min_part_size, 1000);
  const std::string big = RandomBytes(part + 10, 11);
  ASSERT_TRUE(PutString("big", big).ok());
  auto big_info = backend().Stat("big", false, {});
  ASSERT_TRUE(big_info.ok());
  auto writer = backend().OpenChunkWriter("big-copy", SpecOf(big.size()), part, {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->CopyChunk(2, backend(), *big_info, part, 10, {}).ok());
  ASSERT_TRUE((*writer)->CopyChunk(1, backend(), *big_info, 0, part, {}).ok());
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_EQ(ReadString("big-copy").value(), big);
}

TEST_P(BackendConformanceTest, FeaturesAreCoherent) {
  const storage::Features& f = features();
  EXPECT_GE(f.max_parts, 1);
  EXPECT_GE(f.min_part_size, 1u);
  EXPECT_LE(f.min_part_size, f.max_part_size);
  EXPECT_GE(f.max_single_put, f.min_part_size);
  EXPECT_FALSE(backend().Describe().empty());
}


// Create-only writes (WriteSpec::if_absent): the first creates, a second is refused with
// kAlreadyExists and changes nothing; after a delete the key can be created again.
TEST_P(BackendConformanceTest, CreateOnlyPutRefusesAnExistingKey) {
  WriteSpec spec = SpecOf(5);
  spec.if_absent = true;
  auto first = backend().Put("once/k", checksum::AsBytes(std::string_view("first")), spec, {});
  if (!features().put_if_absent) {
    EXPECT_EQ(first.status().code(), ErrorCode::kNotSupported);
    return;
  }
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = backend().Put("once/k", checksum::AsBytes(std::string_view("other")), spec, {});
  EXPECT_EQ(second.status().code(), ErrorCode::kAlreadyExists) << second.status().ToString();
  EXPECT_EQ(ReadString("once/k").value(), "first");
  ASSERT_TRUE(backend().Delete("once/k", {}).ok());
  auto again = backend().Put("once/k", checksum::AsBytes(std::string_view("third")), spec, {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ReadString("once/k").value(), "third");
  EXPECT_EQ(backend().OpenChunkWriter("once/c", spec, features().min_part_size, {}).status().code(),
            ErrorCode::kNotSupported);
}

// Many creators of one key at once: exactly one wins, and its body is the one stored.
TEST_P(BackendConformanceTest, CreateOnlyPutHasOneWinnerAmongConcurrentCreators) {
  if (!features().put_if_absent) return;  // refusal covered above
  constexpr int kCreators = 8;
  for (int round = 0; round < 3; ++round) {
    const std::string key = "race/" + std::to_string(round);
    std::vector<Result<storage::WriteResult>> results(kCreators, Status::Internal("not run"));
    std::vector<std::thread> threads;
    for (int t = 0; t < kCreators; ++t) {
      threads.emplace_back([&, t] {
        const std::string body = "creator-" + std::to_string(t);
        WriteSpec spec = SpecOf(body.size());
        spec.if_absent = true;
        results[t] = backend().Put(key, checksum::AsBytes(body), spec, {});
      });
    }
    for (auto& th : threads) th.join();
    int winners = 0, winner = -1;
    for (int t = 0; t < kCreators; ++t) {
      if (results[t].ok()) {
        ++winners;
        winner = t;
      } else {
        EXPECT_EQ(results[t].status().code(), ErrorCode::kAlreadyExists)
            << results[t].status().ToString();
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    EXPECT_EQ(ReadString(key).value(), "creator-" + std::to_string(winner));
  }
}

// The store's clock is comparable with the mtimes it gives objects.
TEST_P(BackendConformanceTest, ServerTimeIsNotBeforeAnObjectWrittenFirst) {
  ASSERT_TRUE(backend().Put("clock/k", checksum::AsBytes(std::string_view("x")), SpecOf(1), {}).ok());
  auto info = backend().Stat("clock/k", false, {});
  ASSERT_TRUE(info.ok());
  auto now = backend().ServerTime({});
  if (now.status().code() == ErrorCode::kNotSupported) return;
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  // Whole seconds (S3's Date): not more than one second before the object's mtime.
  EXPECT_GE(*now + std::chrono::seconds(1), info->mtime);
  EXPECT_LE(*now, info->mtime + std::chrono::minutes(5));
}

}  // namespace ferry::conformance
