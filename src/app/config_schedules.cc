// [[schedules]] (config_schedules.h).
#include "app/config_schedules.h"

#include <cstdint>
#include <set>
#include <span>
#include <string_view>

#include "app/config_keys.h"
#include "app/config_limits.h"
#include "cache/request.h"
#include "plan/filter.h"
#include "serve/schedule_at.h"

namespace ferry::app {
namespace {

constexpr std::string_view kCommon[] = {"name", "at", "tz", "command", "grace"};
constexpr std::string_view kSync[] = {"source", "destination", "delete"};
constexpr std::string_view kWarm[] = {"source", "cache", "prefixes", "ttl"};
constexpr std::string_view kBackup[] = {"source", "location", "compress_level", "archive_size",
                                        "max_attempts"};
constexpr std::string_view kPrune[] = {"location", "keep_last", "keep_within", "max_delete"};

// An integer key within [lo, hi], when present.
Status Integer(const toml::table& t, const char* key, int64_t lo, int64_t hi, int64_t& out,
               const std::string& where) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  if (!n->is_integer() || *n->value<int64_t>() < lo || *n->value<int64_t>() > hi) {
    return Status::InvalidArgument(where + ": '" + key + "' must be an integer, " +
                                   std::to_string(lo) + ".." + std::to_string(hi));
  }
  out = *n->value<int64_t>();
  return Status::Ok();
}

bool Among(std::string_view key, std::span<const std::string_view> known) {
  for (std::string_view k : known) {
    if (k == key) return true;
  }
  return false;
}

Status Sync(const toml::table& t, const std::string& where, ScheduleConfig& s) {
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "source", s.source, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "destination", s.destination, where));
  if (s.source.empty()) return Status::InvalidArgument(where + ": 'source' is missing");
  if (s.destination.empty()) return Status::InvalidArgument(where + ": 'destination' is missing");
  if (const toml::node* n = t.get("delete")) {
    if (!n->is_boolean()) return Status::InvalidArgument(where + ": 'delete' must be true or false");
    s.delete_extra = *n->value<bool>();
  }
  return Status::Ok();
}

// cache-warm: `ferry cache warm SRC --prefix P... --cache DST --ttl T --detach`.
Status Warm(const toml::table& t, const std::string& where, ScheduleConfig& s) {
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "source", s.source, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "cache", s.cache, where));
  if (s.source.empty()) return Status::InvalidArgument(where + ": 'source' is missing");
  if (s.cache.empty()) return Status::InvalidArgument(where + ": 'cache' is missing");
  const toml::node* n = t.get("prefixes");
  if (n == nullptr) {
    return Status::InvalidArgument(where + ": 'prefixes' is missing ([\"\"] = the whole bucket)");
  }
  const toml::array* list = n->as_array();
  if (list == nullptr || list->empty()) {
    return Status::InvalidArgument(where + ": 'prefixes' must be a non-empty list of strings");
  }
  for (const toml::node& p : *list) {
    if (!p.is_string()) {
      return Status::InvalidArgument(where + ": 'prefixes' must be a non-empty list of strings");
    }
    s.prefixes.push_back(*p.value<std::string>());
  }
  std::string ttl;
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "ttl", ttl, where));
  if (ttl.empty()) return Status::InvalidArgument(where + ": 'ttl' is missing");
  Result<std::chrono::seconds> parsed = cache::ParseTtl(ttl);
  if (!parsed.ok()) return parsed.status().WithContext(where + ": 'ttl'");
  s.ttl = *parsed;
  return Status::Ok();
}

// backup: `ferry backup SRC BACKUP_LOC --compress-level L --archive-size S --max-attempts N`
// (the archive size's range is checked with the command's own check when serve plans).
Status Backup(const toml::table& t, const std::string& where, ScheduleConfig& s) {
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "source", s.source, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "location", s.location, where));
  if (s.source.empty()) return Status::InvalidArgument(where + ": 'source' is missing");
  if (s.location.empty()) {
    return Status::InvalidArgument(where + ": 'location' (the backup location) is missing");
  }
  int64_t level = s.compress_level, attempts = s.max_attempts;
  FERRY_RETURN_IF_ERROR(Integer(t, "compress_level", 0, 19, level, where));
  FERRY_RETURN_IF_ERROR(Integer(t, "max_attempts", 1, 1000, attempts, where));
  s.compress_level = static_cast<int>(level);
  s.max_attempts = static_cast<int>(attempts);
  return ReadNonEmptyString(t, "archive_size", s.archive_size, where);
}

// catalog-prune: `ferry catalog prune BACKUP_LOC --keep-last N --keep-within W --max-delete L`.
Status Prune(const toml::table& t, const std::string& where, ScheduleConfig& s) {
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "location", s.location, where));
  if (s.location.empty()) {
    return Status::InvalidArgument(where + ": 'location' (the backup location) is missing");
  }
  int64_t keep_last = 0;
  FERRY_RETURN_IF_ERROR(Integer(t, "keep_last", 1, INT32_MAX, keep_last, where));
  s.keep_last = static_cast<uint64_t>(keep_last);
  if (t.get("keep_within") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "keep_within", text, where));
    Result<std::chrono::seconds> age = plan::ParseAge(text);
    if (!age.ok()) return age.status().WithContext(where + ": 'keep_within'");
    if (age->count() < 1) return Status::InvalidArgument(where + ": 'keep_within' must be at least 1s");
    s.keep_within = *age;
  }
  if (s.keep_last == 0 && s.keep_within.count() == 0) {
    return Status::InvalidArgument(where + ": give 'keep_last' and/or 'keep_within'");
  }
  return ReadDeleteLimit(t, where, s.max_delete);
}

}  // namespace

Status ParseSchedules(const toml::node& node, const std::string& src,
                      std::vector<ScheduleConfig>& out) {
  const toml::array* list = node.as_array();
  if (list == nullptr) return Status::InvalidArgument(src + ": 'schedules' must be [[schedules]] tables");
  std::set<std::string> names;
  for (size_t i = 0; i < list->size(); ++i) {
    std::string where = src + ": [[schedules]] #" + std::to_string(i + 1);
    const toml::table* t = (*list)[i].as_table();
    if (t == nullptr) return Status::InvalidArgument(where + " must be a table");
    ScheduleConfig s;
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "name", s.name, where));
    if (s.name.empty()) return Status::InvalidArgument(where + ": 'name' is missing");
    where = src + ": [[schedules]] '" + s.name + "'";
    if (!names.insert(s.name).second) return Status::InvalidArgument(where + ": the name is taken twice");
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "command", s.command, where));
    if (s.command.empty()) return Status::InvalidArgument(where + ": 'command' is missing");
    std::span<const std::string_view> own;
    if (s.command == "sync") {
      own = kSync;
    } else if (s.command == "cache-warm") {
      own = kWarm;
    } else if (s.command == "backup") {
      own = kBackup;
    } else if (s.command == "catalog-prune") {
      own = kPrune;
    } else {
      return Status::InvalidArgument(where + ": unknown command '" + s.command +
                                     "' (scheduled commands: \"sync\", \"cache-warm\", "
                                     "\"backup\", \"catalog-prune\")");
    }
    for (const auto& [k, v] : *t) {
      if (!Among(k.str(), kCommon) && !Among(k.str(), own)) {
        return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) +
                                       "' for command '" + s.command + "'");
      }
    }
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "at", s.at, where));
    if (s.at.empty()) return Status::InvalidArgument(where + ": 'at' is missing");
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "tz", s.tz, where));
    if (Result<serve::ScheduleAt> at = serve::ParseAt(s.at, s.tz); !at.ok()) {
      return at.status().WithContext(where);
    }
    if (t->get("grace") != nullptr) {
      std::string text;
      FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "grace", text, where));
      Result<std::chrono::seconds> grace = plan::ParseAge(text);
      if (!grace.ok()) return grace.status().WithContext(where + ": 'grace'");
      if (grace->count() < 1) return Status::InvalidArgument(where + ": 'grace' must be at least 1s");
      s.grace = *grace;
    }
    FERRY_RETURN_IF_ERROR(s.command == "sync"         ? Sync(*t, where, s)
                          : s.command == "cache-warm" ? Warm(*t, where, s)
                          : s.command == "backup"     ? Backup(*t, where, s)
                                                      : Prune(*t, where, s));
    out.push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace ferry::app
