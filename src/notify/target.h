// Where a run's end is told (docs/design/notify.md): one `[[notify]]` table of the config, or
// one `--notify URL` of a run. Plain data; the config parser (app/config_notify.h) checks it.
//
// Secrets (a webhook's header values, an SMTP password) are never held here as text: a Secret
// names an environment variable or a file, read by the process that delivers (ReadSecret), so
// a target can be stored with a durable run (the outbox, outbox.h) and delivered by any
// process of the store without a secret ever reaching the database.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry::notify {

enum class Kind { kWebhook, kSns, kSqs, kSmtp };
// "webhook", "sns", "sqs", "smtp": the config's `kind` and the metric's label.
std::string_view KindName(Kind kind);
std::optional<Kind> ParseKind(std::string_view name);

// How a run ended (the document's "state", the config's `on`).
enum class EndState { kDone, kFailed, kDead, kCut };
// "done", "failed", "dead", "cut".
std::string_view EndStateName(EndState state);
std::optional<EndState> ParseEndState(std::string_view name);

struct Secret {
  std::string env;   // an environment variable holding the value, or
  std::string file;  // a file holding it (one trailing line break dropped)
  bool empty() const { return env.empty() && file.empty(); }
};

// The secret's value. kInvalidArgument when the variable is unset or empty, or the file cannot
// be read ("<what>: environment variable X is not set"): the message never holds the value.
Result<std::string> ReadSecret(const Secret& secret, std::string_view what);

struct Header {
  std::string name;
  Secret value;
};

// Which ends are told (default: all four).
struct OnSet {
  bool done = true, failed = true, dead = true, cut = true;
  bool Has(EndState state) const;
};

struct Target {
  Kind kind = Kind::kWebhook;
  OnSet on;
  // webhook: the http(s) URL POSTed to; smtp: smtp://host[:port] or smtps://host[:port].
  std::string url;
  std::vector<Header> headers;  // webhook: extra headers (an Authorization token)
  std::string ca_bundle;        // https webhook, smtps: the CA bundle ("": the system's)
  // sns: the topic; sqs: the queue's URL.
  std::string topic_arn;
  std::string queue_url;
  // sns, sqs: a remote of the config whose credentials (and endpoint, when it has one) sign the
  // calls; "": the AWS environment chain. endpoint, region: given, they win (app/sqs.h's rules).
  std::string remote;
  std::string endpoint;
  std::string region;
  // smtp: the envelope and the login (user "" = none).
  std::string from;
  std::vector<std::string> to;
  std::string user;
  Secret password;
};

// What logs show of a target: its kind and where it goes, without user info or query
// ("webhook https://hooks.example/ferry", "sns arn:aws:sns:...:topic").
std::string DescribeTarget(const Target& target);

}  // namespace ferry::notify
