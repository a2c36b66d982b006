// [serve.replication_events] of the config file (app/config.h): where `ferry serve` sends the
// S3-style `Replication:` event records. Internal to config.cc; pure parsing, thread-safe.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// `node` is the value of [serve]'s "replication_events" key: a table. Unknown keys, a missing
// or malformed url (http(s)://host[:port]/path), an empty token_env or ca_bundle, an events list
// that is empty, repeats a name or names an unknown event, max_pending outside 1..10000000 and
// batch outside 1..1000 are refused with one line naming the file and the key.
Status ParseReplicationEvents(const toml::node& node, const std::string& src,
                              ReplicationEventsConfig& out);

}  // namespace ferry::app
