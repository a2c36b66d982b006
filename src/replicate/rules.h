// Replication rules: which objects of a source go to which destinations, as S3 replication
// configurations say it. A RuleSet comes from the TOML config ([[replication.rules]], parsed by
// app/config.cc) or from the S3 ReplicationConfiguration JSON (rules_json.cc); either way it is
// checked by Validate before any pass uses it, and matched per object version by WinningRules.
//
// Matching: a rule applies to a version when the rule is enabled, the key starts with the
// rule's prefix and every tag of the rule's filter is on the version (same key and value). For
// each destination, the highest-priority rule that applies and names that destination wins; two
// rules with equal priority and overlapping filters are refused by Validate, so a winner is
// always unique.
//
// Pure functions over values; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/object_info.h"

namespace ferry::replicate {

enum class VersionsMode { kAll, kLatest };

// Compressed transport to one destination (docs/design/replication.md,
// "Compressed transport"): the versions a pass replicates there are packed near the source into
// archives on `staging` (a location in the destination's region) by the replicate-keys job and
// written to the destination by an unpack job of `region`, checked, in the source's order.
struct Transport {
  static constexpr std::chrono::seconds kDefaultMaxDelay{30};
  static constexpr uint64_t kDefaultBatchObjects = 1000;
  static constexpr uint64_t kDefaultBatchBytes = uint64_t{1} << 30;
  bool compress = false;
  std::string staging;  // where the archives go ("remote:bucket/prefix"); needed with compress
  std::string region;   // the unpack jobs' region ("" = the staging remote's region, or any)
  int level = 0;        // zstd level 1..19; 0 = adaptive (transport/level_advisor.h)
  // Batching under `ferry serve` (a continuous run; a pass packs per keys job): the versions
  // that events bring wait, PENDING, to be packed together; a pack job takes them `max_delay`
  // after the first one waits, or at once when `batch_objects` versions or `batch_bytes` bytes
  // wait, and packs at most that many into one archive per staging location. max_delay 0: each
  // event's job packs its own versions (one archive per event). TOML: max_delay = "30s",
  // batch_objects, batch_bytes = "1GiB"; only with compress.
  std::chrono::seconds max_delay = kDefaultMaxDelay;
  uint64_t batch_objects = kDefaultBatchObjects;
  uint64_t batch_bytes = kDefaultBatchBytes;
  bool operator==(const Transport&) const = default;
};

struct Destination {
  std::string location;       // "remote:bucket/prefix", as the command line takes locations
  std::string storage_class;  // "" = the source version's class
  Transport transport;        // compress = false: versions are copied directly
  // S3's Destination.EncryptionConfiguration.ReplicaKmsKeyID (TOML: replica_kms_key_id): the
  // replicas written to this destination are encrypted with SSE-KMS under this key. "" = as
  // the destination's remote says.
  std::string replica_kms_key_id{};
  // S3 CRR's AccessControlTranslation {"Owner": "Destination"} with Destination.Account: the
  // replicas are granted to this account (x-amz-grant-full-control: id="ACCOUNT"), the
  // destination bucket's owner, whoever writes them. "" = the writer's default ACL.
  std::string owner_account{};
};

struct Rule {
  std::string id;
  int priority = 0;
  bool enabled = true;
  std::string prefix;    // filter: keys starting with it ("" = all)
  storage::Tags tags;    // filter: all must be on the version
  std::vector<Destination> destinations;
  bool delete_markers = false;         // replicate delete markers
  bool existing_objects = true;        // versions written before the rule was first seen
  VersionsMode versions = VersionsMode::kAll;
  // Tag changes on either side of a replicated current version flow to the other (see
  // modifications.cc); metadata changes are new versions, replicated as such.
  bool replica_modifications = false;
  // S3's SourceSelectionCriteria.SseKmsEncryptedObjects (TOML: sse_kms_encrypted_objects):
  // versions encrypted with SSE-KMS at the source are replicated only by rules that select
  // them; others leave them out (counted: PassStats::kms_not_selected).
  bool sse_kms_objects = false;
  // The replication time threshold (S3 Replication Time Control: `ReplicationTime` and
  // `Metrics.EventThreshold`; the TOML's `replication_time`): versions of this rule should reach
  // each destination within it after they were written. 0 = none. It changes no decision of a
  // pass: it is what the SLA metrics count against (sla.h).
  std::chrono::seconds replication_time{0};
};

// The longest replication_time taken: a million minutes (S3 takes 15 minutes only).
inline constexpr std::chrono::seconds kMaxReplicationTime{60'000'000};
// The longest Transport::max_delay: a version waits at most an hour to be packed.
inline constexpr std::chrono::seconds kMaxTransportDelay{3600};

struct RuleSet {
  std::vector<Rule> rules;
};

// kInvalidArgument with one line naming the rule and the field, e.g.
// "replication rule 'r1': delete_markers cannot be replicated with a tag filter".
// Checks: ids present and unique, priority >= 0, at least one destination with a location,
// a destination named once per rule, no delete_markers with tags, replication_time from 0 to
// kMaxReplicationTime, no two rules with equal priority whose filters overlap (one prefix starts
// the other, no tag key with two values).
// Transport: compress needs a staging location, which must not be in the destination's bucket
// (nor the same location), staging or region without compress is refused, the level is 0..19;
// a destination location has one transport in every rule naming it (its versions must take one
// path, or their order could change), and destinations sharing a staging location share its
// level (one archive serves them all) and each has a region of its own (an entry names the
// regions it is meant for).
Status Validate(const RuleSet& rules);

// True when the filters of `a` and `b` can both match one version.
bool FiltersOverlap(const Rule& a, const Rule& b);

// True when `rule` is enabled and its filter matches (`tags` may be null when the rule has no
// tag filter; a rule with tags never matches null tags).
bool Matches(const Rule& rule, std::string_view key, const storage::Tags* tags);

// True when some enabled rule with a prefix matching `key` filters on tags (the caller must
// then fetch the version's tags before calling WinningRules).
bool NeedsTags(const RuleSet& rules, std::string_view key);

struct Winner {
  const Rule* rule = nullptr;
  const Destination* destination = nullptr;
};
// For each destination location named by any rule, the winning rule for this version, in the
// order destinations first appear in the rule set. Destinations no rule applies to are left out.
std::vector<Winner> WinningRules(const RuleSet& rules, std::string_view key,
                                 const storage::Tags* tags);

// Every destination location named by an enabled rule, once each, in order of appearance.
std::vector<std::string> DestinationLocations(const RuleSet& rules);

// Parses the S3 ReplicationConfiguration JSON as `aws s3api get-bucket-replication` prints it
// ({"ReplicationConfiguration": {"Role": ..., "Rules": [...]}}, or the inner object alone).
// `bucket_locations` maps destination bucket ARNs ("arn:aws:s3:::name") to locations; an ARN not
// in it is refused. The result is not validated yet. kInvalidArgument with one line naming the
// file (`source_name`), the rule and the field.
Result<RuleSet> ParseS3ReplicationJson(
    std::string_view text, std::string_view source_name,
    const std::vector<std::pair<std::string, std::string>>& bucket_locations);

}  // namespace ferry::replicate
