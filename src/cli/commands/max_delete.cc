#include "cli/commands/max_delete.h"

namespace ferry::cli {

void AddMaxDeleteOption(CLI::App* cmd, std::string& value) {
  cmd->add_option("--max-delete", value,
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

}  // namespace ferry::cli
