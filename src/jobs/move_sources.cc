#include "jobs/move_sources.h"

#include <nlohmann/json.hpp>

#include "base/json_util.h"
#include "storage/key.h"

namespace ferry::jobs {
namespace {

using nlohmann::json;

json KeyJson(const std::string& key) { return json_util::KeyJson(key, storage::IsValidUtf8(key)); }

}  // namespace

std::string EncodeMoveSources(const MoveSourcesPayload& p) {
  json doc = json::object();
  json& moved = doc["objects"] = json::array();
  for (const transfer::MovedObject& m : p.moved) {
    json& o = moved.emplace_back(json::object());
    o["k"] = KeyJson(m.key);
    o["e"] = m.etag;
    o["s"] = m.size;
    o["m"] = m.mtime_ns;
  }
  json& kept = doc["kept"] = json::array();
  for (const auto& [key, why] : p.kept) {
    json& o = kept.emplace_back(json::object());
    o["k"] = KeyJson(key);
    o["f"] = why;
  }
  return json_util::Dump(doc);
}

Result<MoveSourcesPayload> DecodeMoveSources(const std::string& text) {
  return json_util::ParseJson(
      text, "move-sources payload", [](const json& j) -> Result<MoveSourcesPayload> {
        MoveSourcesPayload p;
        for (const json& o : j.at("objects")) {
          p.moved.push_back({.key = json_util::KeyFrom(o.at("k")),
                             .etag = o.at("e").get<std::string>(),
                             .size = o.at("s").get<uint64_t>(),
                             .mtime_ns = o.at("m").get<int64_t>()});
        }
        for (const json& o : j.at("kept")) {
          p.kept.emplace_back(json_util::KeyFrom(o.at("k")), o.at("f").get<std::string>());
        }
        return p;
      });
}

void MoveSources::Add(const storage::ObjectInfo& src, const transfer::MoveVerdict& verdict) {
  if (verdict.kind == transfer::MoveVerdict::Kind::kDelete) {
    p_.moved.push_back(transfer::MovedOf(src));
  } else if (verdict.kind == transfer::MoveVerdict::Kind::kKeep) {
    p_.kept.emplace_back(src.key, verdict.why);
  }
}

void MoveSources::TakeInto(RunId run, int max_attempts, std::vector<JobSpec>& out) {
  if (empty()) return;
  JobSpec spec;
  spec.run = run;
  spec.kind = kMoveSourcesKind;
  spec.payload = EncodeMoveSources(p_);
  spec.objects = p_.moved.size();
  spec.max_attempts = max_attempts;
  spec.not_before = kParked;
  out.push_back(std::move(spec));
  p_ = {};
}

}  // namespace ferry::jobs
