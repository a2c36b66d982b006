// [serve.replication_events] (config_replication_events.h).
#include "app/config_replication_events.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "app/config_keys.h"

namespace ferry::app {
namespace {

constexpr std::string_view kReplicationEventsKeys[] = {"url",       "token_env",   "events",
                                                       "ca_bundle", "max_pending", "batch"};
constexpr std::string_view kEvents[] = {"failed", "missed-threshold", "after-threshold"};

// http(s)://host[:port][/path], no spaces or fragment.
bool UrlShape(std::string_view url) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (!url.starts_with(scheme)) continue;
    const std::string_view rest = url.substr(scheme.size());
    return !rest.empty() && rest[0] != '/' && rest.find_first_of(" #") == std::string_view::npos;
  }
  return false;
}

}  // namespace

Status ParseReplicationEvents(const toml::node& node, const std::string& src,
                              ReplicationEventsConfig& out) {
  const std::string where = src + ": [serve.replication_events]";
  const toml::table* t = node.as_table();
  if (t == nullptr) return Status::InvalidArgument(where + " must be a table");
  for (const auto& [k, v] : *t) {
    if (std::find(std::begin(kReplicationEventsKeys), std::end(kReplicationEventsKeys),
                  k.str()) == std::end(kReplicationEventsKeys)) {
      return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) + "'");
    }
  }
  out.present = true;
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "url", out.url, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "token_env", out.token_env, where));
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "ca_bundle", out.ca_bundle, where));
  FERRY_RETURN_IF_ERROR(ReadWholeNumber(*t, "max_pending", 1, 10'000'000, out.max_pending, where));
  FERRY_RETURN_IF_ERROR(ReadWholeNumber(*t, "batch", 1, 1000, out.batch, where));
  if (out.url.empty()) return Status::InvalidArgument(where + ": 'url' is missing");
  if (!UrlShape(out.url)) {
    return Status::InvalidArgument(where + ": 'url' must be an http(s)://host[:port]/path URL");
  }
  if (!out.ca_bundle.empty() && !out.url.starts_with("https://")) {
    return Status::InvalidArgument(where + ": 'ca_bundle' needs an https:// url");
  }
  if (const toml::node* n = t->get("events")) {
    const Status bad = Status::InvalidArgument(
        where + ": 'events' must be a list of \"failed\", \"missed-threshold\", "
                "\"after-threshold\", each at most once");
    const toml::array* list = n->as_array();
    if (list == nullptr || list->empty()) return bad;
    out.events.clear();
    for (const toml::node& e : *list) {
      const std::string name = e.value<std::string>().value_or("");
      if (!e.is_string() ||
          std::find(std::begin(kEvents), std::end(kEvents), name) == std::end(kEvents) ||
          std::find(out.events.begin(), out.events.end(), name) != out.events.end()) {
        return bad;
      }
      out.events.push_back(name);
    }
  }
  return Status::Ok();
}

replicate::ReplicationEventSet RecordedEvents(const ReplicationEventsConfig& config) {
  replicate::ReplicationEventSet set;
  if (!config.present) return set;
  for (const std::string& name : config.events) {
    const std::optional<replicate::ReplicationEvent> e =
        replicate::ParseReplicationEventConfigName(name);
    if (!e) continue;  // refused when the config was read
    set.failed = set.failed || *e == replicate::ReplicationEvent::kFailed;
    set.missed_threshold =
        set.missed_threshold || *e == replicate::ReplicationEvent::kMissedThreshold;
    set.after_threshold = set.after_threshold || *e == replicate::ReplicationEvent::kAfterThreshold;
  }
  return set;
}

}  // namespace ferry::app
