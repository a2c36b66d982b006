// [replication] of the config file (config_replication.h).
#include "app/config_replication.h"

#include <optional>

#include "app/config_keys.h"
#include "app/config_limits.h"
#include "app/location.h"
#include "plan/filter.h"

namespace ferry::app {
namespace {

// A transport's batching under `ferry serve`: max_delay = "30s" (0 allowed), batch_objects (a
// whole number above 0), batch_bytes = "1GiB" (replicate::Validate checks the ranges).
Status ReadBatching(const toml::table& t, const std::string& tw, replicate::Transport& out) {
  if (t.get("max_delay") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadString(t, "max_delay", text, tw));
    auto delay = plan::ParseAge(text);
    if (!delay.ok()) return delay.status().WithContext(tw + ": 'max_delay'");
    out.max_delay = *delay;
  }
  if (const toml::node* n = t.get("batch_objects")) {
    const std::optional<int64_t> v = n->is_integer() ? n->value<int64_t>() : std::nullopt;
    if (!v || *v <= 0) {
      return Status::InvalidArgument(tw + ": 'batch_objects' must be a whole number above 0");
    }
    out.batch_objects = static_cast<uint64_t>(*v);
  }
  if (t.get("batch_bytes") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadString(t, "batch_bytes", text, tw));
    auto size = plan::ParseSize(text);
    if (!size.ok()) return size.status().WithContext(tw + ": 'batch_bytes'");
    if (*size == 0) return Status::InvalidArgument(tw + ": 'batch_bytes' must be above 0");
    out.batch_bytes = *size;
  }
  return Status::Ok();
}

// A destination's `transport = { compress, staging, region, level }` (replicate::Transport);
// the region defaults to the staging remote's.
Status ParseTransport(const toml::node& n, const std::string& where,
                      const std::map<std::string, RemoteConfig>& remotes,
                      replicate::Transport& out) {
  const toml::table* t = n.as_table();
  const std::string tw = where + " destinations: transport";
  if (t == nullptr) {
    return Status::InvalidArgument(tw + " must be a table { compress = true, staging = ... }");
  }
  FERRY_RETURN_IF_ERROR(CheckKeys(*t, tw, {"compress", "staging", "region", "level", "max_delay",
                                            "batch_objects", "batch_bytes"}));
  FERRY_RETURN_IF_ERROR(ReadBool(*t, "compress", out.compress, tw));
  FERRY_RETURN_IF_ERROR(ReadString(*t, "staging", out.staging, tw));
  FERRY_RETURN_IF_ERROR(ReadString(*t, "region", out.region, tw));
  if (const toml::node* l = t->get("level")) {
    const std::optional<int64_t> level = l->is_integer() ? l->value<int64_t>() : std::nullopt;
    if (!level || *level < 0 || *level > 19) {
      return Status::InvalidArgument(tw + ": 'level' must be a whole number from 0 (adaptive) "
                                          "to 19");
    }
    out.level = static_cast<int>(*level);
  }
  FERRY_RETURN_IF_ERROR(ReadBatching(*t, tw, out));
  if (out.staging.empty()) return Status::Ok();  // Validate names what is missing
  Result<Location> staging = ParseLocation(out.staging);
  if (!staging.ok()) return staging.status().WithContext(tw + ": 'staging'");
  if (!staging->is_s3()) {
    return Status::InvalidArgument(tw + ": 'staging' " + out.staging + " is not an S3 location");
  }
  if (out.region.empty() && out.compress && !staging->remote.empty()) {
    auto remote = remotes.find(staging->remote);
    if (remote != remotes.end()) out.region = remote->second.region;
  }
  return Status::Ok();
}

Status ParseDestination(const toml::node& n, const std::string& where,
                        const std::map<std::string, RemoteConfig>& remotes,
                        replicate::Destination& d) {
  if (n.is_string()) {
    d.location = n.value<std::string>().value_or("");
  } else if (const toml::table* t = n.as_table()) {
    FERRY_RETURN_IF_ERROR(
        CheckKeys(*t, where + " destinations",
                  {"location", "storage_class", "transport", "replica_kms_key_id"}));
    FERRY_RETURN_IF_ERROR(ReadString(*t, "location", d.location, where + " destinations"));
    FERRY_RETURN_IF_ERROR(ReadString(*t, "storage_class", d.storage_class, where + " destinations"));
    FERRY_RETURN_IF_ERROR(ReadString(*t, "replica_kms_key_id", d.replica_kms_key_id,
                                     where + " destinations"));
    if (t->get("replica_kms_key_id") != nullptr && d.replica_kms_key_id.empty()) {
      return Status::InvalidArgument(where + " destinations: 'replica_kms_key_id' is empty");
    }
    if (const toml::node* tn = t->get("transport")) {
      FERRY_RETURN_IF_ERROR(ParseTransport(*tn, where, remotes, d.transport));
    }
  } else {
    return Status::InvalidArgument(where + ": 'destinations' must list locations or tables");
  }
  if (d.location.empty()) return Status::InvalidArgument(where + ": a destination has no 'location'");
  Result<Location> loc = ParseLocation(d.location);
  if (!loc.ok()) return loc.status().WithContext(where + ": 'destinations'");
  if (!loc->is_s3()) {
    return Status::InvalidArgument(where + ": 'destinations': " + d.location +
                                   " is not an S3 location");
  }
  return Status::Ok();
}

Status ParseRule(const toml::table& t, const std::string& where,
                 const std::map<std::string, RemoteConfig>& remotes, replicate::Rule& r) {
  FERRY_RETURN_IF_ERROR(CheckKeys(t, where, {"id", "priority", "status", "filter", "destinations",
                                             "delete_markers", "existing_objects", "versions",
                                             "replica_modifications", "replication_time",
                                             "sse_kms_encrypted_objects"}));
  FERRY_RETURN_IF_ERROR(ReadString(t, "id", r.id, where));
  const std::string named = r.id.empty() ? where : where + " (rule '" + r.id + "')";
  if (const toml::node* n = t.get("priority")) {
    const std::optional<int64_t> p = n->is_integer() ? n->value<int64_t>() : std::nullopt;
    if (!p || *p < 0 || *p > 1'000'000) {
      return Status::InvalidArgument(named + ": 'priority' must be a whole number from 0");
    }
    r.priority = static_cast<int>(*p);
  }
  std::string status = "enabled";
  FERRY_RETURN_IF_ERROR(ReadString(t, "status", status, named));
  if (status != "enabled" && status != "disabled") {
    return Status::InvalidArgument(named + ": 'status' must be \"enabled\" or \"disabled\"");
  }
  r.enabled = status == "enabled";
  if (const toml::node* n = t.get("filter")) {
    const toml::table* f = n->as_table();
    if (f == nullptr) return Status::InvalidArgument(named + ": 'filter' must be a table");
    FERRY_RETURN_IF_ERROR(CheckKeys(*f, named + " filter", {"prefix", "tags"}));
    FERRY_RETURN_IF_ERROR(ReadString(*f, "prefix", r.prefix, named + " filter"));
    if (const toml::node* tn = f->get("tags")) {
      const toml::table* tags = tn->as_table();
      if (tags == nullptr) {
        return Status::InvalidArgument(named + ": 'filter.tags' must be a table of key = value");
      }
      for (const auto& [k, v] : *tags) {
        if (!v.is_string()) {
          return Status::InvalidArgument(named + ": 'filter.tags' values must be strings");
        }
        r.tags.emplace_back(std::string(k.str()), v.value<std::string>().value_or(""));
      }
    }
  }
  if (const toml::node* n = t.get("destinations")) {
    const toml::array* list = n->as_array();
    if (list == nullptr) return Status::InvalidArgument(named + ": 'destinations' must be a list");
    for (const toml::node& d : *list) {
      replicate::Destination dest;
      FERRY_RETURN_IF_ERROR(ParseDestination(d, named, remotes, dest));
      r.destinations.push_back(std::move(dest));
    }
  }
  FERRY_RETURN_IF_ERROR(ReadBool(t, "delete_markers", r.delete_markers, named));
  FERRY_RETURN_IF_ERROR(ReadBool(t, "existing_objects", r.existing_objects, named));
  FERRY_RETURN_IF_ERROR(ReadBool(t, "replica_modifications", r.replica_modifications, named));
  FERRY_RETURN_IF_ERROR(ReadBool(t, "sse_kms_encrypted_objects", r.sse_kms_objects, named));
  std::string versions = "all";
  FERRY_RETURN_IF_ERROR(ReadString(t, "versions", versions, named));
  if (versions != "all" && versions != "latest") {
    return Status::InvalidArgument(named + ": 'versions' must be \"all\" or \"latest\"");
  }
  r.versions = versions == "all" ? replicate::VersionsMode::kAll : replicate::VersionsMode::kLatest;
  if (t.get("replication_time") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadString(t, "replication_time", text, named));
    auto time = plan::ParseAge(text);
    if (!time.ok()) return time.status().WithContext(named + ": 'replication_time'");
    if (time->count() == 0 || *time > replicate::kMaxReplicationTime) {
      return Status::InvalidArgument(named + ": 'replication_time' must be above 0 and at most "
                                     "1000000 minutes");
    }
    r.replication_time = *time;
  }
  return Status::Ok();
}

}  // namespace

// [replication]: rules and the bucket ARNs of S3 JSON rule files.
Status ParseReplication(const toml::table& t, const std::string& src,
                        const std::map<std::string, RemoteConfig>& remotes,
                        ReplicationConfig& out) {
  const std::string where = src + ": [replication]";
  FERRY_RETURN_IF_ERROR(
      CheckKeys(t, where, {"rules", "buckets", "server_side_copy_limit", "max_delete"}));
  FERRY_RETURN_IF_ERROR(ReadDeleteLimit(t, where, out.max_delete));
  if (t.get("server_side_copy_limit") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadString(t, "server_side_copy_limit", text, where));
    auto size = plan::ParseSize(text);
    if (!size.ok()) return size.status().WithContext(where + ": 'server_side_copy_limit'");
    if (*size == 0 || *size > (5ull << 30)) {
      return Status::InvalidArgument(where + ": 'server_side_copy_limit' must be above 0 and at "
                                     "most 5GiB");
    }
    out.server_side_copy_limit = *size;
  }
  if (const toml::node* n = t.get("buckets")) {
    const toml::table* b = n->as_table();
    if (b == nullptr) return Status::InvalidArgument(where + ": 'buckets' must be a table");
    for (const auto& [arn, loc] : *b) {
      if (!loc.is_string()) {
        return Status::InvalidArgument(where + ": buckets '" + std::string(arn.str()) +
                                       "' must name a location");
      }
      out.buckets.emplace_back(std::string(arn.str()), loc.value<std::string>().value_or(""));
    }
  }
  if (const toml::node* n = t.get("rules")) {
    const toml::array* rules = n->as_array();
    if (rules == nullptr) {
      return Status::InvalidArgument(where + ": 'rules' must be [[replication.rules]] tables");
    }
    for (size_t i = 0; i < rules->size(); ++i) {
      const toml::table* rt = (*rules)[i].as_table();
      const std::string rw = src + ": [[replication.rules]] #" + std::to_string(i + 1);
      if (rt == nullptr) return Status::InvalidArgument(rw + " must be a table");
      replicate::Rule r;
      FERRY_RETURN_IF_ERROR(ParseRule(*rt, rw, remotes, r));
      out.rules.rules.push_back(std::move(r));
    }
  }
  if (Status s = replicate::Validate(out.rules); !s.ok()) return s.WithContext(src);
  return Status::Ok();
}

}  // namespace ferry::app
