// [limits] of the config file (app/config.h): bandwidth and request-rate limits, and [sync]
// (the --max-delete guard of `ferry sync`). Internal to
// config.cc; pure parsing, thread-safe.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// Reads `t` into `out`: bwlimit (rclone's syntax, a timetable too, checked by
// limits::BandwidthSchedule::Parse), max_rps (above 0), max_rps_burst (1..1000000), adaptive
// (a boolean). An unknown key or a bad value is refused with one line "<src>: [limits]: ...".
Status ParseLimits(const toml::table& t, const std::string& src, LimitsSettings& out);

// Reads [sync] into `out`: max_delete, a whole number of deletes (max_delete = 1000) or a
// percentage in a string (max_delete = "10%"), as --max-delete takes it. An unknown key or a
// bad value is refused with one line "<src>: [sync]: ...".
Status ParseSync(const toml::table& t, const std::string& src, SyncSettings& out);

}  // namespace ferry::app
