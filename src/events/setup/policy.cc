// A queue's or topic's Policy with ferry's statement merged in or taken out (policy.h), as JSON
// documents: every other statement and field of the policy is kept as it was.
#include <cctype>

#include <nlohmann/json.hpp>

#include "events/setup/policy.h"

namespace ferry::events::setup {
namespace {

using nlohmann::json;

constexpr const char* kS3Service = "s3.amazonaws.com";

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The policy as an object; "" is an empty one. kInvalidArgument when not a JSON object.
Result<json> Load(std::string_view policy) {
  if (policy.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
  json j = json::parse(policy, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument(
        "the queue's Policy is not a JSON object: ferry would replace it (fix or clear it with "
        "aws sqs set-queue-attributes)");
  }
  return j;
}

// Its statements as an array (a single statement object is a one-element array).
json Statements(const json& policy) {
  auto it = policy.find("Statement");
  if (it == policy.end() || it->is_null()) return json::array();
  if (it->is_array()) return *it;
  return json::array({*it});
}

bool HasSid(const json& statement, std::string_view sid) {
  auto it = statement.find("Sid");
  return statement.is_object() && it != statement.end() && it->is_string() &&
         it->get_ref<const std::string&>() == sid;
}

// "x" or ["x", ...] holds `value`.
bool Names(const json& j, std::string_view value) {
  if (j.is_string()) return j.get_ref<const std::string&>() == value;
  if (j.is_array()) {
    for (const json& e : j) {
      if (e.is_string() && e.get_ref<const std::string&>() == value) return true;
    }
  }
  return false;
}

std::string BucketArn(std::string_view partition, std::string_view bucket) {
  return "arn:" + std::string(partition) + ":s3:::" + std::string(bucket);
}

// arn:PARTITION:...: the partition, or kInvalidArgument.
Result<std::string> PartitionOf(std::string_view arn) {
  if (!arn.starts_with("arn:")) {
    return Status::InvalidArgument("'" + std::string(arn.substr(0, 200)) + "' is not an ARN");
  }
  const size_t end = arn.find(':', 4);
  if (end == std::string_view::npos || end == 4) {
    return Status::InvalidArgument("'" + std::string(arn.substr(0, 200)) + "' is not an ARN");
  }
  return std::string(arn.substr(4, end - 4));
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "x" or ["x", ...] holds `value`, case aside.
bool NamesNoCase(const json& j, std::string_view value) {
  const std::string want = Lower(std::string(value));
  if (j.is_string()) return Lower(j.get<std::string>()) == want;
  if (j.is_array()) {
    for (const json& e : j) {
      if (e.is_string() && Lower(e.get<std::string>()) == want) return true;
    }
  }
  return false;
}

}  // namespace

std::string PolicySid(std::string_view bucket) { return "ferry-s3-" + std::string(bucket); }

Result<std::string> MergePolicyStatement(std::string_view policy, const S3Statement& statement,
                                         bool* changed) {
  FERRY_ASSIGN_OR_RETURN(const std::string partition, PartitionOf(statement.resource_arn));
  FERRY_ASSIGN_OR_RETURN(json doc, Load(policy));
  const std::string sid = PolicySid(statement.bucket);
  json condition = {{"ArnEquals", {{"aws:SourceArn", BucketArn(partition, statement.bucket)}}}};
  if (!statement.source_account.empty()) {
    condition["StringEquals"] = {{"aws:SourceAccount", statement.source_account}};
  }
  const json ours = {{"Sid", sid},
                     {"Effect", "Allow"},
                     {"Principal", {{"Service", kS3Service}}},
                     {"Action", statement.action},
                     {"Resource", statement.resource_arn},
                     {"Condition", std::move(condition)}};
  const json before = Statements(doc);
  json after = json::array();
  bool placed = false;
  for (const json& s : before) {
    if (HasSid(s, sid)) {
      if (!placed) after.push_back(ours);  // ours where it was; a duplicate Sid dropped
      placed = true;
    } else {
      after.push_back(s);
    }
  }
  if (!placed) after.push_back(ours);
  if (changed != nullptr) *changed = after != before;
  if (!doc.contains("Version")) doc["Version"] = "2012-10-17";
  doc["Statement"] = std::move(after);
  return Dump(doc);
}

Result<std::string> RemovePolicyStatement(std::string_view policy, std::string_view bucket,
                                          bool* changed) {
  FERRY_ASSIGN_OR_RETURN(json doc, Load(policy));
  const std::string sid = PolicySid(bucket);
  json kept = json::array();
  bool found = false;
  for (const json& s : Statements(doc)) {
    if (HasSid(s, sid)) {
      found = true;
    } else {
      kept.push_back(s);
    }
  }
  if (changed != nullptr) *changed = found;
  if (!found) return std::string(policy);
  if (kept.empty()) return std::string();
  doc["Statement"] = std::move(kept);
  return Dump(doc);
}

bool PolicyAllowsBucket(std::string_view policy, std::string_view bucket,
                        std::string_view action) {
  const std::string any = Lower(std::string(action.substr(0, action.find(':')))) + ":*";
  Result<json> doc = Load(policy);
  if (!doc.ok()) return false;
  for (const json& s : Statements(*doc)) {
    if (!s.is_object() || s.value("Effect", "") != "Allow") continue;
    const auto principal = s.find("Principal");
    const auto actions = s.find("Action");
    if (principal == s.end() || actions == s.end() || !principal->is_object()) continue;
    const auto service = principal->find("Service");
    if (service == principal->end() || !Names(*service, kS3Service)) continue;
    if (!NamesNoCase(*actions, action) && !NamesNoCase(*actions, any)) continue;
    // A condition on the source ARN must name this bucket (any partition); none allows all.
    const auto condition = s.find("Condition");
    if (condition == s.end() || !condition->is_object()) return true;
    bool names_bucket = false;
    bool has_source_arn = false;
    for (const auto& [op, tests] : condition->items()) {
      if (!tests.is_object()) continue;
      for (const auto& [key, value] : tests.items()) {
        if (key != "aws:SourceArn" && key != "aws:sourceArn") continue;
        has_source_arn = true;
        for (const char* partition : {"aws", "aws-cn", "aws-us-gov"}) {
          names_bucket = names_bucket || Names(value, BucketArn(partition, bucket));
        }
      }
    }
    if (!has_source_arn || names_bucket) return true;
  }
  return false;
}

std::string AttributeValue(const std::vector<std::pair<std::string, std::string>>& attributes,
                           std::string_view name) {
  for (const auto& [k, v] : attributes) {
    if (k == name) return v;
  }
  return {};
}

}  // namespace ferry::events::setup
