// Readers of one key of a config table that the config's parsers share (config_*.cc). Each
// leaves `out` as it was when the key is absent; a present key of the wrong shape is
// kInvalidArgument, one line "<where>: '<key>' must be ...".
#pragma once

#include <string>

#include <toml++/toml.h>

#include "base/status.h"

namespace ferry::app {

// A string that is not empty.
Status ReadNonEmptyString(const toml::table& t, const char* key, std::string& out,
                          const std::string& where);

}  // namespace ferry::app
