// [limits], [sync], [catalog] and [cache] of the config file (config_limits.h).
#include "app/config_limits.h"

#include <optional>

#include "app/config_keys.h"
#include "limits/schedule.h"
#include "transfer/cutoff.h"

namespace ferry::app {

// [limits]: bwlimit (rclone's syntax, a timetable too), max_rps, max_rps_burst, adaptive.
Status ParseLimits(const toml::table& t, const std::string& src, LimitsSettings& out) {
  const std::string where = src + ": [limits]";
  FERRY_RETURN_IF_ERROR(
      CheckKeys(t, where, {"bwlimit", "max_rps", "max_rps_burst", "adaptive"}));
  if (t.get("bwlimit") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadString(t, "bwlimit", text, where));
    auto schedule = limits::BandwidthSchedule::Parse(text);
    if (!schedule.ok()) return schedule.status().WithContext(where + ": 'bwlimit'");
    out.bwlimit = text;
  }
  if (const toml::node* n = t.get("max_rps")) {
    const std::optional<double> v = n->is_number() ? n->value<double>() : std::nullopt;
    if (!v || !(*v > 0) || *v > 1e9) {
      return Status::InvalidArgument(where + ": 'max_rps' must be a number above 0");
    }
    out.max_rps = *v;
  }
  if (const toml::node* n = t.get("max_rps_burst")) {
    const std::optional<int64_t> v = n->is_integer() ? n->value<int64_t>() : std::nullopt;
    if (!v || *v < 1 || *v > 1000000) {
      return Status::InvalidArgument(where + ": 'max_rps_burst' must be a whole number from 1 "
                                     "to 1000000");
    }
    out.max_rps_burst = static_cast<int>(*v);
  }
  if (const toml::node* n = t.get("adaptive")) {
    const std::optional<bool> v = n->is_boolean() ? n->value<bool>() : std::nullopt;
    if (!v) return Status::InvalidArgument(where + ": 'adaptive' must be true or false");
    out.adaptive = *v;
  }
  return Status::Ok();
}

Status ReadDeleteLimit(const toml::table& t, const std::string& where,
                       std::optional<plan::DeleteLimit>& out) {
  const toml::node* n = t.get("max_delete");
  if (n == nullptr) return Status::Ok();
  std::string text;
  if (n->is_integer()) {
    text = std::to_string(n->value<int64_t>().value_or(-1));
  } else if (n->is_string()) {
    text = n->value<std::string>().value_or("");
  } else {
    return Status::InvalidArgument(where + ": 'max_delete' must be a whole number of deletes "
                                   "or a percentage such as \"10%\"");
  }
  auto limit = plan::ParseDeleteLimit(text);
  if (!limit.ok()) return limit.status().WithContext(where + ": 'max_delete'");
  out = *limit;
  return Status::Ok();
}

namespace {

// [sync]'s cutoffs, as --max-transfer, --max-duration and --cutoff-mode take them.
Status ReadCutoffs(const toml::table& t, const std::string& where, SyncSettings& out) {
  if (t.get("max_transfer") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "max_transfer", text, where));
    auto v = transfer::ParseMaxTransfer(text);
    if (!v.ok()) return v.status().WithContext(where + ": 'max_transfer'");
    out.max_transfer = *v;
  }
  if (t.get("max_duration") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "max_duration", text, where));
    auto v = transfer::ParseMaxDuration(text);
    if (!v.ok()) return v.status().WithContext(where + ": 'max_duration'");
    out.max_duration = *v;
  }
  if (t.get("cutoff_mode") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "cutoff_mode", text, where));
    auto mode = transfer::ParseCutoffMode(text);
    if (!mode.ok()) return mode.status().WithContext(where + ": 'cutoff_mode'");
    if (!out.max_transfer && !out.max_duration) {
      return Status::InvalidArgument(where + ": 'cutoff_mode' needs 'max_transfer' or "
                                     "'max_duration' beside it");
    }
    out.cutoff_mode = *mode;
  }
  return Status::Ok();
}

}  // namespace

Status ParseSync(const toml::table& t, const std::string& src, SyncSettings& out) {
  const std::string where = src + ": [sync]";
  FERRY_RETURN_IF_ERROR(
      CheckKeys(t, where, {"max_delete", "max_transfer", "max_duration", "cutoff_mode"}));
  FERRY_RETURN_IF_ERROR(ReadDeleteLimit(t, where, out.max_delete));
  if (out.max_delete) out.max_delete->from = "[sync] max_delete";  // its refusals name the key
  return ReadCutoffs(t, where, out);
}

Status ParseCatalog(const toml::table& t, const std::string& src, CatalogSettings& out) {
  const std::string where = src + ": [catalog]";
  FERRY_RETURN_IF_ERROR(CheckKeys(t, where, {"max_delete"}));
  return ReadDeleteLimit(t, where, out.max_delete);
}

Status ParseCache(const toml::table& t, const std::string& src, CacheSettings& out) {
  const std::string where = src + ": [cache]";
  FERRY_RETURN_IF_ERROR(CheckKeys(t, where, {"max_delete"}));
  return ReadDeleteLimit(t, where, out.max_delete);
}

}  // namespace ferry::app
