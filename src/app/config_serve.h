// [serve] of the config file (app/config.h): what `ferry serve` runs and where it listens.
// Internal to config.cc; pure parsing, thread-safe.
#pragma once

#include <map>
#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// Reads `t` into `out` (and sets out.present); its roles, SQS queues and replication events
// through their own parsers (config_roles.h, config_sqs.h, config_replication_events.h).
// Refused with one line "<src>: [serve]: ...": an unknown key, an empty listen, a value of the
// wrong type, insecure_no_auth with token_env, half of a TLS pair, a scan_interval under 1s, a
// max_event_body outside 1KiB..64MiB, and SNS settings that are malformed or incomplete.
Status ParseServe(const toml::table& t, const std::string& src,
                  const std::map<std::string, RemoteConfig>& remotes, ServeConfig& out);

}  // namespace ferry::app
