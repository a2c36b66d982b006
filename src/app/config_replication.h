// [replication] of the config file (app/config.h): the replication rules, their destinations
// and transports, and the bucket ARNs of S3 JSON rule files. Internal to config.cc; pure
// parsing, thread-safe.
#pragma once

#include <map>
#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// Reads `t` into `out`; `remotes` are the config's remotes (a compressed transport's region
// defaults to its staging remote's). Refused with one line naming the file and the rule (`src`
// is the file's name): an unknown key, a value of the wrong type, a destination or staging
// that is not an S3 location, and what replicate::Validate refuses of the rules as a whole.
Status ParseReplication(const toml::table& t, const std::string& src,
                        const std::map<std::string, RemoteConfig>& remotes,
                        ReplicationConfig& out);

}  // namespace ferry::app
