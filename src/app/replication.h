// A replication as commands set it up (`ferry replicate`, `ferry serve`): the source and rule
// locations turned into the canonical names the status store records, checked for mistakes
// before anything is opened, then opened and checked against the stores.
// Thread-safety: none needed (called once per command).
#pragma once

#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "app/location.h"
#include "app/wiring.h"
#include "base/status.h"
#include "replicate/rules.h"
#include "storage/backend.h"

namespace ferry::app {

// The name a location is recorded under: the same text for every spelling of one location
// ("ra:photos/", "s3://photos/x/", a local path as given).
std::string LocationName(const Location& loc);

struct ReplicationTargets {
  std::string source_name;
  Location source;
  // Every destination of the rules, once each, in the order the rules name them.
  std::vector<std::pair<std::string, Location>> destinations;
  std::map<std::string, Location> stagings;  // of destinations with compressed transport
  // Destinations whose rules name a ReplicaKmsKeyID: their replicas are written with SSE-KMS
  // under it (OpenReplication sets it on the destination's backend).
  std::map<std::string, std::string> replica_kms_keys;
};

// Parses `source` and rewrites the rules' destination and staging locations to their names.
// kInvalidArgument (naming the rule) for a location that does not parse, a destination that is
// not S3 or is the source, a staging location that is not S3 or is in its destination's bucket.
Result<ReplicationTargets> ResolveReplication(const std::string& source,
                                              replicate::RuleSet& rules);

// Opened and checked (versioning learnt where replication reads or writes versions): the
// source, each destination by name, each staging location by name. Errors name the side.
struct OpenedReplication {
  std::unique_ptr<storage::Backend> source;
  std::map<std::string, std::unique_ptr<storage::Backend>> destinations;
  std::map<std::string, std::unique_ptr<storage::Backend>> stagings;
};
Result<OpenedReplication> OpenReplication(Wiring& wiring, const ReplicationTargets& targets,
                                          std::stop_token stop);

}  // namespace ferry::app
