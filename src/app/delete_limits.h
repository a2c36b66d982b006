// The --max-delete limits of `ferry catalog prune` and `ferry cache expire`/`cache serve`, and of
// serve's scheduled prunes and cache roles: the limit resolved from the flag or the config
// ([catalog], [cache], a [[schedules]] or [[serve.cache]] entry's max_delete: app/config.h),
// and the checks each pass asks before it deletes anything (docs/design/guards.md). Pure
// functions; the checks they return are thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "backup/catalog_prune.h"
#include "base/status.h"
#include "cache/expire.h"
#include "plan/delete_limit.h"

namespace ferry::app {

// A limit and the name its refusal gives it: "--max-delete", or the config key it came from
// ("[catalog] max_delete", "[[schedules]] 'nightly' max_delete").
struct NamedDeleteLimit {
  plan::DeleteLimit limit;  // disabled: no limit
  std::string name;
  bool flag = false;  // it came from the command line
};

// The command's limit: `flag_text` when given ("--max-delete": a bad value is one
// kInvalidArgument line naming the flag), else `key` (named `key_name`), else none.
Result<NamedDeleteLimit> ResolveDeleteLimit(const std::string& flag_text,
                                            const std::optional<plan::DeleteLimit>& key,
                                            const std::string& key_name);

// A prune's approve (backup::PruneRequest::approve) for `limit`: the versions its plan would
// forget, of the versions held at the location (forgotten + kept). Past it: one
// kInvalidArgument line naming the limit, saying nothing was forgotten or deleted (`dry_run`:
// that a prune would forget nothing). Null when the limit is disabled.
std::function<Status(const backup::PrunePlan&)> PruneDeleteCheck(const NamedDeleteLimit& limit,
                                                                 bool dry_run);

// An expiry pass's approve (cache::ExpireOptions::approve) for `limit`: the objects expired now,
// of the objects the cache holds. Past it: one kInvalidArgument line naming the limit, nothing
// deleted. Null when the limit is disabled.
std::function<Status(uint64_t expired, uint64_t held)> ExpireDeleteCheck(
    const NamedDeleteLimit& limit);

}  // namespace ferry::app
