// [[notify]] of the config file (app/config.h) and `--notify URL` of a run: where ferry tells
// that a run ended (docs/design/notify.md). Pure; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "app/config.h"
#include "base/status.h"
#include "notify/target.h"

namespace ferry::app {

// `node` is the file's "notify" value: an array of tables. Each table's `kind` ("webhook",
// "sns", "sqs", "smtp") says which keys it takes:
//   every kind  kind, on (a list of "done", "failed", "dead", "cut", each at most once;
//               default all)
//   webhook     url (http(s)://host[:port]/path), headers (a table NAME = { env = "VAR" } or
//               { file = "PATH" }: a value written in the file is refused), ca_bundle
//   sns         topic_arn (arn:...:sns:...), remote, endpoint, region
//   sqs         queue_url (http(s)://...), remote, endpoint, region
//   smtp        url (smtp:// or smtps://host[:port]), from, to (a list of addresses), user,
//               password_env or password_file (with user only), ca_bundle
// A remote must be one of `remotes`. Unknown keys, a missing required key or a malformed value
// are refused with one line naming the file, the entry (#N) and the key.
Status ParseNotify(const toml::node& node, const std::string& src,
                   const std::map<std::string, RemoteConfig>& remotes,
                   std::vector<notify::Target>& out);

// `--notify URL`: http(s)://... a webhook; sns:ARN a topic; sqs:QUEUE_URL a queue (the AWS
// environment's credentials; endpoint and region from the queue URL). Every end told.
// kInvalidArgument "--notify: ..." otherwise.
Result<notify::Target> ParseNotifyFlag(const std::string& url);

}  // namespace ferry::app
