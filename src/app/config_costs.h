// [costs] of the config file (app/config.h): the cost model's prices. Internal to config.cc;
// pure parsing, thread-safe.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// Reads `t` into `out` (estimate/cost.h; what is not set keeps its default). A price that is
// not a number 0 or more, an unknown key and a 'pairs' that is not a table are refused with one
// line "<src>: [costs]: ...".
Status ParseCosts(const toml::table& t, const std::string& src, estimate::Prices& out);

}  // namespace ferry::app
