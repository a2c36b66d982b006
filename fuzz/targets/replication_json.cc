// A replication configuration as `aws s3api get-bucket-replication` prints it: parsed, then
// validated, then asked what a few keys would be replicated by (the pass's questions).
#include <string>
#include <utility>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "replicate/rules.h"

FERRY_FUZZ_TARGET(replication_json) {
  using namespace ferry::replicate;
  const std::vector<std::pair<std::string, std::string>> buckets = {
      {"arn:aws:s3:::dest", "b:dest"}, {"arn:aws:s3:::other", "/tmp/other"}};
  auto rules = ParseS3ReplicationJson(ferry::fuzz::AsText(data, size), "fuzz.json", buckets);
  if (!rules.ok()) {
    ferry::fuzz::Require(rules.status().message().find("fuzz.json") != std::string::npos,
                         "a refusal names the file");
    return 0;
  }
  if (!Validate(*rules).ok()) return 0;
  const ferry::storage::Tags tags = {{"k", "v"}, {"team", "a"}};
  for (const char* key : {"", "a", "logs/2026/x", "dest/k"}) {
    (void)NeedsTags(*rules, key);
    for (const Winner& w : WinningRules(*rules, key, &tags)) {
      ferry::fuzz::Require(w.rule != nullptr && w.destination != nullptr, "a winner has a rule");
    }
    (void)WinningRules(*rules, key, nullptr);
  }
  (void)DestinationLocations(*rules);
  return 0;
}
