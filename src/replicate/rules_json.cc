// The S3 ReplicationConfiguration JSON (as `aws s3api get-bucket-replication` prints it) read
// into a RuleSet (contract in rules.h).
#include <initializer_list>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "replicate/rules.h"

namespace ferry::replicate {
namespace {

using nlohmann::json;

struct Reader {
  std::string source;
  std::string rule;  // "#N" until the ID is known

  Status Bad(std::string_view what) const {
    return Status::InvalidArgument(source + ": replication rule '" + rule + "': " +
                                   std::string(what));
  }
  // A string member (absent: `out` unchanged).
  Status Str(const json& obj, const char* name, std::string& out) const {
    auto it = obj.find(name);
    if (it == obj.end()) return Status::Ok();
    if (!it->is_string()) return Bad(std::string("'") + name + "' must be a string");
    out = it->get<std::string>();
    return Status::Ok();
  }
  // {"Status": "Enabled"|"Disabled"} under `name` (absent: `out` unchanged).
  Status Switch(const json& obj, const char* name, bool& out) const {
    auto it = obj.find(name);
    if (it == obj.end()) return Status::Ok();
    std::string status;
    if (it->is_object()) FERRY_RETURN_IF_ERROR(Str(*it, "Status", status));
    if (status != "Enabled" && status != "Disabled") {
      return Bad(std::string("'") + name + ".Status' must be \"Enabled\" or \"Disabled\"");
    }
    out = status == "Enabled";
    return Status::Ok();
  }
  // Every member of `obj` (at `where`, "" = the rule) must be one of `known`: a field ferry does
  // not know is refused, never ignored (it might narrow or change what the rule replicates).
  Status Known(const json& obj, std::string_view where,
               std::initializer_list<std::string_view> known) const {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool ok = false;
      for (std::string_view k : known) ok = ok || it.key() == k;
      if (!ok) {
        return Bad("unknown field '" + std::string(where) + (where.empty() ? "" : ".") + it.key() +
                   "'");
      }
    }
    return Status::Ok();
  }
  // A member S3 defines that ferry does not carry out yet: refused with its name unless it is
  // switched off ({"Status": "Disabled"}), which asks for nothing.
  Status NotYet(const json& obj, const char* name, std::string_view where,
                std::string_view what) const {
    auto it = obj.find(name);
    if (it == obj.end()) return Status::Ok();
    bool on = true;
    if (it->is_object() && it->contains("Status")) FERRY_RETURN_IF_ERROR(Switch(obj, name, on));
    if (!on) return Status::Ok();
    return Bad("'" + std::string(where) + (where.empty() ? "" : ".") + name + "' (" +
               std::string(what) + ") is not supported by ferry yet; remove it or set its "
               "Status to \"Disabled\"");
  }
  Status Tag(const json& t, storage::Tags& out) const {
    std::string k, v;
    if (!t.is_object()) return Bad("a tag must be an object with Key and Value");
    FERRY_RETURN_IF_ERROR(Known(t, "Tag", {"Key", "Value"}));
    FERRY_RETURN_IF_ERROR(Str(t, "Key", k));
    FERRY_RETURN_IF_ERROR(Str(t, "Value", v));
    out.emplace_back(std::move(k), std::move(v));
    return Status::Ok();
  }
};

Status ParseFilter(const Reader& rd, const json& filter, Rule& rule) {
  if (!filter.is_object()) return rd.Bad("'Filter' must be an object");
  for (auto it = filter.begin(); it != filter.end(); ++it) {
    const std::string& name = it.key();
    if (name == "Prefix") {
      FERRY_RETURN_IF_ERROR(rd.Str(filter, "Prefix", rule.prefix));
    } else if (name == "Tag") {
      FERRY_RETURN_IF_ERROR(rd.Tag(*it, rule.tags));
    } else if (name == "And") {
      if (!it->is_object()) return rd.Bad("'Filter.And' must be an object");
      FERRY_RETURN_IF_ERROR(rd.Known(*it, "Filter.And", {"Prefix", "Tags"}));
      FERRY_RETURN_IF_ERROR(rd.Str(*it, "Prefix", rule.prefix));
      if (auto tags = it->find("Tags"); tags != it->end()) {
        if (!tags->is_array()) return rd.Bad("'Filter.And.Tags' must be a list");
        for (const json& t : *tags) FERRY_RETURN_IF_ERROR(rd.Tag(t, rule.tags));
      }
    } else {
      return rd.Bad("unknown field 'Filter." + name + "'");
    }
  }
  return Status::Ok();
}

// `{"Minutes": N}` at `where`: N a whole number of minutes above 0 (S3 takes 15 only).
Result<int64_t> Minutes(const Reader& rd, const json& obj, const std::string& where) {
  if (!obj.is_object()) return rd.Bad("'" + where + "' must be an object with Minutes");
  FERRY_RETURN_IF_ERROR(rd.Known(obj, where, {"Minutes"}));
  auto m = obj.find("Minutes");
  if (m == obj.end()) return rd.Bad("'" + where + ".Minutes' is missing");
  constexpr int64_t kMax = kMaxReplicationTime.count() / 60;
  if (!m->is_number_integer() || m->get<int64_t>() < 1 || m->get<int64_t>() > kMax) {
    return rd.Bad("'" + where + ".Minutes' must be a whole number of minutes from 1 to " +
                  std::to_string(kMax));
  }
  return m->get<int64_t>();
}

// Destination member `name` = {"Status": "Enabled"|"Disabled", `time`: {"Minutes": N}}: the
// minutes when enabled and given (`time` is required when enabled if `time_required`), nullopt
// when absent or disabled. A malformed member is refused even when disabled.
Result<std::optional<int64_t>> TimedSwitch(const Reader& rd, const json& dest, const char* name,
                                           const char* time, bool time_required) {
  auto it = dest.find(name);
  if (it == dest.end()) return std::optional<int64_t>();
  const std::string where = std::string("Destination.") + name;
  if (!it->is_object()) return rd.Bad("'" + where + "' must be an object with Status");
  FERRY_RETURN_IF_ERROR(rd.Known(*it, where, {"Status", time}));
  std::string status;
  FERRY_RETURN_IF_ERROR(rd.Str(*it, "Status", status));
  if (status != "Enabled" && status != "Disabled") {
    return rd.Bad("'" + where + ".Status' must be \"Enabled\" or \"Disabled\"");
  }
  std::optional<int64_t> minutes;
  if (auto t = it->find(time); t != it->end()) {
    FERRY_ASSIGN_OR_RETURN(minutes, Minutes(rd, *t, where + "." + time));
  }
  if (status == "Disabled") return std::optional<int64_t>();
  if (!minutes && time_required) return rd.Bad("'" + where + "." + time + "' is missing");
  return minutes;
}

// Replication Time Control: `ReplicationTime` {Status, Time: {Minutes}} and `Metrics` {Status,
// EventThreshold: {Minutes}} give the rule's replication_time (sla.h publishes the metrics
// whatever Metrics says). S3 wants both enabled with 15 minutes; ferry takes either one, and any
// whole number of minutes, but not two different ones.
// Destination.Account and AccessControlTranslation {"Owner": "Destination"}: the replicas go to
// the destination account (Destination::owner_account). S3 takes the translation only with an
// Account, and Account alone changes nothing (it is checked against the bucket owner by S3, not
// by ferry): refused, as ferry would silently ignore it.
Status ParseOwnerOverride(const Reader& rd, const json& dest, Destination& out) {
  std::string account;
  FERRY_RETURN_IF_ERROR(rd.Str(dest, "Account", account));
  auto t = dest.find("AccessControlTranslation");
  if (t == dest.end()) {
    if (!account.empty()) {
      return rd.Bad("'Destination.Account' without 'AccessControlTranslation' would change "
                    "nothing (ferry does not check the bucket owner)");
    }
    return Status::Ok();
  }
  if (!t->is_object()) return rd.Bad("'AccessControlTranslation' must be an object");
  FERRY_RETURN_IF_ERROR(rd.Known(*t, "Destination.AccessControlTranslation", {"Owner"}));
  std::string owner;
  FERRY_RETURN_IF_ERROR(rd.Str(*t, "Owner", owner));
  if (owner != "Destination") {
    return rd.Bad("'AccessControlTranslation.Owner' must be \"Destination\"");
  }
  if (account.empty()) {
    return rd.Bad("'AccessControlTranslation' needs 'Destination.Account' (the account the "
                  "replicas go to)");
  }
  if (account.find_first_of("\",") != std::string::npos) {
    return rd.Bad("'Destination.Account' holds a quote or comma");
  }
  out.owner_account = account;
  return Status::Ok();
}

Status ParseReplicationTime(const Reader& rd, const json& dest, Rule& rule) {
  FERRY_ASSIGN_OR_RETURN(std::optional<int64_t> time,
                         TimedSwitch(rd, dest, "ReplicationTime", "Time", true));
  FERRY_ASSIGN_OR_RETURN(std::optional<int64_t> event,
                         TimedSwitch(rd, dest, "Metrics", "EventThreshold", false));
  if (time && event && *time != *event) {
    return rd.Bad("'Destination.Metrics.EventThreshold.Minutes' (" + std::to_string(*event) +
                  ") differs from 'Destination.ReplicationTime.Time.Minutes' (" +
                  std::to_string(*time) + "): a rule has one threshold");
  }
  if (time || event) rule.replication_time = std::chrono::minutes(time ? *time : *event);
  return Status::Ok();
}

// A rule's ID, Priority and Status.
Status ParseJsonRuleHeader(Reader& rd, const json& r, Rule& rule) {
  FERRY_RETURN_IF_ERROR(rd.Str(r, "ID", rule.id));
  if (!rule.id.empty()) rd.rule = rule.id;
  if (auto p = r.find("Priority"); p != r.end()) {
    if (!p->is_number_integer() || p->get<int64_t>() < 0 ||
        p->get<int64_t>() > std::numeric_limits<int>::max()) {
      return rd.Bad("'Priority' must be a whole number from 0 to " +
                    std::to_string(std::numeric_limits<int>::max()));
    }
    rule.priority = p->get<int>();
  }
  std::string status;
  FERRY_RETURN_IF_ERROR(rd.Str(r, "Status", status));
  if (status != "Enabled" && status != "Disabled") {
    return rd.Bad("'Status' must be \"Enabled\" or \"Disabled\"");
  }
  rule.enabled = status == "Enabled";
  return Status::Ok();
}

// SourceSelectionCriteria: ReplicaModifications and SseKmsEncryptedObjects switches.
Status ParseJsonSourceSelection(const Reader& rd, const json& s, Rule& rule) {
  if (!s.is_object()) return rd.Bad("'SourceSelectionCriteria' must be an object");
  FERRY_RETURN_IF_ERROR(rd.Known(s, "SourceSelectionCriteria",
                                 {"ReplicaModifications", "SseKmsEncryptedObjects"}));
  FERRY_RETURN_IF_ERROR(rd.Switch(s, "ReplicaModifications", rule.replica_modifications));
  if (auto k = s.find("SseKmsEncryptedObjects"); k != s.end()) {
    if (!k->is_object()) return rd.Bad("'SseKmsEncryptedObjects' must be an object");
    FERRY_RETURN_IF_ERROR(rd.Known(*k, "SseKmsEncryptedObjects", {"Status"}));
    std::string status;
    FERRY_RETURN_IF_ERROR(rd.Str(*k, "Status", status));
    if (status != "Enabled" && status != "Disabled") {
      return rd.Bad("'SseKmsEncryptedObjects.Status' must be \"Enabled\" or \"Disabled\"");
    }
    rule.sse_kms_objects = status == "Enabled";
  }
  return Status::Ok();
}

// What a rule replicates: its prefix or Filter, delete markers, existing objects, and the
// source selection.
Status ParseJsonRuleScope(const Reader& rd, const json& r, Rule& rule) {
  // The older rule shape (V1): a rule-level Prefix and no Filter. S3 replicates delete markers
  // for such a rule and refuses DeleteMarkerReplication in it.
  const bool v1 = r.contains("Prefix");
  if (v1 && r.contains("Filter")) return rd.Bad("'Prefix' and 'Filter' together (use one)");
  if (!v1 && !r.contains("Filter")) {
    return rd.Bad("'Filter' (or the older rule-level 'Prefix') is missing");
  }
  if (v1 && r.contains("DeleteMarkerReplication")) {
    return rd.Bad("'DeleteMarkerReplication' needs a 'Filter' (a rule-level 'Prefix' rule "
                  "replicates delete markers)");
  }
  FERRY_RETURN_IF_ERROR(rd.Str(r, "Prefix", rule.prefix));
  rule.delete_markers = v1;
  if (auto f = r.find("Filter"); f != r.end()) FERRY_RETURN_IF_ERROR(ParseFilter(rd, *f, rule));
  FERRY_RETURN_IF_ERROR(rd.Switch(r, "DeleteMarkerReplication", rule.delete_markers));
  FERRY_RETURN_IF_ERROR(rd.Switch(r, "ExistingObjectReplication", rule.existing_objects));
  if (auto s = r.find("SourceSelectionCriteria"); s != r.end()) {
    FERRY_RETURN_IF_ERROR(ParseJsonSourceSelection(rd, *s, rule));
  }
  return Status::Ok();
}

// A rule's Destination: its bucket (mapped to a location by `bucket_locations`), storage
// class, owner override, replica KMS key and replication time.
Status ParseJsonDestination(
    const Reader& rd, const json& r,
    const std::vector<std::pair<std::string, std::string>>& bucket_locations, Rule& rule) {
  auto d = r.find("Destination");
  if (d == r.end() || !d->is_object()) return rd.Bad("'Destination' is missing");
  FERRY_RETURN_IF_ERROR(rd.Known(*d, "Destination",
                                 {"Bucket", "StorageClass", "Account", "AccessControlTranslation",
                                  "EncryptionConfiguration", "ReplicationTime", "Metrics"}));
  FERRY_RETURN_IF_ERROR(ParseReplicationTime(rd, *d, rule));
  std::string arn;
  Destination dest;
  FERRY_RETURN_IF_ERROR(ParseOwnerOverride(rd, *d, dest));
  FERRY_RETURN_IF_ERROR(rd.Str(*d, "Bucket", arn));
  FERRY_RETURN_IF_ERROR(rd.Str(*d, "StorageClass", dest.storage_class));
  if (auto e = d->find("EncryptionConfiguration"); e != d->end()) {
    if (!e->is_object()) return rd.Bad("'EncryptionConfiguration' must be an object");
    FERRY_RETURN_IF_ERROR(rd.Known(*e, "EncryptionConfiguration", {"ReplicaKmsKeyID"}));
    FERRY_RETURN_IF_ERROR(rd.Str(*e, "ReplicaKmsKeyID", dest.replica_kms_key_id));
    if (dest.replica_kms_key_id.empty()) {
      return rd.Bad("'EncryptionConfiguration.ReplicaKmsKeyID' is missing");
    }
  }
  if (arn.empty()) return rd.Bad("'Destination.Bucket' is missing");
  for (const auto& [a, location] : bucket_locations) {
    if (a == arn) dest.location = location;
  }
  if (dest.location.empty()) {
    return rd.Bad("'Destination.Bucket' " + arn +
                  " is not mapped to a location in [replication.buckets] of the config");
  }
  rule.destinations.push_back(std::move(dest));
  return Status::Ok();
}

// Rule number `n` (from 1) of the document.
Result<Rule> ParseJsonRule(
    Reader& rd, const json& r, int n,
    const std::vector<std::pair<std::string, std::string>>& bucket_locations) {
  rd.rule = "#" + std::to_string(n);
  if (!r.is_object()) return rd.Bad("a rule must be an object");
  if (auto id = r.find("ID"); id != r.end() && id->is_string()) rd.rule = id->get<std::string>();
  FERRY_RETURN_IF_ERROR(rd.Known(r, "", {"ID", "Priority", "Status", "Prefix", "Filter",
                                         "DeleteMarkerReplication", "ExistingObjectReplication",
                                         "SourceSelectionCriteria", "Destination"}));
  Rule rule;
  rule.existing_objects = false;  // S3's default: only new objects unless enabled
  FERRY_RETURN_IF_ERROR(ParseJsonRuleHeader(rd, r, rule));
  FERRY_RETURN_IF_ERROR(ParseJsonRuleScope(rd, r, rule));
  FERRY_RETURN_IF_ERROR(ParseJsonDestination(rd, r, bucket_locations, rule));
  return rule;
}

}  // namespace

Result<RuleSet> ParseS3ReplicationJson(
    std::string_view text, std::string_view source_name,
    const std::vector<std::pair<std::string, std::string>>& bucket_locations) {
  Reader rd{std::string(source_name), ""};
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status::InvalidArgument(rd.source + ": not valid JSON");
  }
  if (doc.is_object() && doc.contains("ReplicationConfiguration")) {
    doc = doc["ReplicationConfiguration"];
  }
  if (!doc.is_object() || !doc.contains("Rules") || !doc["Rules"].is_array()) {
    return Status::InvalidArgument(rd.source + ": expected a ReplicationConfiguration with Rules");
  }
  // "Role" is the IAM role S3 itself would assume; ferry signs with the credentials of the
  // source's and the destinations' remotes instead (docs/design/replication.md).
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() != "Rules" && it.key() != "Role") {
      return Status::InvalidArgument(rd.source + ": unknown field '" + it.key() + "'");
    }
  }
  RuleSet out;
  int n = 0;
  for (const json& r : doc["Rules"]) {
    FERRY_ASSIGN_OR_RETURN(Rule rule, ParseJsonRule(rd, r, ++n, bucket_locations));
    out.rules.push_back(std::move(rule));
  }
  return out;
}

}  // namespace ferry::replicate
