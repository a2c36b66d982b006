// ResolveReplication and OpenReplication (replication.h).
#include "app/replication.h"

namespace ferry::app {
namespace {

// Check, then learn whether the side keeps versions (Backend::LearnVersions): a versioned
// source replicates every version, a versioned destination takes delete markers and reports
// the version each write made.
Status CheckWithVersions(storage::Backend& side, std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(side.Check(stop));
  return side.LearnVersions(stop);
}

}  // namespace

std::string LocationName(const Location& loc) {
  if (!loc.is_s3()) return loc.path;
  return (loc.remote.empty() ? "s3://" : loc.remote + ":") + loc.bucket + "/" + loc.prefix;
}

Result<ReplicationTargets> ResolveReplication(const std::string& source,
                                              replicate::RuleSet& rules) {
  ReplicationTargets out;
  FERRY_ASSIGN_OR_RETURN(out.source, ParseLocation(source));
  out.source_name = LocationName(out.source);
  for (replicate::Rule& r : rules.rules) {
    const std::string rule = "replication rule '" + r.id + "'";
    for (replicate::Destination& d : r.destinations) {
      Result<Location> loc = ParseLocation(d.location);
      if (!loc.ok()) return loc.status().WithContext(rule);
      if (!loc->is_s3()) {
        return Status::InvalidArgument(rule + ": " + d.location + " is not an S3 location");
      }
      d.location = LocationName(*loc);
      if (d.location == out.source_name) {
        return Status::InvalidArgument(rule + ": the destination is the source");
      }
      if (!d.replica_kms_key_id.empty()) {
        // One backend writes a destination's replicas: one key for all the rules naming it.
        auto [it, added] = out.replica_kms_keys.emplace(d.location, d.replica_kms_key_id);
        if (!added && it->second != d.replica_kms_key_id) {
          return Status::InvalidArgument(rule + ": destination " + d.location +
                                         " has another ReplicaKmsKeyID in another rule");
        }
      }
      if (d.transport.compress) {
        // Staged archives are recorded under the staging's canonical name too.
        Result<Location> staging = ParseLocation(d.transport.staging);
        if (!staging.ok() || !staging->is_s3()) {
          return Status::InvalidArgument(rule + ": destination " + d.location +
                                         ": transport 'staging' " + d.transport.staging +
                                         " is not an S3 location");
        }
        if (staging->remote == loc->remote && staging->bucket == loc->bucket) {
          return Status::InvalidArgument(rule + ": destination " + d.location +
                                         ": transport 'staging' " + d.transport.staging +
                                         " is in the destination's bucket");
        }
        d.transport.staging = LocationName(*staging);
        out.stagings.emplace(d.transport.staging, *staging);
      }
      bool seen = false;
      for (const auto& [name, l] : out.destinations) seen = seen || name == d.location;
      if (!seen) out.destinations.emplace_back(d.location, *loc);
    }
  }
  return out;
}

Result<OpenedReplication> OpenReplication(Wiring& wiring, const ReplicationTargets& targets,
                                          std::stop_token stop) {
  OpenedReplication out;
  FERRY_ASSIGN_OR_RETURN(out.source, wiring.OpenBackend(targets.source, false));
  FERRY_RETURN_IF_ERROR(CheckWithVersions(*out.source, stop).WithContext("source"));
  for (const auto& [name, loc] : targets.destinations) {
    if (auto key = targets.replica_kms_keys.find(name); key != targets.replica_kms_keys.end()) {
      wiring.SetEncryption(loc, EncryptionOverride{
                                    s3::Encryption{s3::SseMode::kKms, key->second, ""}, {}});
    }
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Backend> dst, wiring.OpenBackend(loc, false));
    FERRY_RETURN_IF_ERROR(CheckWithVersions(*dst, stop).WithContext("destination " + name));
    out.destinations[name] = std::move(dst);
  }
  for (const auto& [name, loc] : targets.stagings) {
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Backend> staging,
                           wiring.OpenBackend(loc, true));
    FERRY_RETURN_IF_ERROR(staging->Check(stop).WithContext("staging " + name));
    out.stagings[name] = std::move(staging);
  }
  return out;
}

}  // namespace ferry::app
