// The Backend conformance suite (tests/conformance) run against S3Backend on a real RGW
// gateway (region A). One bucket for the run, a fresh key prefix per test; the bucket and
// anything left in it are removed at the end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "base/clock.h"
#include "conformance/backend_factory.h"
#include "http/curl_transport.h"
#include "s3/client.h"
#include "storage/s3/s3_backend.h"

namespace ferry::conformance {
namespace {

struct Rgw {
  std::unique_ptr<http::CurlTransport> transport;
  std::unique_ptr<s3::StaticCredentials> creds;
  std::unique_ptr<s3::S3Client> client;
  std::vector<std::string> buckets;  // one per test
  bool ready = false;
};

Rgw& Shared() {
  static Rgw rgw;
  return rgw;
}

// Returns nullptr (and fails the current test) when the environment does not name a gateway.
s3::S3Client* Client() {
  Rgw& rgw = Shared();
  if (rgw.ready) return rgw.client.get();
  const char* endpoint = std::getenv("FERRY_TEST_S3_ENDPOINT");
  const char* key = std::getenv("FERRY_TEST_S3_ACCESS_KEY");
  const char* secret = std::getenv("FERRY_TEST_S3_SECRET_KEY");
  const char* region = std::getenv("FERRY_TEST_S3_REGION");
  if (!endpoint || !key || !secret || !region) {
    ADD_FAILURE() << "FERRY_TEST_S3_* not set: run through scripts/test-all.sh";
    return nullptr;
  }
  rgw.transport = std::make_unique<http::CurlTransport>(http::CurlOptions{});
  rgw.creds = std::make_unique<s3::StaticCredentials>(s3::Credentials{key, secret, ""});
  s3::S3Options o;
  o.endpoint = endpoint;
  o.region = region;
  rgw.client = std::make_unique<s3::S3Client>(o, *rgw.transport, *rgw.creds,
                                              SystemClock::Default());
  rgw.ready = true;
  return rgw.client.get();
}

// A fresh bucket per test, at the bucket's root: a key prefix would eat into S3's 1024-byte
// key limit, which the suite tests exactly. `versioned`: versioning enabled, listings in pages
// of 2 entries so that version paging is exercised.
std::unique_ptr<storage::Backend> MakeS3Bucket(bool versioned) {
  static std::atomic<int> counter{0};
  s3::S3Client* client = Client();
  if (client == nullptr) return nullptr;
  std::string bucket = "ferry-conformance-" + std::to_string(getpid()) + "-" +
                       std::to_string(counter.fetch_add(1));
  if (Status s = client->CreateBucket(bucket); !s.ok()) {
    ADD_FAILURE() << "create bucket " << bucket << ": " << s.ToString();
    return nullptr;
  }
  Shared().buckets.push_back(bucket);
  auto backend = std::make_unique<storage::S3Backend>(*client, bucket, "");
  if (versioned) {
    if (Status s = client->PutBucketVersioning(bucket, true); !s.ok()) {
      ADD_FAILURE() << "enable versioning on " << bucket << ": " << s.ToString();
      return nullptr;
    }
    backend->set_list_page_size(2);
  }
  return backend;
}

std::unique_ptr<storage::Backend> MakeS3() { return MakeS3Bucket(false); }
std::unique_ptr<storage::Backend> MakeVersionedS3() { return MakeS3Bucket(true); }

class DropBuckets : public ::testing::Environment {
 public:
  void TearDown() override {
    Rgw& rgw = Shared();
    if (!rgw.ready) return;
    for (const std::string& bucket : rgw.buckets) {
      // Versions and delete markers first (versioned buckets), then what is left.
      s3::ListVersionsRequest versions{bucket, "", "", "", 1000};
      for (;;) {
        auto page = rgw.client->ListObjectVersions(versions);
        if (!page.ok() || page->versions.empty()) break;
        for (const auto& v : page->versions) {
          (void)rgw.client->DeleteObject(bucket, v.key, v.version_id);
        }
        if (!page->truncated) break;
      }
      s3::ListRequest req;
      req.bucket = bucket;
      for (;;) {
        auto page = rgw.client->ListObjectsV2(req);
        if (!page.ok() || page->objects.empty()) break;
        std::vector<std::string> keys;
        for (const auto& e : page->objects) keys.push_back(e.key);
        EXPECT_TRUE(rgw.client->DeleteObjects(bucket, keys).ok());
      }
      if (auto uploads = rgw.client->ListMultipartUploads(bucket, ""); uploads.ok()) {
        for (const auto& u : *uploads) {
          (void)rgw.client->AbortMultipartUpload(bucket, u.key, u.upload_id);
        }
      }
      EXPECT_TRUE(rgw.client->DeleteBucket(bucket).ok()) << bucket;
    }
  }
};

const auto* const kDropBuckets = ::testing::AddGlobalTestEnvironment(new DropBuckets);

INSTANTIATE_TEST_SUITE_P(
    Rgw, BackendConformanceTest,
    ::testing::Values(BackendFactory{"S3", &MakeS3, false, false, "STANDARD_IA", true, true,
                                     /*records_metadata_on_commit=*/false},
                      BackendFactory{"VersionedS3", &MakeVersionedS3, false, false, "STANDARD_IA",
                                     true, true, /*records_metadata_on_commit=*/false}),
    FactoryName);

}  // namespace
}  // namespace ferry::conformance
