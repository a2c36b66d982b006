// Warm requests: TTL texts and request files (see request.h).
#include "cache/request.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "cache/index.h"
#include "plan/filter.h"

namespace ferry::cache {

Result<std::chrono::seconds> ParseTtl(std::string_view text) {
  if (text.starts_with('-')) {
    return Status::InvalidArgument("--ttl " + std::string(text) + ": the TTL must be positive");
  }
  Result<std::chrono::seconds> ttl = plan::ParseAge(text);
  if (!ttl.ok()) return ttl.status().WithContext("--ttl");
  if (ttl->count() <= 0) {
    return Status::InvalidArgument("--ttl " + std::string(text) + ": the TTL must be positive");
  }
  if (*ttl > kMaxTtl) {
    return Status::InvalidArgument("--ttl " + std::string(text) +
                                   ": the TTL must be at most 100 years (36500d)");
  }
  return *ttl;
}

std::string BucketLocation(std::string_view bucket) {
  if (bucket.find(':') != std::string_view::npos || bucket.find('/') != std::string_view::npos) {
    return std::string(bucket);
  }
  return "s3://" + std::string(bucket);
}

Result<RequestFile> ParseRequestJson(std::string_view text) {
  if (text.size() > kMaxRequestBytes) {
    return Status::InvalidArgument("request file: " + std::to_string(text.size()) +
                                   " bytes, more than a request may hold (" +
                                   std::to_string(kMaxRequestBytes) + ")");
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("request file: malformed JSON");
  if (!j.is_object()) return Status::InvalidArgument("request file: expected a JSON object");
  RequestFile r;
  auto bad = [](const std::string& what) {
    return Status::InvalidArgument("request file: " + what);
  };
  if (!j.contains("bucket") || !j["bucket"].is_string() || j["bucket"].get<std::string>().empty()) {
    return bad("\"bucket\" must be a non-empty string");
  }
  r.bucket = j["bucket"].get<std::string>();
  if (!j.contains("prefixes") || !j["prefixes"].is_array() || j["prefixes"].empty()) {
    return bad("\"prefixes\" must be a non-empty array of strings (\"\" = the whole bucket)");
  }
  if (j["prefixes"].size() > kMaxRequestPrefixes) {
    return bad("more than " + std::to_string(kMaxRequestPrefixes) + " prefixes");
  }
  for (const auto& p : j["prefixes"]) {
    if (!p.is_string()) return bad("\"prefixes\" must hold strings only");
    if (p.get_ref<const std::string&>().size() > kMaxPrefixBytes) {
      return bad("a prefix longer than " + std::to_string(kMaxPrefixBytes) + " bytes");
    }
    r.prefixes.push_back(p.get<std::string>());
  }
  if (!j.contains("ttl") || !j["ttl"].is_number()) return bad("\"ttl\" must be a number of hours");
  const double hours = j["ttl"].get<double>();
  if (!(hours > 0) || !std::isfinite(hours) || hours > 24.0 * 365 * 100) {
    return bad("\"ttl\" must be a positive number of hours, got " + j["ttl"].dump());
  }
  r.ttl = std::chrono::seconds(static_cast<int64_t>(std::llround(hours * 3600)));
  if (r.ttl.count() <= 0) return bad("\"ttl\" must be at least one second");
  if (j.contains("directory_bucket")) {
    if (!j["directory_bucket"].is_string()) return bad("\"directory_bucket\" must be a string");
    r.directory_bucket = j["directory_bucket"].get<std::string>();
  }
  if (j.contains("force_copy")) {
    if (!j["force_copy"].is_boolean()) return bad("\"force_copy\" must be true or false");
    r.force_copy = j["force_copy"].get<bool>();
  }
  return r;
}

}  // namespace ferry::cache
