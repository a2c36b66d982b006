// ferry sync's --max-delete N|P% (plan/delete_limit.h, docs/design/guards.md): the flag
// registered, and the limit of a run resolved from it and the config's [sync] max_delete.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "app/config.h"
#include "base/status.h"
#include "plan/delete_limit.h"
#include "transfer/sync.h"

namespace ferry::cli {

// Registers sync's --delete (into `delete_extra`) and --max-delete (its text into `max_delete`).
void AddDeleteOptions(CLI::App* cmd, bool& delete_extra, std::string& max_delete);

// The run's limit: the flag's `text` when given, else the config's [sync] max_delete (only when
// the run deletes: `delete_extra`), else none. kInvalidArgument, one line naming the flag: a bad
// value, or the flag without --delete (it would guard nothing).
Result<plan::DeleteLimit> ResolveMaxDelete(const std::string& text, bool delete_extra,
                                           const app::Config& config);
// Sets `out`'s delete_extra and max_delete (ResolveMaxDelete) from the flags.
Status ApplyDeleteFlags(bool delete_extra, const std::string& max_delete,
                        const app::Config& config, transfer::SyncOptions& out);

}  // namespace ferry::cli
