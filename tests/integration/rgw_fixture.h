// Shared fixture for integration tests against the two real Ceph RGW gateways that
// scripts/test-all.sh starts ("region A" and "region B"). Connection details come from
// FERRY_TEST_S3_{ENDPOINT,ACCESS_KEY,SECRET_KEY,REGION}[_B]; a missing variable FAILS the test
// (never a silent skip). Each test gets fresh buckets, removed with their objects at the end.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "http/curl_transport.h"
#include "plan/filter.h"
#include "s3/client.h"
#include "storage/backend.h"
#include "storage/s3/s3_backend.h"
#include "transfer/sync.h"

namespace ferry::testing {

struct Gateway {
  std::unique_ptr<s3::StaticCredentials> creds;
  std::unique_ptr<s3::S3Client> client;
};

class RgwTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A new empty bucket on gateway A (index 0) or B (index 1); deleted in TearDown.
  std::string NewBucket(int gateway);
  s3::S3Client& client(int gateway) { return *gateways_[gateway].client; }
  std::unique_ptr<storage::Backend> S3(int gateway, const std::string& bucket,
                                       const std::string& prefix = "");
  // Puts `body` under `key` with the given options; asserts success.
  void PutObject(int gateway, const std::string& bucket, const std::string& key,
                 const std::string& body, const s3::WriteOptions& options = {});
  std::string GetObject(int gateway, const std::string& bucket, const std::string& key);
  std::vector<std::string> Keys(int gateway, const std::string& bucket);

  // Runs a sync with small defaults suited to tests; returns the stats.
  struct Outcome {
    transfer::SyncResult result;
    std::unique_ptr<transfer::Stats> stats;
    uint64_t copied() const { return stats->objects_copied.load(); }
    uint64_t failed() const { return stats->failures(); }
  };
  Outcome Sync(storage::Backend& src, storage::Backend& dst,
               transfer::SyncOptions options = DefaultOptions(),
               const plan::FilterOptions& filter = {}, bool allow_failures = false);
  static transfer::SyncOptions DefaultOptions();

  std::string env_[8];
  Gateway gateways_[2];
  std::unique_ptr<http::CurlTransport> transport_;
  std::vector<std::pair<int, std::string>> buckets_;
};

// Random bytes of `n` length, deterministic for a seed.
std::string RandomBytes(size_t n, uint32_t seed);

}  // namespace ferry::testing
