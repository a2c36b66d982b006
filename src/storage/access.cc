// Parsing of --acl, --grants and --default-retention (storage/access.h).
#include "storage/access.h"

#include <array>

namespace ferry::storage {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Result<std::string> ParseCannedAcl(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kCanned = {
      "private",          "public-read",       "public-read-write",        "authenticated-read",
      "aws-exec-read",    "bucket-owner-read", "bucket-owner-full-control"};
  for (std::string_view c : kCanned) {
    if (name == c) return std::string(c);
  }
  return Status::InvalidArgument(
      "unknown canned ACL \"" + std::string(name) +
      "\" (private, public-read, public-read-write, authenticated-read, aws-exec-read, "
      "bucket-owner-read, bucket-owner-full-control)");
}

Result<WriteAcl> ParseGrants(std::span<const std::string> grants) {
  WriteAcl acl;
  for (const std::string& g : grants) {
    const auto bad = [&](const std::string& why) {
      return Status::InvalidArgument("grant \"" + g + "\": " + why +
                                     " (expected PERMISSION=TYPE=VALUE, PERMISSION read, readacp, "
                                     "writeacp or full, TYPE id, uri or emailaddress)");
    };
    const size_t eq1 = g.find('=');
    const size_t eq2 = eq1 == std::string::npos ? eq1 : g.find('=', eq1 + 1);
    if (eq2 == std::string::npos || eq2 + 1 >= g.size()) return bad("not of the form");
    const std::string permission = Lower(std::string_view(g).substr(0, eq1));
    const std::string type = Lower(std::string_view(g).substr(eq1 + 1, eq2 - eq1 - 1));
    const std::string value = g.substr(eq2 + 1);
    if (type != "id" && type != "uri" && type != "emailaddress") {
      return bad("unknown grantee type \"" + type + "\"");
    }
    if (value.find_first_of("\",") != std::string::npos) return bad("a quote or comma in it");
    std::string* list = permission == "read"       ? &acl.grant_read
                        : permission == "readacp"  ? &acl.grant_read_acp
                        : permission == "writeacp" ? &acl.grant_write_acp
                        : permission == "full"     ? &acl.grant_full_control
                                                   : nullptr;
    if (list == nullptr) return bad("unknown permission \"" + permission + "\"");
    if (!list->empty()) list->append(", ");
    list->append(type + "=\"" + value + "\"");
  }
  return acl;
}

Result<std::string> ParseLockMode(std::string_view mode) {
  const std::string m = Lower(mode);
  if (m == "governance") return std::string("GOVERNANCE");
  if (m == "compliance") return std::string("COMPLIANCE");
  return Status::InvalidArgument("unknown object lock mode \"" + std::string(mode) +
                                 "\" (GOVERNANCE or COMPLIANCE)");
}

Result<RetentionRule> ParseRetentionRule(std::string_view text) {
  const size_t colon = text.find(':');
  const auto bad = [&] {
    return Status::InvalidArgument("retention \"" + std::string(text) +
                                   "\" is not MODE:DAYS (GOVERNANCE or COMPLIANCE, 1 to 36500 "
                                   "days)");
  };
  if (colon == std::string_view::npos) return bad();
  auto mode = ParseLockMode(text.substr(0, colon));
  if (!mode.ok()) return bad();
  const std::string_view days = text.substr(colon + 1);
  if (days.empty() || days.size() > 5) return bad();
  int n = 0;
  for (char c : days) {
    if (c < '0' || c > '9') return bad();
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > 36500) return bad();
  return RetentionRule{*mode, n};
}

}  // namespace ferry::storage
