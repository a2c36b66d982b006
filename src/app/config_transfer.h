// [transfer] of the config file (app/config.h): defaults for command-line options. Internal
// to config.cc; pure parsing, thread-safe.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// Reads `t` into `out`, checked as strictly as the options are: an unknown key, a concurrency
// outside 1..1024, and a size that plan::ParseSize refuses or that is 0 are refused with one
// line "<src>: [transfer]: ...".
Status ParseTransfer(const toml::table& t, const std::string& src, TransferDefaults& out);

}  // namespace ferry::app
