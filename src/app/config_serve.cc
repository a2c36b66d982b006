// [serve] of the config file (config_serve.h); its roles, SQS queues and replication
// events are parsed beside it (config_roles.cc, config_sqs.cc, config_replication_events.cc).
#include "app/config_serve.h"

#include <vector>

#include "app/config_keys.h"
#include "app/config_replication_events.h"
#include "app/config_roles.h"
#include "app/config_sqs.h"
#include "plan/filter.h"

namespace ferry::app {
namespace {

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

}  // namespace

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

}  // namespace ferry::app
