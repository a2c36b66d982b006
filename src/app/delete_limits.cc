#include "app/delete_limits.h"

namespace ferry::app {
namespace {

// How a refusal ends: the way on past it, by where the limit came from.
std::string WayOn(const NamedDeleteLimit& l, const char* check) {
  if (l.flag) {
    return std::string("; check ") + check +
           ", then rerun with a higher --max-delete (or without it)";
  }
  return std::string("; check ") + check + ", then raise " + l.name;
}

}  // namespace

Result<NamedDeleteLimit> ResolveDeleteLimit(const std::string& flag_text,
                                            const std::optional<plan::DeleteLimit>& key,
                                            const std::string& key_name) {
  if (!flag_text.empty()) {
    auto parsed = plan::ParseDeleteLimit(flag_text);
    if (!parsed.ok()) return parsed.status().WithContext("--max-delete");
    return NamedDeleteLimit{.limit = *parsed, .name = "--max-delete", .flag = true};
  }
  if (key) return NamedDeleteLimit{.limit = *key, .name = key_name, .flag = false};
  return NamedDeleteLimit{};
}

std::function<Status(const backup::PrunePlan&)> PruneDeleteCheck(const NamedDeleteLimit& limit,
                                                                 bool dry_run) {
  if (!limit.limit.enabled()) return nullptr;
  return [limit, dry_run](const backup::PrunePlan& p) -> Status {
    const uint64_t planned = p.dropped.size();
    const uint64_t scope = planned + p.kept;
    if (!limit.limit.Exceeded(planned, scope)) return Status::Ok();
    return Status::InvalidArgument(
        "catalog prune: " + std::to_string(planned) + " versions to forget" +
        plan::DeleteLimitShare(limit.limit, planned, scope, "versions held") + ", over " +
        limit.name + " " + limit.limit.Text() + ": " +
        (dry_run ? "a prune would forget nothing" : "nothing was forgotten or deleted") +
        WayOn(limit, limit.flag ? "--keep-last and --keep-within" : "the retention rules"));
  };
}

std::function<Status(uint64_t expired, uint64_t held)> ExpireDeleteCheck(
    const NamedDeleteLimit& limit) {
  if (!limit.limit.enabled()) return nullptr;
  return [limit](uint64_t expired, uint64_t held) -> Status {
    if (!limit.limit.Exceeded(expired, held)) return Status::Ok();
    return Status::InvalidArgument(
        "cache expire: " + std::to_string(expired) + " expired objects to delete" +
        plan::DeleteLimitShare(limit.limit, expired, held, "cached") + ", over " + limit.name +
        " " + limit.limit.Text() + ": nothing was deleted" +
        WayOn(limit, "the TTLs the warms gave"));
  };
}

}  // namespace ferry::app
