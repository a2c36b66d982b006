// The Backend conformance suite (backend_factory.h) run against GcsBackend on the Cloud
// Storage emulator of firebase-tools (scripts/gcs-emulator-start.sh): one bucket per test (the
// emulator makes a bucket at its first request and keeps everything in memory, so nothing is
// cleaned up), at the bucket's root, and a second instantiation with 2-entry listing pages so
// that page tokens are exercised. What the emulator cannot prove: docs/design/gcs.md §6.
//
// FERRY_TEST_GCS_ENDPOINT names the emulator; without it every test fails with one line
// saying so, as the S3 instantiation does without FERRY_TEST_S3_*.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "conformance/backend_factory.h"
#include "http/curl_transport.h"
#include "storage/gcs/gcs_backend.h"

namespace ferry::conformance {
namespace {

using storage::gcs::GcsBackend;
using storage::gcs::GcsClient;

struct GcsEmulator {
  std::unique_ptr<http::CurlTransport> transport;
  std::unique_ptr<GcsClient> client;
  bool ready = false;
};

GcsClient* EmulatorClient() {
  static GcsEmulator e;
  if (e.ready) return e.client.get();
  const char* endpoint = std::getenv("FERRY_TEST_GCS_ENDPOINT");
  if (endpoint == nullptr) {
    ADD_FAILURE() << "FERRY_TEST_GCS_ENDPOINT not set: run through scripts/test-all.sh (the "
                     "emulator: scripts/gcs-emulator-start.sh)";
    return nullptr;
  }
  storage::gcs::GcsOptions o;
  o.credentials.endpoint = endpoint;
  o.credentials.anonymous = true;  // the emulator checks no token
  e.transport = std::make_unique<http::CurlTransport>(http::CurlOptions{});
  e.client = std::make_unique<GcsClient>(o, *e.transport);
  e.ready = true;
  return e.client.get();
}

std::unique_ptr<storage::Backend> MakeGcsBucket(int page_size) {
  static std::atomic<int> counter{0};
  GcsClient* client = EmulatorClient();
  if (client == nullptr) return nullptr;
  std::string bucket = "ferry-conformance-" + std::to_string(getpid()) + "-" +
                       std::to_string(counter.fetch_add(1));
  auto backend = std::make_unique<GcsBackend>(*client, bucket, "");
  // the emulator ignores ifGenerationMatch (measured: a second create-only write replaces
  // the object): create-only writes are refused here, proven by the unit test's request only
  backend->set_put_if_absent(false);
  if (page_size > 0) backend->set_list_page_size(page_size);
  return backend;
}

std::unique_ptr<storage::Backend> MakeGcs() { return MakeGcsBucket(0); }
std::unique_ptr<storage::Backend> MakePagedGcs() { return MakeGcsBucket(2); }

// GCS here: no versions (generations not yet versions; the emulator keeps none), the session's
// persisted bytes are the truth of a resumed upload (lists_stored_parts), metadata added before
// Commit is not recorded (the resource is sent when the session starts; GCS's own CRC32C
// stands for ferry's), no storage classes; a session keeps bytes in order only and cannot be
// listed (out_of_order_uploads).
INSTANTIATE_TEST_SUITE_P(
    GcsEmulator, BackendConformanceTest,
    ::testing::Values(BackendFactory{"Gcs", &MakeGcs, false, false, "", true,
                                     /*lists_versions=*/false, /*records_metadata_on_commit=*/false,
                                     true, /*out_of_order_uploads=*/false},
                      BackendFactory{"PagedGcs", &MakePagedGcs, false, false, "", true,
                                     /*lists_versions=*/false, /*records_metadata_on_commit=*/false,
                                     true, /*out_of_order_uploads=*/false}),
    FactoryName);

}  // namespace
}  // namespace ferry::conformance
