// Delete markers in one key's pass (key.cc): which transported destinations take the key
// directly because it has a marker for them, and which deletes of the key at a destination
// without versions the source undid (an undelete) so that its current version is written again.
// Pure functions over plain data (the key's listed versions, its status rows, the rules);
// thread-safe. See docs/design/replication.md, "The pass" (step 4) and "Compressed transport".
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "replicate/key_versions.h"
#include "replicate/rules.h"
#include "replicate/status_store.h"
#include "storage/object_info.h"

namespace ferry::replicate::internal {

// The transported destinations (compress) that `key` (its `versions` oldest first, its `rows`)
// has a delete marker to replicate to (a winning rule wants it: RuleWants): they take the key
// directly in this pass, all its versions then the marker. Archives carry no markers; one path
// keeps the key's order at a destination.
std::set<std::string> MarkerDirectDestinations(const RuleSet& rules, std::string_view key,
                                               const std::vector<storage::ObjectInfo>& versions,
                                               const std::vector<VersionStatus>& rows,
                                               const VersionRules& r);

// How many deletes a pass of `key` would make (--max-delete counts them before the first): a
// destination that keeps no versions (`keeps_versions` says false) takes a replicated delete
// marker as a DELETE of the key. Each delete marker of `versions` that a winning rule wants there
// (JudgeVersion: kWanted) counts once per such destination; a marker a pass wrote to this source
// (`written_here`: a replica, ReplicaByStore) is not replicated and does not count.
uint64_t MarkerDeletes(const RuleSet& rules, std::string_view key,
                       const std::vector<storage::ObjectInfo>& versions,
                       const std::vector<VersionStatus>& rows,
                       const std::set<std::string>& written_here, const VersionRules& r,
                       const std::function<bool(const std::string&)>& keeps_versions);

// (rule, destination) pairs whose replicated delete marker the source has since removed.
using UndoneDeletes = std::set<std::pair<std::string, std::string>>;

// A destination that keeps no versions took a replicated delete marker as a DELETE of the key
// (its COMPLETED marker row has no destination version). When the source no longer lists that
// marker (an undelete: its newest version is current again) and nothing of the key was
// COMPLETED there after the DELETE, the source's current version is written again, or the key
// would stay deleted there for good. A versioned destination keeps the marker, as S3 replication
// does: removing a marker is not replicated. Empty when the key's current entry is not a
// version (a marker, or no current entry).
UndoneDeletes FindUndoneDeletes(const std::vector<storage::ObjectInfo>& versions,
                                const std::vector<VersionStatus>& rows);

// Whether `row` (of `v`, an element of `versions`) must be written again: `v` is the key's
// current version after an undelete at the row's (rule, destination).
bool IsUndeleted(const VersionStatus* row, const storage::ObjectInfo& v,
                 const std::vector<storage::ObjectInfo>& versions, const UndoneDeletes& undone);

}  // namespace ferry::replicate::internal
