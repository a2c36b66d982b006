// [[notify]] and --notify (config_notify.h).
#include "app/config_notify.h"

#include <algorithm>
#include <string_view>

#include "app/config_keys.h"

namespace ferry::app {
namespace {

// http(s)://host[:port][/path] (or another scheme's), no spaces or fragment.
bool NotifyUrlShape(std::string_view url, std::initializer_list<std::string_view> schemes) {
  for (std::string_view scheme : schemes) {
    if (!url.starts_with(scheme)) continue;
    const std::string_view rest = url.substr(scheme.size());
    return !rest.empty() && rest[0] != '/' && rest.find_first_of(" #") == std::string_view::npos;
  }
  return false;
}

bool NotifyTopicArnShape(std::string_view arn) {
  return arn.starts_with("arn:") && arn.find(":sns:") != std::string_view::npos;
}

Status ParseNotifyOn(const toml::table& t, const std::string& where, notify::OnSet& on) {
  const toml::node* n = t.get("on");
  if (n == nullptr) return Status::Ok();
  const Status bad = Status::InvalidArgument(
      where + ": 'on' must be a list of \"done\", \"failed\", \"dead\", \"cut\", each at most "
              "once");
  const toml::array* list = n->as_array();
  if (list == nullptr || list->empty()) return bad;
  on = notify::OnSet{false, false, false, false};
  for (const toml::node& e : *list) {
    const std::optional<notify::EndState> s = notify::ParseEndState(e.value<std::string>().value_or(""));
    if (!e.is_string() || !s || on.Has(*s)) return bad;
    if (*s == notify::EndState::kDone) on.done = true;
    if (*s == notify::EndState::kFailed) on.failed = true;
    if (*s == notify::EndState::kDead) on.dead = true;
    if (*s == notify::EndState::kCut) on.cut = true;
  }
  return Status::Ok();
}

// { env = "VAR" } or { file = "PATH" }, exactly one.
Status ParseSecretTable(const toml::node& n, const std::string& where, notify::Secret& out) {
  const Status bad = Status::InvalidArgument(
      where + " must be { env = \"VARIABLE\" } or { file = \"PATH\" } (a secret is never "
              "written in the config)");
  const toml::table* t = n.as_table();
  if (t == nullptr || t->size() != 1) return bad;
  FERRY_RETURN_IF_ERROR(CheckKeys(*t, where, {"env", "file"}));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "env", out.env, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "file", out.file, where));
  return out.empty() ? bad : Status::Ok();
}

Status ParseNotifyWebhook(const toml::table& t, const std::string& where, notify::Target& out) {
  FERRY_RETURN_IF_ERROR(CheckKeys(t, where, {"kind", "on", "url", "headers", "ca_bundle"}));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "url", out.url, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "ca_bundle", out.ca_bundle, where));
  if (!NotifyUrlShape(out.url, {"https://", "http://"})) {
    return Status::InvalidArgument(where + ": 'url' must be an http(s)://host[:port]/path URL");
  }
  if (const toml::node* h = t.get("headers")) {
    const toml::table* headers = h->as_table();
    if (headers == nullptr) {
      return Status::InvalidArgument(where + ": 'headers' must be a table NAME = { env = ... }");
    }
    for (const auto& [name, value] : *headers) {
      notify::Header header{std::string(name.str()), {}};
      FERRY_RETURN_IF_ERROR(
          ParseSecretTable(value, where + ": header '" + header.name + "'", header.value));
      out.headers.push_back(std::move(header));
    }
  }
  return Status::Ok();
}

Status ParseNotifyService(const toml::table& t, const std::string& where,
                    const std::map<std::string, RemoteConfig>& remotes, notify::Target& out) {
  const bool sns = out.kind == notify::Kind::kSns;
  const char* address = sns ? "topic_arn" : "queue_url";
  FERRY_RETURN_IF_ERROR(CheckKeys(t, where, {"kind", "on", address, "remote", "endpoint", "region"}));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, address, sns ? out.topic_arn : out.queue_url, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "remote", out.remote, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "endpoint", out.endpoint, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "region", out.region, where));
  if (sns && !NotifyTopicArnShape(out.topic_arn)) {
    return Status::InvalidArgument(where + ": 'topic_arn' must be an SNS topic ARN "
                                           "(arn:aws:sns:REGION:ACCOUNT:NAME)");
  }
  if (!sns && !NotifyUrlShape(out.queue_url, {"https://", "http://"})) {
    return Status::InvalidArgument(where + ": 'queue_url' must be an http(s):// queue URL");
  }
  if (!out.endpoint.empty() && !NotifyUrlShape(out.endpoint, {"https://", "http://"})) {
    return Status::InvalidArgument(where + ": 'endpoint' must be an http(s)://host[:port] URL");
  }
  if (!out.remote.empty() && remotes.count(out.remote) == 0) {
    return Status::InvalidArgument(where + ": 'remote' names no remote: '" + out.remote + "'");
  }
  return Status::Ok();
}

Status ParseNotifySmtp(const toml::table& t, const std::string& where, notify::Target& out) {
  FERRY_RETURN_IF_ERROR(CheckKeys(t, where, {"kind", "on", "url", "from", "to", "user",
                                             "password_env", "password_file", "ca_bundle"}));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "url", out.url, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "from", out.from, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "user", out.user, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "password_env", out.password.env, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "password_file", out.password.file, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, "ca_bundle", out.ca_bundle, where));
  if (!NotifyUrlShape(out.url, {"smtp://", "smtps://"})) {
    return Status::InvalidArgument(where + ": 'url' must be smtp://host[:port] or smtps://...");
  }
  if (out.from.find('@') == std::string::npos) {
    return Status::InvalidArgument(where + ": 'from' must be an e-mail address");
  }
  const toml::array* to = t.get("to") != nullptr ? t.get("to")->as_array() : nullptr;
  if (to == nullptr || to->empty()) {
    return Status::InvalidArgument(where + ": 'to' must be a list of e-mail addresses");
  }
  for (const toml::node& a : *to) {
    const std::string address = a.value<std::string>().value_or("");
    if (address.find('@') == std::string::npos || address.find_first_of("<>\r\n ") != std::string::npos) {
      return Status::InvalidArgument(where + ": 'to' must be a list of e-mail addresses");
    }
    out.to.push_back(address);
  }
  if (!out.password.env.empty() && !out.password.file.empty()) {
    return Status::InvalidArgument(where + ": 'password_env' and 'password_file' exclude each other");
  }
  if (out.user.empty() != out.password.empty()) {
    return Status::InvalidArgument(where + ": 'user' and a password (password_env or "
                                           "password_file) go together");
  }
  return Status::Ok();
}

}  // namespace

Status ParseNotify(const toml::node& node, const std::string& src,
                   const std::map<std::string, RemoteConfig>& remotes,
                   std::vector<notify::Target>& out) {
  const toml::array* list = node.as_array();
  if (list == nullptr) return Status::InvalidArgument(src + ": 'notify' must be [[notify]] tables");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where = src + ": [[notify]] #" + std::to_string(i + 1);
    const toml::table* t = (*list)[i].as_table();
    if (t == nullptr) return Status::InvalidArgument(where + " must be a table");
    std::string kind;
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "kind", kind, where));
    const std::optional<notify::Kind> k = notify::ParseKind(kind);
    if (!k) {
      return Status::InvalidArgument(where + ": 'kind' must be \"webhook\", \"sns\", \"sqs\" or "
                                             "\"smtp\"");
    }
    notify::Target target;
    target.kind = *k;
    FERRY_RETURN_IF_ERROR(ParseNotifyOn(*t, where, target.on));
    switch (*k) {
      case notify::Kind::kWebhook: FERRY_RETURN_IF_ERROR(ParseNotifyWebhook(*t, where, target)); break;
      case notify::Kind::kSns:
      case notify::Kind::kSqs: FERRY_RETURN_IF_ERROR(ParseNotifyService(*t, where, remotes, target)); break;
      case notify::Kind::kSmtp: FERRY_RETURN_IF_ERROR(ParseNotifySmtp(*t, where, target)); break;
    }
    out.push_back(std::move(target));
  }
  return Status::Ok();
}

Result<notify::Target> ParseNotifyFlag(const std::string& url) {
  notify::Target t;
  if (NotifyUrlShape(url, {"https://", "http://"})) {
    t.kind = notify::Kind::kWebhook;
    t.url = url;
  } else if (url.starts_with("sns:") && NotifyTopicArnShape(url.substr(4))) {
    t.kind = notify::Kind::kSns;
    t.topic_arn = url.substr(4);
  } else if (url.starts_with("sqs:") && NotifyUrlShape(url.substr(4), {"https://", "http://"})) {
    t.kind = notify::Kind::kSqs;
    t.queue_url = url.substr(4);
  } else {
    return Status::InvalidArgument(
        "--notify: '" + url + "' is not http(s)://... (a webhook), sns:TOPIC_ARN or "
        "sqs:QUEUE_URL (e-mail and secrets: [[notify]] in the config)");
  }
  return t;
}

}  // namespace ferry::app
