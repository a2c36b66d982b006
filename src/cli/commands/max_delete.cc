#include "cli/commands/max_delete.h"

namespace ferry::cli {

void AddDeleteOptions(CLI::App* cmd, bool& delete_extra, std::string& max_delete) {
  cmd->add_flag("--delete", delete_extra, "delete destination-only objects");
  cmd->add_option("--max-delete", max_delete,
                  "with --delete: if the plan deletes more than N objects, or more than P% of "
                  "the destination objects the run compares (N or P%), delete none at all, say "
                  "so and exit 2; copies are made (default: [sync] max_delete, else no limit)");
}

Result<plan::DeleteLimit> ResolveMaxDelete(const std::string& text, bool delete_extra,
                                           const app::Config& config) {
  if (!text.empty()) {
    if (!delete_extra) return Status::InvalidArgument("--max-delete needs --delete");
    auto limit = plan::ParseDeleteLimit(text);
    if (!limit.ok()) return limit.status().WithContext("--max-delete");
    return *limit;
  }
  if (delete_extra && config.sync.max_delete) return *config.sync.max_delete;
  return plan::DeleteLimit{};
}

Status ApplyDeleteFlags(bool delete_extra, const std::string& max_delete,
                        const app::Config& config, transfer::SyncOptions& out) {
  out.delete_extra = delete_extra;
  FERRY_ASSIGN_OR_RETURN(out.max_delete, ResolveMaxDelete(max_delete, delete_extra, config));
  return Status::Ok();
}

}  // namespace ferry::cli
