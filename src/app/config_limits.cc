// [limits] of the config file (config_limits.h).
#include "app/config_limits.h"

#include <optional>

#include "app/config_keys.h"
#include "limits/schedule.h"

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

Status ParseSync(const toml::table& t, const std::string& src, SyncSettings& out) {
  const std::string where = src + ": [sync]";
  FERRY_RETURN_IF_ERROR(CheckKeys(t, where, {"max_delete"}));
  if (const toml::node* n = t.get("max_delete")) {
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
    out.max_delete = *limit;
  }
  return Status::Ok();
}

}  // namespace ferry::app
