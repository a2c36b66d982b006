#include "app/config.h"

#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "app/config_keys.h"
#include "app/config_schedules.h"
#include "app/config_replication_events.h"
#include "app/config_roles.h"
#include "app/config_sqs.h"
#include "app/location.h"
#include "app/providers.h"
#include "limits/schedule.h"
#include "plan/filter.h"
#include "storage/key.h"

namespace ferry::app {
namespace {

Status ReadString(const toml::table& t, const char* key, std::string& out,
                  const std::string& where) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  if (!n->is_string()) {
    return Status::InvalidArgument(where + ": '" + key + "' must be a string");
  }
  out = n->value<std::string>().value_or("");
  return Status::Ok();
}

// A remote's TLS keys: ca_bundle (a path, not empty) or insecure_skip_verify, for https only.
Status ParseRemoteTls(const toml::table& t, const std::string& where, RemoteConfig& r) {
  FERRY_RETURN_IF_ERROR(ReadString(t, "ca_bundle", r.ca_bundle, where));
  if (t.get("ca_bundle") != nullptr && r.ca_bundle.empty()) {
    return Status::InvalidArgument(where + ": 'ca_bundle' is empty");
  }
  if (const toml::node* n = t.get("insecure_skip_verify")) {
    if (!n->is_boolean()) {
      return Status::InvalidArgument(where + ": 'insecure_skip_verify' must be true or false");
    }
    r.insecure_skip_verify = n->value<bool>().value_or(false);
  }
  if (!r.ca_bundle.empty() && r.insecure_skip_verify) {
    return Status::InvalidArgument(where + ": 'ca_bundle' and 'insecure_skip_verify = true' "
                                           "together: with no check the bundle is not used");
  }
  const char* key = !r.ca_bundle.empty()       ? "ca_bundle"
                    : r.insecure_skip_verify   ? "insecure_skip_verify"
                                               : nullptr;
  if (key != nullptr && r.endpoint.rfind("http://", 0) == 0) {
    return Status::InvalidArgument(where + ": '" + key + "' is for https:// endpoints, not " +
                                   r.endpoint);
  }
  return Status::Ok();
}

// A remote's credential settings beyond keys and profile (credentials/chain.h); the ones
// that cannot go together are refused.
Status ParseRemoteCredentials(const toml::table& t, const std::string& where, RemoteConfig& r) {
  for (auto [key, out] : {std::pair{"role_arn", &r.role_arn},
                          std::pair{"external_id", &r.external_id},
                          std::pair{"role_session_name", &r.role_session_name},
                          std::pair{"credential_process", &r.credential_process},
                          std::pair{"sts_endpoint", &r.sts_endpoint}}) {
    FERRY_RETURN_IF_ERROR(ReadString(t, key, *out, where));
    if (t.get(key) != nullptr && out->empty()) {
      return Status::InvalidArgument(where + ": '" + key + "' is empty");
    }
  }
  if (const toml::node* n = t.get("duration_seconds")) {
    const std::optional<int64_t> v = n->value<int64_t>();
    if (!n->is_integer() || !v || *v < 900 || *v > 43200) {
      return Status::InvalidArgument(where +
                                     ": 'duration_seconds' must be a whole number from 900 to "
                                     "43200");
    }
    r.duration_seconds = static_cast<int>(*v);
  }
  if (const toml::node* n = t.get("no_sign_request")) {
    if (!n->is_boolean()) {
      return Status::InvalidArgument(where + ": 'no_sign_request' must be true or false");
    }
    r.no_sign_request = n->value<bool>().value_or(false);
  }
  if (r.role_arn.empty()) {
    for (const char* key : {"external_id", "role_session_name", "duration_seconds"}) {
      if (t.get(key) != nullptr) {
        return Status::InvalidArgument(where + ": '" + key + "' is a setting of role_arn, "
                                                                "which is not set");
      }
    }
  }
  if (!r.sts_endpoint.empty() && !r.sts_endpoint.starts_with("http://") &&
      !r.sts_endpoint.starts_with("https://")) {
    return Status::InvalidArgument(where + ": sts_endpoint must start with http:// or https://");
  }
  const int sources = !r.access_key_id_env.empty() + !r.profile.empty() +
                      !r.credential_process.empty() + r.no_sign_request;
  if (sources > 1) {
    return Status::InvalidArgument(
        where + ": name one source of credentials: access_key_id_env, profile, "
                "credential_process or no_sign_request");
  }
  if (r.no_sign_request && !r.role_arn.empty()) {
    return Status::InvalidArgument(where + ": 'role_arn' with 'no_sign_request': a role needs "
                                           "credentials to be assumed with");
  }
  return Status::Ok();
}

// A remote's server-side encryption keys (app/encryption.h reads the key itself).
Status ParseRemoteSse(const toml::table& t, const std::string& where, RemoteConfig& r) {
  FERRY_RETURN_IF_ERROR(ReadString(t, "sse", r.sse, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "sse_kms_key_id", r.sse_kms_key_id, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "sse_c_key_file", r.sse_c_key_file, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "sse_c_key_env", r.sse_c_key_env, where));
  if (!r.sse.empty() && r.sse != "AES256" && r.sse != "aws:kms") {
    return Status::InvalidArgument(where + ": 'sse' must be \"AES256\" or \"aws:kms\"");
  }
  if (!r.sse_kms_key_id.empty() && r.sse != "aws:kms") {
    return Status::InvalidArgument(where + ": 'sse_kms_key_id' needs sse = \"aws:kms\"");
  }
  if (!r.sse_c_key_file.empty() && !r.sse_c_key_env.empty()) {
    return Status::InvalidArgument(where + ": 'sse_c_key_file' and 'sse_c_key_env' together: "
                                           "name the SSE-C key one way");
  }
  if (!r.sse.empty() && (!r.sse_c_key_file.empty() || !r.sse_c_key_env.empty())) {
    return Status::InvalidArgument(where + ": 'sse' and an SSE-C key together: an object is "
                                           "encrypted one way");
  }
  return Status::Ok();
}

Status ParseRemote(const std::string& name, const toml::table& t, const std::string& src,
                   RemoteConfig& r) {
  const std::string where = src + ": [remotes." + name + "]";
  static const char* kKnown[] = {"endpoint", "region", "addressing", "profile",
                                 "access_key_id_env", "secret_access_key_env",
                                 "session_token_env", "directory_bucket", "ca_bundle",
                                 "insecure_skip_verify", "role_arn", "external_id",
                                 "role_session_name", "duration_seconds",
                                 "credential_process", "sts_endpoint", "no_sign_request",
                                 "provider", "requester_pays", "signature",
                                 "list_objects_v1", "sse", "sse_kms_key_id",
                                 "sse_c_key_file", "sse_c_key_env"};
  for (const auto& [k, v] : t) {
    bool known = false;
    for (const char* want : kKnown) known = known || k.str() == want;
    if (!known) {
      if (k.str() == "sse_c_key" || k.str() == "sse_customer_key") {
        return Status::InvalidArgument(where + ": secrets do not belong in the config file; "
                                       "name the SSE-C key's file with 'sse_c_key_file' or its "
                                       "environment variable with 'sse_c_key_env'");
      }
      if (k.str() == "access_key_id" || k.str() == "secret_access_key") {
        return Status::InvalidArgument(where + ": secrets do not belong in the config file; "
                                       "name an environment variable with '" +
                                       std::string(k.str()) + "_env' or use 'profile'");
      }
      return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) + "'");
    }
  }
  r.name = name;
  FERRY_RETURN_IF_ERROR(ReadString(t, "endpoint", r.endpoint, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "region", r.region, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "addressing", r.addressing, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "profile", r.profile, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "access_key_id_env", r.access_key_id_env, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "secret_access_key_env", r.secret_access_key_env, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "session_token_env", r.session_token_env, where));
  if (const toml::node* n = t.get("directory_bucket")) {
    if (!n->is_boolean()) {
      return Status::InvalidArgument(where + ": 'directory_bucket' must be true or false");
    }
    r.directory_bucket = n->value<bool>().value_or(false);
  }
  if (!r.addressing.empty() && r.addressing != "path" && r.addressing != "virtual") {
    return Status::InvalidArgument(where + ": addressing must be \"path\" or \"virtual\"");
  }
  if (!r.endpoint.empty() && r.endpoint.rfind("http://", 0) != 0 &&
      r.endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(where + ": endpoint must start with http:// or https://");
  }
  if (r.access_key_id_env.empty() != r.secret_access_key_env.empty()) {
    return Status::InvalidArgument(
        where + ": set both access_key_id_env and secret_access_key_env, or neither");
  }
  FERRY_RETURN_IF_ERROR(ReadString(t, "provider", r.provider, where));
  if (t.get("provider") != nullptr && (r.provider.empty() || !IsKnownProvider(r.provider))) {
    return Status::InvalidArgument(where + ": provider '" + r.provider + "' is not one of " +
                                   std::string(KnownProviders()));
  }
  if (r.provider == "other" && r.endpoint.empty()) {
    return Status::InvalidArgument(where + ": provider \"other\" needs an endpoint");
  }
  if (const toml::node* n = t.get("requester_pays")) {
    if (!n->is_boolean()) {
      return Status::InvalidArgument(where + ": 'requester_pays' must be true or false");
    }
    r.requester_pays = n->value<bool>().value_or(false);
  }
  std::string signature;
  FERRY_RETURN_IF_ERROR(ReadString(t, "signature", signature, where));
  if (t.get("signature") != nullptr && signature != "v2" && signature != "v4") {
    return Status::InvalidArgument(where + ": signature must be \"v4\" or \"v2\"");
  }
  r.signature_v2 = signature == "v2";
  r.list_objects_v1 = r.signature_v2;
  if (const toml::node* n = t.get("list_objects_v1")) {
    if (!n->is_boolean()) {
      return Status::InvalidArgument(where + ": 'list_objects_v1' must be true or false");
    }
    r.list_objects_v1 = n->value<bool>().value_or(false) || r.signature_v2;
  }
  if (r.signature_v2 && r.directory_bucket.value_or(false)) {
    return Status::InvalidArgument(where + ": directory buckets take Signature Version 4 only");
  }
  FERRY_RETURN_IF_ERROR(ParseRemoteCredentials(t, where, r));
  FERRY_RETURN_IF_ERROR(ParseRemoteSse(t, where, r));
  return ParseRemoteTls(t, where, r);
}

// [transfer]: defaults for command-line options, checked as strictly as the options are.
Status ParseTransfer(const toml::table& t, const std::string& src, TransferDefaults& out) {
  const std::string where = src + ": [transfer]";
  static const char* kKnown[] = {"concurrency", "memory", "part_size", "multipart_threshold"};
  for (const auto& [k, v] : t) {
    bool known = false;
    for (const char* want : kKnown) known = known || k.str() == want;
    if (!known) {
      return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) + "'");
    }
  }
  if (const toml::node* n = t.get("concurrency")) {
    const std::optional<int64_t> c = n->is_integer() ? n->value<int64_t>() : std::nullopt;
    if (!c || *c < 1 || *c > 1024) {
      return Status::InvalidArgument(where + ": 'concurrency' must be a whole number from 1 to "
                                     "1024");
    }
    out.concurrency = static_cast<int>(*c);
  }
  const std::pair<const char*, std::optional<std::string>*> sizes[] = {
      {"memory", &out.memory},
      {"part_size", &out.part_size},
      {"multipart_threshold", &out.multipart_threshold}};
  for (const auto& [key, slot] : sizes) {
    if (t.get(key) == nullptr) continue;
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadString(t, key, text, where));
    auto size = plan::ParseSize(text);
    if (!size.ok()) return size.status().WithContext(where + ": '" + key + "'");
    if (*size == 0) return Status::InvalidArgument(where + ": '" + key + "' must be above 0");
    *slot = text;
  }
  return Status::Ok();
}

Status CheckKeys(const toml::table& t, const std::string& where,
                 std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : t) {
    bool ok = false;
    for (std::string_view want : known) ok = ok || k.str() == want;
    if (!ok) return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) + "'");
  }
  return Status::Ok();
}

// [limits]: bwlimit (rclone's syntax, a timetable too), max_rps, max_rps_burst, adaptive.
Status ParseLimits(const toml::table& t, const std::string& src, LimitsSettings& out) {
  const std::string where = src + ": [limits]";
  FERRY_RETURN_IF_ERROR(
      CheckKeys(t, where, {"bwlimit", "max_rps", "max_rps_burst", "adaptive"}));
  if (t.get("bwlimit") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadString(t, "bwlimit", text, where));
    auto schedule = limits::BandwidthSchedule::Parse(text);
    if (!schedule.ok()) return schedule.status().WithContext(where + ": 'bwlimit'");
    out.bwlimit = text;
  }
  if (const toml::node* n = t.get("max_rps")) {
    const std::optional<double> v = n->is_number() ? n->value<double>() : std::nullopt;
    if (!v || !(*v > 0) || *v > 1e9) {
      return Status::InvalidArgument(where + ": 'max_rps' must be a number above 0");
    }
    out.max_rps = *v;
  }
  if (const toml::node* n = t.get("max_rps_burst")) {
    const std::optional<int64_t> v = n->is_integer() ? n->value<int64_t>() : std::nullopt;
    if (!v || *v < 1 || *v > 1000000) {
      return Status::InvalidArgument(where + ": 'max_rps_burst' must be a whole number from 1 "
                                     "to 1000000");
    }
    out.max_rps_burst = static_cast<int>(*v);
  }
  if (const toml::node* n = t.get("adaptive")) {
    const std::optional<bool> v = n->is_boolean() ? n->value<bool>() : std::nullopt;
    if (!v) return Status::InvalidArgument(where + ": 'adaptive' must be true or false");
    out.adaptive = *v;
  }
  return Status::Ok();
}

Status ReadBool(const toml::table& t, const char* key, bool& out, const std::string& where) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  if (!n->is_boolean()) return Status::InvalidArgument(where + ": '" + key + "' must be true or false");
  out = n->value<bool>().value_or(false);
  return Status::Ok();
}

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

// [replication]: rules and the bucket ARNs of S3 JSON rule files.
Status ParseReplication(const toml::table& t, const std::string& src,
                        const std::map<std::string, RemoteConfig>& remotes,
                        ReplicationConfig& out) {
  const std::string where = src + ": [replication]";
  FERRY_RETURN_IF_ERROR(CheckKeys(t, where, {"rules", "buckets", "server_side_copy_limit"}));
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

// "arn:<partition>:sns:<region>:<account>:<name>" (RGW's topics have no account).
bool IsSnsTopicArn(const std::string& arn) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t colon; (colon = arn.find(':', start)) != std::string::npos; start = colon + 1) {
    parts.push_back(arn.substr(start, colon - start));
  }
  parts.push_back(arn.substr(start));
  if (parts.size() != 6 || parts[0] != "arn" || parts[1].empty() || parts[2] != "sns" ||
      parts[5].empty()) {
    return false;
  }
  for (char c : arn) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

// "HOST:PORT", the port a number from 1 to 65535.
bool IsHostPort(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
      colon + 6 < text.size() || text.find(':') != colon) {
    return false;
  }
  int port = 0;
  for (size_t i = colon + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    port = port * 10 + (text[i] - '0');
  }
  return port >= 1 && port <= 65535;
}

// [serve]'s SNS keys: the topics whose envelopes are accepted, the CA bundle for the SNS hosts,
// and the test-only connection override.
Status ParseServeSns(const toml::table& t, const std::string& where, ServeConfig& out) {
  if (const toml::node* n = t.get("sns_topics")) {
    const toml::array* topics = n->as_array();
    const Status bad = Status::InvalidArgument(
        where + ": 'sns_topics' must be a list of topic ARNs (arn:aws:sns:REGION:ACCOUNT:NAME)");
    if (topics == nullptr) return bad;
    for (const toml::node& topic : *topics) {
      const std::string arn = topic.value<std::string>().value_or("");
      if (!topic.is_string() || !IsSnsTopicArn(arn)) return bad;
      out.sns_topics.push_back(arn);
    }
  }
  FERRY_RETURN_IF_ERROR(ReadString(t, "sns_ca_bundle", out.sns_ca_bundle, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "sns_test_connect_to", out.sns_test_connect_to, where));
  if (t.get("sns_ca_bundle") != nullptr && out.sns_ca_bundle.empty()) {
    return Status::InvalidArgument(where + ": 'sns_ca_bundle' is empty");
  }
  if (!out.sns_ca_bundle.empty() && out.sns_topics.empty()) {
    return Status::InvalidArgument(where + ": 'sns_ca_bundle' needs 'sns_topics'");
  }
  if (t.get("sns_test_connect_to") != nullptr) {
    if (!IsHostPort(out.sns_test_connect_to)) {
      return Status::InvalidArgument(where + ": 'sns_test_connect_to' must be HOST:PORT");
    }
    if (out.sns_ca_bundle.empty()) {
      return Status::InvalidArgument(where +
                                     ": 'sns_test_connect_to' (tests only) needs 'sns_ca_bundle'");
    }
  }
  return Status::Ok();
}

// [serve]: what `ferry serve` runs and where it listens.
Status ParseServe(const toml::table& t, const std::string& src,
                  const std::map<std::string, RemoteConfig>& remotes, ServeConfig& out) {
  const std::string where = src + ": [serve]";
  FERRY_RETURN_IF_ERROR(CheckKeys(
      t, where,
      {"listen", "replicate", "scan_interval", "token_env", "max_event_body", "sqs", "sns_topics",
       "sns_ca_bundle", "sns_test_connect_to", "insecure_no_auth", "tls_cert", "tls_key",
       "unpack_regions", "replication_events", "cache", "unpack", "admin_listen",
       "admin_token_env", "max_waiting_events"}));
  FERRY_RETURN_IF_ERROR(ParseServeRoles(t, src, remotes, out));
  if (const toml::node* n = t.get("replication_events")) {
    FERRY_RETURN_IF_ERROR(ParseReplicationEvents(*n, src, out.replication_events));
  }
  if (const toml::node* n = t.get("sqs")) {
    FERRY_RETURN_IF_ERROR(ParseSqsQueues(*n, src, remotes, out.sqs));
  }
  out.present = true;
  FERRY_RETURN_IF_ERROR(ReadString(t, "listen", out.listen, where));
  if (out.listen.empty()) return Status::InvalidArgument(where + ": 'listen' is empty");
  FERRY_RETURN_IF_ERROR(ReadString(t, "token_env", out.token_env, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "admin_listen", out.admin_listen, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "admin_token_env", out.admin_token_env, where));
  FERRY_RETURN_IF_ERROR(ReadBool(t, "insecure_no_auth", out.insecure_no_auth, where));
  FERRY_RETURN_IF_ERROR(ReadWholeNumber(t, "max_waiting_events", 0, int64_t{1} << 40,
                                        out.max_waiting_events, where));
  if (out.insecure_no_auth && !out.token_env.empty()) {
    return Status::InvalidArgument(where + ": 'insecure_no_auth' with 'token_env': an intake "
                                   "with a token is not insecure; keep one");
  }
  FERRY_RETURN_IF_ERROR(ReadString(t, "tls_cert", out.tls_cert, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "tls_key", out.tls_key, where));
  if (out.tls_cert.empty() != out.tls_key.empty()) {
    return Status::InvalidArgument(where + (out.tls_cert.empty() ? ": 'tls_key' needs 'tls_cert'"
                                                                 : ": 'tls_cert' needs 'tls_key'"));
  }
  if (const toml::node* n = t.get("replicate")) {
    const toml::array* sources = n->as_array();
    if (sources == nullptr) {
      return Status::InvalidArgument(where + ": 'replicate' must be a list of source locations");
    }
    for (const toml::node& s : *sources) {
      if (!s.is_string() || s.value<std::string>().value_or("").empty()) {
        return Status::InvalidArgument(where + ": 'replicate' must be a list of source locations");
      }
      out.replicate.push_back(*s.value<std::string>());
    }
  }
  if (const toml::node* n = t.get("unpack_regions")) {
    const toml::array* regions = n->as_array();
    const Status bad = Status::InvalidArgument(
        where + ": 'unpack_regions' must be a list of region names ([] for none)");
    if (regions == nullptr) return bad;
    out.unpack_regions.emplace();
    for (const toml::node& r : *regions) {
      if (!r.is_string() || r.value<std::string>().value_or("").empty()) return bad;
      out.unpack_regions->push_back(*r.value<std::string>());
    }
  }
  if (t.get("scan_interval") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadString(t, "scan_interval", text, where));
    auto every = plan::ParseAge(text);
    if (!every.ok()) return every.status().WithContext(where + ": 'scan_interval'");
    if (every->count() < 1) {
      return Status::InvalidArgument(where + ": 'scan_interval' must be at least 1s");
    }
    out.scan_interval = *every;
  }
  if (t.get("max_event_body") != nullptr) {
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadString(t, "max_event_body", text, where));
    auto size = plan::ParseSize(text);
    if (!size.ok()) return size.status().WithContext(where + ": 'max_event_body'");
    if (*size < 1024 || *size > (64ull << 20)) {
      return Status::InvalidArgument(where + ": 'max_event_body' must be from 1KiB to 64MiB");
    }
    out.max_event_body = *size;
  }
  return ParseServeSns(t, where, out);
}

// [costs]: the cost model's prices (estimate/cost.h), numbers 0 or more.
Status ParseCosts(const toml::table& t, const std::string& src, estimate::Prices& out) {
  const std::string where = src + ": [costs]";
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "pairs") {
      const toml::table* pairs = v.as_table();
      if (pairs == nullptr) {
        return Status::InvalidArgument(where + ": 'pairs' must be a table of \"from->to\" = "
                                       "$/GB");
      }
      for (const auto& [pk, pv] : *pairs) {
        const std::optional<double> price = pv.is_number() ? pv.value<double>() : std::nullopt;
        Status s = estimate::SetPairPrice(out, pk.str(), price.value_or(-1));
        if (!s.ok()) return s.WithContext(where);
      }
      continue;
    }
    const std::optional<double> price = v.is_number() ? v.value<double>() : std::nullopt;
    Status s = estimate::SetPrice(out, key, price.value_or(-1));
    if (!s.ok()) return s.WithContext(where);
  }
  return Status::Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, std::string_view source_name) {
  const std::string src(source_name);
  // Debian's toml++ is built with exceptions: the throw stops here, at the adapter.
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& err) {
    // toml++ quotes the text it met, which may hold a line break or any byte: escaped, so the
    // refusal stays one printable line (found by fuzz_config_toml)
    return Status::InvalidArgument("malformed config " + src + " line " +
                                   std::to_string(err.source().begin.line) + ": " +
                                   storage::PrintableKey(err.description()));
  }
  Config config;
  config.source = src;
  for (const auto& [k, v] : root) {
    const std::string key(k.str());
    if (key != "remotes" && key != "transfer" && key != "replication" && key != "costs" &&
        key != "serve" && key != "limits" && key != "schedules") {
      return Status::InvalidArgument(src + ": unknown section '" + key + "'");
    }
  }
  if (const toml::table* remotes = root["remotes"].as_table()) {
    for (const auto& [name, node] : *remotes) {
      const toml::table* t = node.as_table();
      if (t == nullptr) {
        return Status::InvalidArgument(src + ": remotes." + std::string(name.str()) +
                                       " must be a table");
      }
      RemoteConfig r;
      FERRY_RETURN_IF_ERROR(ParseRemote(std::string(name.str()), *t, src, r));
      config.remotes[r.name] = std::move(r);
    }
  }
  if (root.contains("transfer")) {
    const toml::table* t = root["transfer"].as_table();
    if (t == nullptr) return Status::InvalidArgument(src + ": transfer must be a table");
    FERRY_RETURN_IF_ERROR(ParseTransfer(*t, src, config.transfer));
  }
  if (root.contains("limits")) {
    const toml::table* t = root["limits"].as_table();
    if (t == nullptr) return Status::InvalidArgument(src + ": limits must be a table");
    FERRY_RETURN_IF_ERROR(ParseLimits(*t, src, config.limits));
  }
  if (root.contains("replication")) {
    const toml::table* t = root["replication"].as_table();
    if (t == nullptr) return Status::InvalidArgument(src + ": replication must be a table");
    FERRY_RETURN_IF_ERROR(ParseReplication(*t, src, config.remotes, config.replication));
  }
  if (root.contains("serve")) {
    const toml::table* t = root["serve"].as_table();
    if (t == nullptr) return Status::InvalidArgument(src + ": serve must be a table");
    FERRY_RETURN_IF_ERROR(ParseServe(*t, src, config.remotes, config.serve));
  }
  if (const toml::node* n = root.get("schedules")) {
    FERRY_RETURN_IF_ERROR(ParseSchedules(*n, src, config.schedules));
  }
  if (root.contains("costs")) {
    const toml::table* t = root["costs"].as_table();
    if (t == nullptr) return Status::InvalidArgument(src + ": costs must be a table");
    FERRY_RETURN_IF_ERROR(ParseCosts(*t, src, config.costs));
  }
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("config file not found: " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path);
}

}  // namespace ferry::app
