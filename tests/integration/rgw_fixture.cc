#include "tests/integration/rgw_fixture.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>

#include "base/clock.h"

namespace ferry::testing {
namespace {

const char* kVars[8] = {"FERRY_TEST_S3_ENDPOINT",   "FERRY_TEST_S3_ACCESS_KEY",
                        "FERRY_TEST_S3_SECRET_KEY", "FERRY_TEST_S3_REGION",
                        "FERRY_TEST_S3_ENDPOINT_B", "FERRY_TEST_S3_ACCESS_KEY_B",
                        "FERRY_TEST_S3_SECRET_KEY_B", "FERRY_TEST_S3_REGION_B"};

}  // namespace

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

void RgwTest::SetUp() {
  for (int i = 0; i < 8; ++i) {
    const char* v = std::getenv(kVars[i]);
    ASSERT_NE(v, nullptr) << kVars[i]
                          << " is not set: run the integration tests through "
                             "scripts/test-all.sh, which starts RGW";
    env_[i] = v;
  }
  transport_ = std::make_unique<http::CurlTransport>(http::CurlOptions{});
  for (int g = 0; g < 2; ++g) {
    s3::Credentials c{env_[4 * g + 1], env_[4 * g + 2], ""};
    gateways_[g].creds = std::make_unique<s3::StaticCredentials>(c);
    s3::S3Options o;
    o.endpoint = env_[4 * g];
    o.region = env_[4 * g + 3];
    o.addressing = s3::Addressing::kPath;
    gateways_[g].client = std::make_unique<s3::S3Client>(o, *transport_, *gateways_[g].creds,
                                                         SystemClock::Default());
  }
}

void RgwTest::TearDown() {
  for (const auto& [g, bucket] : buckets_) {
    if (!gateways_[g].client) continue;
    // Abort leftover uploads, delete every object, then the bucket.
    if (auto uploads = client(g).ListMultipartUploads(bucket, ""); uploads.ok()) {
      for (const auto& u : *uploads) (void)client(g).AbortMultipartUpload(bucket, u.key, u.upload_id);
    }
    std::vector<std::string> keys = Keys(g, bucket);
    for (size_t i = 0; i < keys.size(); i += 1000) {
      std::vector<std::string> batch(keys.begin() + static_cast<long>(i),
                                     keys.begin() + static_cast<long>(std::min(keys.size(), i + 1000)));
      EXPECT_TRUE(client(g).DeleteObjects(bucket, batch).ok());
    }
    EXPECT_TRUE(client(g).DeleteBucket(bucket).ok()) << bucket;
  }
}

std::string RgwTest::NewBucket(int g) {
  static std::atomic<int> counter{0};
  std::string name = "ferry-it-" + std::to_string(getpid()) + "-" +
                     std::to_string(counter.fetch_add(1)) + (g == 0 ? "-a" : "-b");
  Status s = client(g).CreateBucket(name);
  EXPECT_TRUE(s.ok()) << s.ToString();
  buckets_.emplace_back(g, name);
  return name;
}

std::unique_ptr<storage::Backend> RgwTest::S3(int g, const std::string& bucket,
                                              const std::string& prefix) {
  return std::make_unique<storage::S3Backend>(client(g), bucket, prefix);
}

void RgwTest::PutObject(int g, const std::string& bucket, const std::string& key,
                        const std::string& body, const s3::WriteOptions& options) {
  auto r = client(g).PutObject(
      bucket, key, {reinterpret_cast<const std::byte*>(body.data()), body.size()}, options);
  ASSERT_TRUE(r.ok()) << key << ": " << r.status().ToString();
}

std::string RgwTest::GetObject(int g, const std::string& bucket, const std::string& key) {
  http::StringSink sink(1u << 30);
  auto r = client(g).GetObject({bucket, key, {0, 0}, "", "", ""}, sink);
  EXPECT_TRUE(r.ok()) << key << ": " << r.status().ToString();
  return sink.body();
}

std::vector<std::string> RgwTest::Keys(int g, const std::string& bucket) {
  std::vector<std::string> keys;
  s3::ListRequest req;
  req.bucket = bucket;
  for (;;) {
    auto page = client(g).ListObjectsV2(req);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    for (const auto& e : page->objects) keys.push_back(e.key);
    if (!page->truncated) break;
    req.continuation_token = page->next_continuation_token;
  }
  return keys;
}

transfer::SyncOptions RgwTest::DefaultOptions() {
  transfer::SyncOptions o;
  o.executor.concurrency = 16;
  o.executor.memory_budget = 64ull << 20;
  o.transfer.part_size = 5ull << 20;
  o.transfer.multipart_threshold = 8ull << 20;
  return o;
}

RgwTest::Outcome RgwTest::Sync(storage::Backend& src, storage::Backend& dst,
                               transfer::SyncOptions options, const plan::FilterOptions& filter,
                               bool allow_failures) {
  Outcome out;
  out.stats = std::make_unique<transfer::Stats>();
  auto f = plan::Filter::Make(filter, std::chrono::system_clock::now());
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  options.filter = std::move(*f);
  transfer::Executor executor(options.executor);  // the run's own: its peak is this run's
  out.result = transfer::RunSync(executor, src, dst, options, *out.stats, {});
  EXPECT_TRUE(out.result.status.ok()) << out.result.status.ToString();
  for (const auto& fail : out.stats->KeptFailures()) {
    if (allow_failures) break;
    ADD_FAILURE() << "unexpected failure: " << fail.key << ": " << fail.status.ToString();
  }
  EXPECT_LE(out.result.peak_buffer_bytes, options.executor.memory_budget);
  return out;
}

}  // namespace ferry::testing
