// [serve.replication_events] of the config file (app/config.h): where `ferry serve` sends the
// S3-style `Replication:` event records. Parsed by config.cc; pure, thread-safe.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"
#include "replicate/event_outbox.h"

namespace ferry::app {

// `node` is the value of [serve]'s "replication_events" key: a table. Unknown keys, a missing
// or malformed url (http(s)://host[:port]/path), an empty token_env or ca_bundle, an events list
// that is empty, repeats a name or names an unknown event, max_pending outside 1..10000000 and
// batch outside 1..1000 are refused with one line naming the file and the key.
Status ParseReplicationEvents(const toml::node& node, const std::string& src,
                              ReplicationEventsConfig& out);

// The events the status stores of a process with this config write to the outbox
// (replicate::SetRecordedReplicationEvents): those of `events`, none when the table is absent.
// `ferry serve` and `ferry worker` (whose replication writes the same store) both set it.
replicate::ReplicationEventSet RecordedEvents(const ReplicationEventsConfig& config);

}  // namespace ferry::app
