// [limits] of the config file (app/config.h): bandwidth and request-rate limits; [sync] (the
// --max-delete guard and the cutoffs of `ferry sync`); [catalog] and [cache] (the --max-delete
// of `ferry catalog prune` and `ferry cache expire`/`serve`). Internal to the config's parsers;
// pure parsing, thread-safe.
#pragma once

#include <optional>
#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// Reads `t` into `out`: bwlimit (rclone's syntax, a timetable too, checked by
// limits::BandwidthSchedule::Parse), max_rps (above 0), max_rps_burst (1..1000000), adaptive
// (a boolean). An unknown key or a bad value is refused with one line "<src>: [limits]: ...".
Status ParseLimits(const toml::table& t, const std::string& src, LimitsSettings& out);

// The key max_delete of `t` into `out` when present: a whole number of deletes (max_delete =
// 1000) or a percentage in a string (max_delete = "10%"), as --max-delete takes it
// (plan::ParseDeleteLimit). A bad value is one line "<where>: 'max_delete' ...".
Status ReadDeleteLimit(const toml::table& t, const std::string& where,
                       std::optional<plan::DeleteLimit>& out);

// Reads [sync] into `out`: max_delete (ReadDeleteLimit); max_transfer, a size above 0 as
// --max-transfer takes it ("500GiB"); max_duration, a duration of 1s or more ("6h");
// cutoff_mode, "hard", "soft" or "cautious", only beside max_transfer or max_duration. An
// unknown key or a bad value is refused with one line "<src>: [sync]: ...".
Status ParseSync(const toml::table& t, const std::string& src, SyncSettings& out);

// Reads [catalog] and [cache] into `out`: max_delete (ReadDeleteLimit), nothing else. One line
// "<src>: [catalog]: ..." (or [cache]) for an unknown key or a bad value.
Status ParseCatalog(const toml::table& t, const std::string& src, CatalogSettings& out);
Status ParseCache(const toml::table& t, const std::string& src, CacheSettings& out);

}  // namespace ferry::app
