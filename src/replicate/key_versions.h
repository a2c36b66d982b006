// Which versions of a key a pass wants, per rule and destination (key.cc asks, per version and
// winning (rule, destination)): done already, a replica, refused for good, wanted, or left out
// by the rule. Pure functions over plain data (the key's status rows, a listed version, a
// rule); thread-safe. See docs/design/replication.md, "The pass" and "Rules".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/pass.h"
#include "replicate/replica.h"
#include "replicate/rules.h"
#include "replicate/status_store.h"
#include "storage/object_info.h"

namespace ferry::replicate::internal {

struct KeyWork;

// The row of `rows` (one key's, one source's) for (`rule`, `destination`, `version`, a
// VersionName); nullptr when there is none.
const VersionStatus* FindKeyRow(const std::vector<VersionStatus>& rows, std::string_view rule,
                                std::string_view destination, std::string_view version);

// Whether listed version `v` has any FAILED row (--retry-failed acts on those versions only).
bool HasFailedRow(const std::vector<VersionStatus>& rows, const storage::ObjectInfo& v);

// Whether `row` (of `v`) says `v` is finished at its destination: COMPLETED (for an unversioned
// source's version "null", rewritten in place, only with the same ETag), or REPLICA while the
// row still holds (ReplicaRowHolds). False for no row.
bool VersionDone(const VersionStatus* row, const storage::ObjectInfo& v,
                 const Connected& connected);

// Whether `row` (of `v`) says that `v`'s bytes, read twice alike, contradict what it declares
// (IsLastingRefusal): a property of the version, unchanged while its ETag is. A normal pass
// counts it failed again without reading it (`retry_failed_only`, --retry-failed, reads it);
// newer versions of the key do not wait for it.
bool StillRefused(const VersionStatus* row, const storage::ObjectInfo& v, bool retry_failed_only);

// What the version decisions read besides the version and its row.
struct VersionRules {
  const std::map<std::string, int64_t>& first_seen_ns;  // PassScope::first_seen_ns
  const Connected& connected;
  bool retry_failed_only = false;
};

// Whether `rule` wants `v` (its row for the destination `row`, or null) before the version's
// details are read: `versions = "latest"` takes the current entry only, a delete marker only
// with delete_markers, existing_objects = off nothing written at or before the rule was first
// seen; --retry-failed only a FAILED row; else what is not done, or done and `undeleted`
// (IsUndeleted: written again after an undelete).
bool RuleWants(const Rule& rule, const storage::ObjectInfo& v, const VersionStatus* row,
               bool undeleted, const VersionRules& r);

// The decision for one version and one winning (rule, destination), in the order a pass asks:
enum class VersionVerdict {
  kDone,       // COMPLETED there (counted "already"), no request
  kReplica,    // a REPLICA row that holds (counted a replica), no request
  kRefused,    // StillRefused: counted failed again, not read
  kWanted,     // to replicate (its details are read next)
  kNotWanted,  // the rule leaves it out (RuleWants)
};
VersionVerdict JudgeVersion(const Rule& rule, const storage::ObjectInfo& v,
                            const VersionStatus* row, bool undeleted, const VersionRules& r);

// Whether `rule` leaves out the version with `details` for being encrypted: S3 replicates
// SSE-KMS objects only for rules that select them (SseKmsEncryptedObjects). The details say
// "encrypted, ETag not an MD5" (etag_opaque), for SSE-KMS and SSE-C alike: an SSE-C version
// (read with the source remote's key) needs the criterion too (docs/design/encryption.md). A
// replica is recognised before this is asked.
bool EncryptedNotSelected(const Rule& rule, const storage::ObjectInfo& details);

// Whether a pass could write anything of `work` (its rows as the batch read them): some version
// lacks a finished row for a destination of a rule whose prefix takes the key, a row names a
// version the listing no longer has (an undelete), or tags (replica_modifications) or two-way
// order may need writes. False only for keys every destination has: those cost no key lock (a
// scan of a replicated source stays a listing).
bool KeyMayWrite(std::string_view source, const RuleSet& rules, const PassScope& scope,
                 const KeyWork& work);

}  // namespace ferry::replicate::internal
