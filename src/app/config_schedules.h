// [[schedules]] of the config file (app/config.h): the commands `ferry serve` starts at
// cron-like times (docs/design/serve.md, "Schedules"). Internal to config.cc; pure parsing,
// thread-safe.
#pragma once

#include <string>
#include <vector>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// `node` is the value of the top-level "schedules" key: an array of tables. Refused with one
// line naming the file and the entry (`src` is the file's name): unknown keys, a missing or
// duplicate name, an `at` or `tz` serve::ParseAt refuses, an unknown command, a command's
// missing or foreign options, a bad grace, ttl, keep rule, max_delete or integer. What needs
// the remotes (locations) or the command's own checks (a backup's archive size) is checked when
// serve plans (serve/daemon/schedules.cc).
Status ParseSchedules(const toml::node& node, const std::string& src,
                      std::vector<ScheduleConfig>& out);

}  // namespace ferry::app
