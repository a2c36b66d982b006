// [[serve.cache]] and [[serve.unpack]] of the config file (app/config.h): the continuous roles
// `ferry serve` runs beside replication, cache expiry and unpack followers. Internal to
// config.cc; pure parsing, thread-safe.
#pragma once

#include <map>
#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// Reads [serve]'s "cache" and "unpack" keys of `serve` (each an array of tables) into `out`.
// Refused with one line naming the file and the entry (`src` is the file's name): an entry that
// is not a table, an unknown key, a missing or malformed location, a location on a remote the
// config does not name, an interval under 1s, a claim_ttl outside 2s..1d, a string key that is
// not a string, a cache's max_size that plan::ParseSize refuses or that is 0, a max_objects
// that is not a whole number above 0, a max_delete --max-delete would refuse (config_limits.h:
// ReadDeleteLimit), and the same cache (or staging and destination) listed twice.
Status ParseServeRoles(const toml::table& serve, const std::string& src,
                       const std::map<std::string, RemoteConfig>& remotes, ServeConfig& out);

}  // namespace ferry::app
