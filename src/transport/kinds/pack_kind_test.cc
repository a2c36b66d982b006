// The pack kind (pack_kind.cc): its room in a worker (a full batch takes the worker's
// concurrency, two at a time, a smaller one in proportion to its bytes, so small batches pack
// several at once, at most eight); the objects it packs (ObjectsToPack: those the listing could
// not decide are decided again with both sides' details, on memory backends).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "checksum/checksum.h"
#include "plan/decide.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "transport/kinds/kinds.h"

namespace ferry::transport {
namespace {

TEST(PackKindTest, APackTakesRoomInProportionToItsBatch) {
  const auto pack = MakePackHandler(nullptr);
  jobs::RunContext run;
  run.options.transport.batch_bytes = 64ull << 20;
  jobs::WorkerOptions options;
  options.concurrency = 64;
  auto room = [&](uint64_t bytes) {
    jobs::Job job;
    job.spec.kind = std::string(kPackKind);
    job.spec.bytes = bytes;
    return pack->ObjectsInFlight(job, run, options);
  };
  EXPECT_EQ(room(64ull << 20), 64u);   // full: two at a time (a worker claims below 2 x 64)
  EXPECT_EQ(room(100ull << 20), 64u);  // an object larger than a batch goes alone
  EXPECT_EQ(room(32ull << 20), 32u);   // half: four at a time
  EXPECT_EQ(room(1ull << 20), 17u);    // small: at most eight at a time
  EXPECT_EQ(room(0), 17u);
  options.concurrency = 1;
  EXPECT_EQ(room(1ull << 20), 1u);
}

// A store whose objects named "mp-*" carry multipart ETags ("<md5>-2"), as S3 gives an object
// uploaded in parts: no listing can compare their bytes with a copy's.
class MultipartEtags : public storage::MemoryBackend {
 public:
  using MemoryBackend::MemoryBackend;
  Result<storage::ObjectInfo> Stat(std::string_view key, bool with_tags,
                                   std::stop_token stop) override {
    FERRY_ASSIGN_OR_RETURN(storage::ObjectInfo info, MemoryBackend::Stat(key, with_tags, stop));
    if (key.starts_with("mp-")) info.etag += "-2";
    return info;
  }
};

// A batch planned by a scan, each object as the listing left it (need details or not), against
// destinations that hold: a ferry copy of a multipart object (same source mtime: unchanged), an
// older one, a copy of the same bytes whose source's metadata did or did not change since (the
// source written after the copy), a key gone from the source since the listing, and one the
// listing decided. Before, every object of the batch was packed (found by
// tests/tools/convergence_transport.py, BUG_PACK_UNDECIDED: every run re-sent each multipart
// source object to every region).
TEST(PackKindTest, ObjectsTheListingCouldNotDecideArePackedOnlyWhenTheyDiffer) {
  testing::FakeClock clock;
  storage::MemoryBackend::Options o;
  o.clock = &clock;
  auto src = std::make_unique<MultipartEtags>(o);
  auto dst = std::make_unique<storage::MemoryBackend>(o);
  auto put = [](storage::Backend& b, const std::string& key, const std::string& body,
                std::map<std::string, std::string> meta) {
    storage::WriteSpec spec;
    spec.size = body.size();
    spec.metadata = std::move(meta);
    spec.content.content_type = "text/plain";
    spec.tags = storage::Tags{{"team", "a"}};
    ASSERT_TRUE(b.Put(key, checksum::AsBytes(body), spec, {}).ok()) << key;
  };
  auto ns = [](std::chrono::system_clock::time_point t) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  };
  const std::string body = "the same bytes";
  const std::string crc = checksum::Hex32(checksum::Crc32c(checksum::AsBytes(body)));
  // Multipart sources, then ferry's copies of them (ferry-mtime: the source's mtime).
  put(*src, "mp-same", body, {{"k", "v"}});
  put(*src, "mp-stale", body, {{"k", "v"}});
  const auto src_time = clock.Now();
  clock.SleepFor(std::chrono::seconds(5), {});
  put(*dst, "mp-same", body, {{"k", "v"}, {"ferry-crc32c", crc}, {"ferry-mtime", ns(src_time)}});
  put(*dst, "mp-stale", body,
      {{"k", "v"}, {"ferry-crc32c", crc},
       {"ferry-mtime", ns(src_time - std::chrono::hours(1))}});
  // Copies of the same bytes, then the sources written again (a PUT of the same bytes).
  put(*dst, "meta-same", body, {{"k", "v"}});
  put(*dst, "meta-new", body, {{"k", "v"}});
  put(*dst, "planned", body, {{"k", "v"}});
  clock.SleepFor(std::chrono::seconds(5), {});
  put(*src, "meta-same", body, {{"k", "v"}});
  put(*src, "meta-new", body, {{"k", "other"}});
  put(*src, "planned", body, {{"k", "v"}});

  jobs::RunContext run;
  auto request = [&](const std::string& key, bool need_details, std::string_view reason) {
    transfer::CopyRequest r;
    r.src.key = key;
    r.src.size = body.size();
    r.need_details = need_details;
    r.reason = std::string(reason);
    return r;
  };
  const std::vector<transfer::CopyRequest> planned = {
      request("gone", true, plan::kReasonNeedDetails),
      request("meta-new", true, plan::kReasonCompareMetadata),
      request("meta-same", true, plan::kReasonCompareMetadata),
      request("mp-same", true, plan::kReasonNeedDetails),
      request("mp-stale", true, plan::kReasonNeedDetails),
      request("planned", false, plan::kReasonSizeDiffers),
  };
  run.src = std::move(src);
  run.dst = std::move(dst);
  auto packed = ObjectsToPack(run, ferry::testing::TestExecutor(), planned, {});
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  std::vector<std::string> keys;
  for (const storage::ObjectInfo& info : *packed) keys.push_back(info.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"meta-new", "mp-stale", "planned"}));

  // A look that fails fails the pack (its job is retried).
  auto* failing = static_cast<storage::MemoryBackend*>(run.dst.get());
  failing->FailNext(storage::MemoryBackend::kStat, 1, Status::Unavailable("injected"));
  EXPECT_FALSE(ObjectsToPack(run, ferry::testing::TestExecutor(), planned, {}).ok());
}

}  // namespace
}  // namespace ferry::transport
