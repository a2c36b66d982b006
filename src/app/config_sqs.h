// [[serve.sqs]] of the config file (app/config.h): the SQS queues `ferry serve` polls. Internal
// to config.cc; pure parsing, thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"

namespace ferry::app {

// `node` is the value of [serve]'s "sqs" key: an array of tables. Unknown keys, a missing or
// malformed queue_url, an unknown remote, wait_seconds outside 0..20, max_receives outside
// 1..1000 or without dead_letter_queue_url, and a queue listed twice are refused with one
// line naming the file and the entry (`src` is the file's name).
Status ParseSqsQueues(const toml::node& node, const std::string& src,
                      const std::map<std::string, RemoteConfig>& remotes,
                      std::vector<SqsQueueConfig>& out);

}  // namespace ferry::app
