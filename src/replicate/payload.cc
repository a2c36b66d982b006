// The durable pass's run options and replicate-keys payloads as JSON (payload.h).
#include "replicate/payload.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "base/json_util.h"
#include "storage/key.h"

namespace ferry::replicate {
namespace {

using nlohmann::json;
using SysClock = std::chrono::system_clock;

using json_util::Dump;
using json_util::KeyFrom;
using json_util::ParseJson;

json KeyJson(const std::string& key) { return json_util::KeyJson(key, storage::IsValidUtf8(key)); }


json RuleJson(const Rule& r) {
  json dests = json::array();
  for (const Destination& d : r.destinations) {
    json dest = {{"location", d.location}, {"storage_class", d.storage_class}};
    if (!d.owner_account.empty()) dest["owner_account"] = d.owner_account;  // only when set
    if (d.transport.compress) {
      const Transport& t = d.transport;
      json tj = {{"staging", t.staging}, {"region", t.region}, {"level", t.level}};
      // Batching only when not the default: a run stored by an older ferry reads the same.
      if (t.max_delay != Transport::kDefaultMaxDelay) tj["max_delay_s"] = t.max_delay.count();
      if (t.batch_objects != Transport::kDefaultBatchObjects) {
        tj["batch_objects"] = t.batch_objects;
      }
      if (t.batch_bytes != Transport::kDefaultBatchBytes) tj["batch_bytes"] = t.batch_bytes;
      dest["transport"] = std::move(tj);
    }
    // Only when set (a key id, not a secret): older runs read the same.
    if (!d.replica_kms_key_id.empty()) dest["replica_kms_key_id"] = d.replica_kms_key_id;
    dests.push_back(std::move(dest));
  }
  json tags = json::array();
  for (const auto& [k, v] : r.tags) tags.push_back(json::array({k, v}));
  json out = {{"id", r.id},
              {"priority", r.priority},
              {"enabled", r.enabled},
              {"prefix", r.prefix},
              {"tags", tags},
              {"destinations", dests},
              {"delete_markers", r.delete_markers},
              {"existing_objects", r.existing_objects},
              {"versions", r.versions == VersionsMode::kLatest ? "latest" : "all"},
              {"replica_modifications", r.replica_modifications}};
  // Only when set: a run stored by an older ferry has the same options as one without it.
  if (r.replication_time.count() > 0) out["replication_time_s"] = r.replication_time.count();
  if (r.sse_kms_objects) out["sse_kms_objects"] = true;
  return out;
}

Rule RuleFrom(const json& j) {
  Rule r;
  r.id = j.at("id").get<std::string>();
  r.priority = j.at("priority").get<int>();
  r.enabled = j.at("enabled").get<bool>();
  r.prefix = j.at("prefix").get<std::string>();
  for (const json& t : j.at("tags")) {
    r.tags.emplace_back(t.at(0).get<std::string>(), t.at(1).get<std::string>());
  }
  for (const json& d : j.at("destinations")) {
    Destination dest{d.at("location").get<std::string>(), d.at("storage_class").get<std::string>(),
                     Transport{}, ""};
    if (d.contains("owner_account")) dest.owner_account = d["owner_account"].get<std::string>();
    if (d.contains("transport")) {
      const json& t = d["transport"];
      dest.transport.compress = true;
      dest.transport.staging = t.at("staging").get<std::string>();
      dest.transport.region = t.at("region").get<std::string>();
      dest.transport.level = t.at("level").get<int>();
      dest.transport.max_delay = std::chrono::seconds(
          t.value("max_delay_s", Transport::kDefaultMaxDelay.count()));
      dest.transport.batch_objects = t.value("batch_objects", Transport::kDefaultBatchObjects);
      dest.transport.batch_bytes = t.value("batch_bytes", Transport::kDefaultBatchBytes);
    }
    dest.replica_kms_key_id = d.value("replica_kms_key_id", std::string());
    r.destinations.push_back(std::move(dest));
  }
  r.delete_markers = j.at("delete_markers").get<bool>();
  r.existing_objects = j.at("existing_objects").get<bool>();
  const std::string versions = j.at("versions").get<std::string>();
  if (versions != "all" && versions != "latest") {
    throw std::invalid_argument("unknown versions mode " + versions);
  }
  r.versions = versions == "latest" ? VersionsMode::kLatest : VersionsMode::kAll;
  r.replica_modifications = j.at("replica_modifications").get<bool>();
  r.replication_time = std::chrono::seconds(j.value("replication_time_s", int64_t{0}));
  r.sse_kms_objects = j.value("sse_kms_objects", false);
  return r;
}

int64_t Ns(SysClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

Result<std::string> EncodeDurablePass(const DurablePass& p, const std::string& run_options) {
  return ParseJson(run_options, "run options", [&](json j) -> Result<std::string> {
    if (!j.is_object()) return Status::InvalidArgument("run options are not a JSON object");
    json rules = json::array();
    for (const Rule& r : p.rules.rules) rules.push_back(RuleJson(r));
    j["replicate"] = {{"source", p.source},
                      {"rules", rules},
                      {"concurrency", p.concurrency},
                      {"retry_failed", p.retry_failed_only},
                      {"batch_versions", p.batch_versions},
                      {"multipart_threshold", p.multipart_threshold},
                      {"part_size", p.part_size},
                      {"server_side_copy_limit", p.server_side_copy_limit}};
    return Dump(j);
  });
}

Result<DurablePass> DecodeDurablePass(const std::string& run_options) {
  return ParseJson(run_options, "replication run options",
                   [](const json& j) -> Result<DurablePass> {
    if (!j.is_object() || !j.contains("replicate")) {
      return Status::InvalidArgument("the run is not a replication pass");
    }
    const json& r = j["replicate"];
    DurablePass p;
    p.source = r.at("source").get<std::string>();
    for (const json& rule : r.at("rules")) p.rules.rules.push_back(RuleFrom(rule));
    p.concurrency = r.at("concurrency").get<int>();
    p.retry_failed_only = r.at("retry_failed").get<bool>();
    p.batch_versions = r.at("batch_versions").get<uint64_t>();
    p.multipart_threshold = r.at("multipart_threshold").get<uint64_t>();
    p.part_size = r.at("part_size").get<uint64_t>();
    p.server_side_copy_limit = r.at("server_side_copy_limit").get<uint64_t>();
    return p;
  });
}

std::string EncodeTransportUnpack(const TransportUnpack& u) {
  return Dump(json{{"archive", KeyJson(u.archive)}, {"staging", u.staging},
                   {"destination", u.destination}, {"region", u.region},
                   {"storage_class", u.storage_class}, {"objects", u.objects},
                   {"bytes", u.bytes}});
}

Result<TransportUnpack> DecodeTransportUnpack(const std::string& text) {
  return ParseJson(text, "replication unpack payload", [](const json& j) -> Result<TransportUnpack> {
    TransportUnpack u;
    u.archive = KeyFrom(j.at("archive"));
    u.staging = j.at("staging").get<std::string>();
    u.destination = j.at("destination").get<std::string>();
    u.region = j.at("region").get<std::string>();
    u.storage_class = j.at("storage_class").get<std::string>();
    u.objects = j.at("objects").get<uint64_t>();
    u.bytes = j.at("bytes").get<uint64_t>();
    return u;
  });
}

std::string EncodeEventWork(const EventWork& work) {
  return Dump(json{{"k", KeyJson(work.key)}, {"t", work.first_event_ns}, {"n", work.events}});
}

Result<EventWork> DecodeEventWork(const std::string& text) {
  return ParseJson(text, "replicate-event payload", [](const json& j) -> Result<EventWork> {
    EventWork w;
    w.key = KeyFrom(j.at("k"));
    w.first_event_ns = j.at("t").get<int64_t>();
    w.events = j.at("n").get<uint64_t>();
    if (w.key.empty()) return Status::InvalidArgument("replicate-event payload: empty key");
    return w;
  });
}

std::string EncodeKeyBatch(const std::vector<KeyVersions>& keys) {
  json list = json::array();
  for (const KeyVersions& k : keys) {
    json versions = json::array();
    for (const storage::ObjectInfo& v : k.versions) {
      versions.push_back({{"i", v.version_id},
                          {"s", v.size},
                          {"e", v.etag},
                          {"m", Ns(v.mtime)},
                          {"c", v.storage_class},
                          {"d", v.delete_marker},
                          {"l", v.is_latest}});
    }
    list.push_back({{"k", KeyJson(k.key)}, {"v", versions}});
  }
  return Dump(json{{"keys", list}});
}

Result<std::vector<KeyVersions>> DecodeKeyBatch(const std::string& text) {
  return ParseJson(text, "replicate-keys payload",
               [](const json& j) -> Result<std::vector<KeyVersions>> {
                 std::vector<KeyVersions> out;
                 for (const json& k : j.at("keys")) {
                   KeyVersions kv;
                   kv.key = KeyFrom(k.at("k"));
                   for (const json& v : k.at("v")) {
                     storage::ObjectInfo o;
                     o.key = kv.key;
                     o.version_id = v.at("i").get<std::string>();
                     o.size = v.at("s").get<uint64_t>();
                     o.etag = v.at("e").get<std::string>();
                     o.mtime = SysClock::time_point(std::chrono::duration_cast<SysClock::duration>(
                         std::chrono::nanoseconds(v.at("m").get<int64_t>())));
                     o.storage_class = v.at("c").get<std::string>();
                     o.delete_marker = v.at("d").get<bool>();
                     o.is_latest = v.at("l").get<bool>();
                     kv.versions.push_back(std::move(o));
                   }
                   out.push_back(std::move(kv));
                 }
                 return out;
               });
}

}  // namespace ferry::replicate
