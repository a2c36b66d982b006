#include "credentials/sso.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "checksum/checksum.h"
#include "credentials/env.h"
#include "s3/time_format.h"
#include "s3/uri.h"

namespace ferry::credentials {
namespace {

std::string Sha1Hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha1(), nullptr);
  return checksum::Hex(std::span<const uint8_t>(md, len));
}

std::string CacheDir() {
  const std::string home = EnvOrEmpty("HOME");
  return (home.empty() ? std::string(".") : home) + "/.aws/sso/cache/";
}

}  // namespace

Result<SsoProfile> ReadSsoProfile(const std::string& name, const s3::ProfileSection& p) {
  auto get = [](const s3::ProfileSection& s, const char* key) {
    auto it = s.find(key);
    return it == s.end() ? std::string() : it->second;
  };
  const std::string where = "profile \"" + name + "\"";
  SsoProfile out;
  out.profile = name;
  out.account_id = get(p, "sso_account_id");
  out.role_name = get(p, "sso_role_name");
  std::string cache_key;
  if (const std::string session = get(p, "sso_session"); !session.empty()) {
    auto section = s3::ReadConfigSection("sso-session " + session);
    if (!section) {
      return Status::InvalidArgument(where + " names sso_session '" + session +
                                     "', which the config file has no [sso-session " + session +
                                     "] section for");
    }
    out.region = get(*section, "sso_region");
    cache_key = session;
  } else {
    out.region = get(p, "sso_region");
    cache_key = get(p, "sso_start_url");
  }
  for (const auto& [value, setting] :
       {std::pair{out.account_id, "sso_account_id"}, std::pair{out.role_name, "sso_role_name"},
        std::pair{out.region, "sso_region"}}) {
    if (value.empty()) return Status::InvalidArgument(where + " has no " + setting);
  }
  out.portal = EnvOrEmpty("AWS_ENDPOINT_URL_SSO");
  if (out.portal.empty()) {
    out.portal = "https://portal.sso." + out.region +
                 (out.region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com");
  }
  while (!out.portal.empty() && out.portal.back() == '/') out.portal.pop_back();
  out.cache_file = CacheDir() + Sha1Hex(cache_key) + ".json";
  return out;
}

Result<Expiring> ParseSsoRoleCredentials(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("roleCredentials") ||
      !doc["roleCredentials"].is_object()) {
    return Status::InvalidArgument("the SSO portal's answer has no roleCredentials");
  }
  const nlohmann::json& rc = doc["roleCredentials"];
  auto str = [&rc](const char* name) -> std::string {
    auto it = rc.find(name);
    return it != rc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Expiring out;
  out.credentials = {str("accessKeyId"), str("secretAccessKey"), str("sessionToken")};
  auto expiration = rc.find("expiration");
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty() ||
      expiration == rc.end() || !expiration->is_number_integer()) {
    return Status::InvalidArgument(
        "the SSO portal's roleCredentials lack accessKeyId, secretAccessKey or expiration");
  }
  out.expiration = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(expiration->get<int64_t>()));
  return out;
}

SsoSource::SsoSource(SsoProfile profile, http::HttpTransport& http, Clock& clock)
    : profile_(std::move(profile)), http_(http), clock_(clock) {}

std::string SsoSource::Describe() const {
  return "SSO role " + profile_.role_name + " of account " + profile_.account_id +
         " (profile \"" + profile_.profile + "\")";
}

Result<Expiring> SsoSource::Fetch() {
  const std::string login = "run `aws sso login --profile " + profile_.profile + "`";
  std::ifstream in(profile_.cache_file, std::ios::binary);
  if (!in) {
    return Status::PermissionDenied(Describe() + ": no SSO token in " + profile_.cache_file +
                                    "; " + login);
  }
  std::ostringstream text;
  text << in.rdbuf();
  const nlohmann::json cache =
      nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (cache.is_discarded() || !cache.is_object() || !cache.contains("accessToken") ||
      !cache["accessToken"].is_string()) {
    return Status::PermissionDenied(Describe() + ": " + profile_.cache_file +
                                    " holds no accessToken; " + login);
  }
  const std::string token = cache["accessToken"].get<std::string>();
  if (cache.contains("expiresAt") && cache["expiresAt"].is_string()) {
    auto until = s3::ParseIso8601(cache["expiresAt"].get<std::string>());
    if (until && *until <= clock_.Now()) {
      return Status::PermissionDenied(Describe() + ": the SSO token expired at " +
                                      s3::FormatIso8601(*until) + "; " + login);
    }
  }
  http::HttpRequest request;
  request.url = profile_.portal + "/federation/credentials?account_id=" +
                s3::UriEncode(profile_.account_id) + "&role_name=" +
                s3::UriEncode(profile_.role_name);
  request.timeout_ms = 30000;
  request.headers.Set("x-amz-sso_bearer_token", token);
  http::StringSink sink(1 << 20);
  Result<http::HttpResponse> sent = http_.Send(request, sink, {});
  if (!sent.ok()) return sent.status().WithContext("asking the SSO portal for " + Describe());
  if (sent->status_code != 200) {
    const std::string what = Describe() + ": the SSO portal answered HTTP " +
                             std::to_string(sent->status_code);
    if (sent->status_code >= 500 || sent->status_code == 429) return Status::Unavailable(what);
    return Status::PermissionDenied(what + "; " + login);
  }
  Result<Expiring> parsed = ParseSsoRoleCredentials(sink.body());
  if (!parsed.ok()) return parsed.status().WithContext(Describe());
  return parsed;
}

}  // namespace ferry::credentials
