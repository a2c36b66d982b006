// The Backend conformance suite (backend_factory.h) run against AzureBackend on Azurite
// (scripts/azurite-start.sh): one container per test, at the container's root (a key prefix
// would eat into the 1024-character limit the suite tests exactly; tests/cli/azure_test.sh
// works under one), and a second instantiation with 2-entry listing pages so that markers are
// exercised. The containers are removed at the end.
//
// FERRY_TEST_AZURE_ENDPOINT, _ACCOUNT and _KEY name the server; without them every test fails
// with one line saying so, as the S3 instantiation does without FERRY_TEST_S3_*: an unset
// server never passes silently.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "checksum/checksum.h"
#include "conformance/backend_factory.h"
#include "http/curl_transport.h"
#include "storage/azure/azure_backend.h"

namespace ferry::conformance {
namespace {

using storage::azure::AzureBackend;
using storage::azure::AzureCall;
using storage::azure::AzureClient;

struct Azurite {
  std::unique_ptr<http::CurlTransport> transport;
  std::unique_ptr<AzureClient> client;
  std::vector<std::string> containers;
  bool ready = false;
};

Azurite& SharedAzurite() {
  static Azurite azurite;
  return azurite;
}

AzureClient* AzuriteClient() {
  Azurite& a = SharedAzurite();
  if (a.ready) return a.client.get();
  const char* endpoint = std::getenv("FERRY_TEST_AZURE_ENDPOINT");
  const char* account = std::getenv("FERRY_TEST_AZURE_ACCOUNT");
  const char* key = std::getenv("FERRY_TEST_AZURE_KEY");
  if (!endpoint || !account || !key) {
    ADD_FAILURE() << "FERRY_TEST_AZURE_* not set: run through scripts/test-all.sh (Azurite: "
                     "scripts/azurite-start.sh)";
    return nullptr;
  }
  storage::azure::AzureOptions o;
  o.credentials.account = account;
  o.credentials.key = checksum::Base64Decode(key).value_or("");
  o.credentials.endpoint = endpoint;
  a.transport = std::make_unique<http::CurlTransport>(http::CurlOptions{});
  a.client = std::make_unique<AzureClient>(o, *a.transport);
  a.ready = true;
  return a.client.get();
}

AzureCall ContainerCall(std::string operation, std::string method, std::string container) {
  AzureCall call;
  call.operation = std::move(operation);
  call.method = std::move(method);
  call.container = std::move(container);
  call.query = {{"restype", "container"}};
  return call;
}

std::unique_ptr<storage::Backend> MakeAzureContainer(std::string prefix, int page_size) {
  static std::atomic<int> counter{0};
  AzureClient* client = AzuriteClient();
  if (client == nullptr) return nullptr;
  std::string container = "ferry-conformance-" + std::to_string(getpid()) + "-" +
                          std::to_string(counter.fetch_add(1));
  if (auto made = client->Send(ContainerCall("Create Container", "PUT", container), {});
      !made.ok()) {
    ADD_FAILURE() << "create container " << container << ": " << made.status().ToString();
    return nullptr;
  }
  SharedAzurite().containers.push_back(container);
  auto backend = std::make_unique<AzureBackend>(*client, container, std::move(prefix));
  if (page_size > 0) backend->set_list_page_size(page_size);
  return backend;
}

std::unique_ptr<storage::Backend> MakeAzure() { return MakeAzureContainer("", 0); }
std::unique_ptr<storage::Backend> MakePagedAzure() { return MakeAzureContainer("", 2); }

class DropContainers : public ::testing::Environment {
 public:
  void TearDown() override {
    Azurite& a = SharedAzurite();
    if (!a.ready) return;
    for (const std::string& c : a.containers) {
      auto dropped = a.client->Send(ContainerCall("Delete Container", "DELETE", c), {});
      EXPECT_TRUE(dropped.ok()) << c << ": " << dropped.status().ToString();
    }
  }
};

const auto* const kDropContainers = ::testing::AddGlobalTestEnvironment(new DropContainers);

// Azure: no versions (ListVersions refused, as for files), the uncommitted block list is the
// truth of a resumed upload (lists_stored_parts), metadata added before Commit goes into Put
// Block List, no storage classes (features().storage_class is false), a backslash in a key
// refused (the service would store it as '/').
INSTANTIATE_TEST_SUITE_P(
    Azurite, BackendConformanceTest,
    ::testing::Values(BackendFactory{"Azure", &MakeAzure, false, false, "", true,
                                     /*lists_versions=*/false, true, /*keeps_backslash=*/false},
                      BackendFactory{"PagedAzure", &MakePagedAzure, false, false, "", true,
                                     /*lists_versions=*/false, true, /*keeps_backslash=*/false}),
    FactoryName);

}  // namespace
}  // namespace ferry::conformance
