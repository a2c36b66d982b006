// Targets <-> JSON (targets_json.h).
#include "notify/targets_json.h"

#include "base/json_util.h"

namespace ferry::notify {
namespace {

using nlohmann::json;

json SecretJson(const Secret& s) { return {{"env", s.env}, {"file", s.file}}; }
Secret SecretFrom(const json& j) {
  return {.env = j.at("env").get<std::string>(), .file = j.at("file").get<std::string>()};
}

json TargetJson(const Target& t) {
  json headers = json::array();
  for (const Header& h : t.headers) headers.push_back({{"name", h.name}, {"value", SecretJson(h.value)}});
  json on = json::array();
  for (EndState s : {EndState::kDone, EndState::kFailed, EndState::kDead, EndState::kCut}) {
    if (t.on.Has(s)) on.push_back(std::string(EndStateName(s)));
  }
  return {{"kind", std::string(KindName(t.kind))}, {"on", on}, {"url", t.url},
          {"headers", headers}, {"ca_bundle", t.ca_bundle}, {"topic_arn", t.topic_arn},
          {"queue_url", t.queue_url}, {"remote", t.remote}, {"endpoint", t.endpoint},
          {"region", t.region}, {"from", t.from}, {"to", t.to}, {"user", t.user},
          {"password", SecretJson(t.password)}};
}

Target TargetFrom(const json& j) {
  Target t;
  const std::optional<Kind> kind = ParseKind(j.at("kind").get<std::string>());
  if (!kind) throw std::invalid_argument("unknown kind");
  t.kind = *kind;
  t.on = OnSet{false, false, false, false};
  for (const json& s : j.at("on")) {
    const std::optional<EndState> state = ParseEndState(s.get<std::string>());
    if (!state) throw std::invalid_argument("unknown state in on");
    if (*state == EndState::kDone) t.on.done = true;
    if (*state == EndState::kFailed) t.on.failed = true;
    if (*state == EndState::kDead) t.on.dead = true;
    if (*state == EndState::kCut) t.on.cut = true;
  }
  t.url = j.at("url").get<std::string>();
  for (const json& h : j.at("headers")) {
    t.headers.push_back({.name = h.at("name").get<std::string>(), .value = SecretFrom(h.at("value"))});
  }
  t.ca_bundle = j.at("ca_bundle").get<std::string>();
  t.topic_arn = j.at("topic_arn").get<std::string>();
  t.queue_url = j.at("queue_url").get<std::string>();
  t.remote = j.at("remote").get<std::string>();
  t.endpoint = j.at("endpoint").get<std::string>();
  t.region = j.at("region").get<std::string>();
  t.from = j.at("from").get<std::string>();
  t.to = j.at("to").get<std::vector<std::string>>();
  t.user = j.at("user").get<std::string>();
  t.password = SecretFrom(j.at("password"));
  return t;
}

}  // namespace

std::string TargetsJson(const std::vector<Target>& targets) {
  json list = json::array();
  for (const Target& t : targets) list.push_back(TargetJson(t));
  return json_util::Dump(list);
}

Result<std::vector<Target>> ParseTargetsJson(const std::string& text) {
  return json_util::ParseJson(text, "notification targets",
                              [](const json& j) -> Result<std::vector<Target>> {
                                std::vector<Target> out;
                                for (const json& t : j) out.push_back(TargetFrom(t));
                                return out;
                              });
}

}  // namespace ferry::notify
