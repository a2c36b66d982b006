#include "credentials/metadata.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "credentials/env.h"
#include "http/url.h"
#include "s3/time_format.h"

namespace ferry::credentials {
namespace {

constexpr int kTokenTtlSeconds = 21600;

// A GET/PUT with a short body; the reply's status and body.
struct Answer {
  int status = 0;
  std::string body;
};

Result<Answer> Exchange(http::HttpTransport& http, http::HttpRequest& request) {
  http::StringSink sink(64 << 10);
  FERRY_ASSIGN_OR_RETURN(http::HttpResponse reply, http.Send(request, sink, {}));
  return Answer{reply.status_code, std::move(sink.body())};
}

// Whether plain http may carry the container authorization token to `host` (as libcurl reads
// the URL: IPv4 literals normalised to dotted quads, IPv6 without brackets). IP literals only,
// as the AWS SDKs allow: 127.0.0.0/8, ::1, the ECS task endpoint 169.254.170.2 and the EKS Pod
// Identity agent 169.254.170.23 / fd00:ec2::23. And the name "localhost" itself, which libcurl
// (7.78 and later) resolves to 127.0.0.1 and ::1 without asking any resolver; no other name,
// whatever it starts or ends with.
bool ContainerHttpHostAllowed(const std::string& host) {
  std::string lower = host;
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    const uint32_t a = ntohl(v4.s_addr);
    return (a >> 24) == 127 || a == 0xA9FEAA02u /* 169.254.170.2 */ ||
           a == 0xA9FEAA17u /* 169.254.170.23 */;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    in6_addr eks{};
    ::inet_pton(AF_INET6, "fd00:ec2::23", &eks);
    return IN6_IS_ADDR_LOOPBACK(&v6) || IN6_ARE_ADDR_EQUAL(&v6, &eks);
  }
  return false;
}

// The container endpoint's URL, checked: http(s), no user name or password (the token goes in
// a header; a login in the URL is either a mistake or a way to hide the real host), and plain
// http only to the hosts above. `variable` names the setting in messages; the URL is quoted
// only when it holds no login.
Status CheckContainerUrl(const std::string& url, const char* variable) {
  Result<http::UrlParts> parts = http::ParseUrl(url);
  if (!parts.ok()) {
    if (parts.status().code() != ErrorCode::kInvalidArgument) return parts.status();
    return Status::InvalidArgument(std::string(variable) + ": " + parts.status().message());
  }
  if (parts->has_login) {
    return Status::InvalidArgument(std::string(variable) +
                                   " holds a user name or password before '@': refused (the "
                                   "token goes in AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE))");
  }
  if (parts->scheme != "http" && parts->scheme != "https") {
    return Status::InvalidArgument(std::string(variable) + " '" + url +
                                   "' is not an http(s) URL");
  }
  if (parts->scheme == "http" && !ContainerHttpHostAllowed(parts->host)) {
    return Status::InvalidArgument(
        std::string(variable) + " '" + url + "': plain http is allowed only to 127.0.0.0/8, " +
        "::1, localhost, 169.254.170.2, 169.254.170.23 or fd00:ec2::23, written as such (use "
        "https)");
  }
  return Status::Ok();
}

}  // namespace

Result<Expiring> ParseMetadataCredentials(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument("the answer is not a JSON object");
  }
  auto str = [&doc](const char* name) -> std::string {
    auto it = doc.find(name);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (const std::string code = str("Code"); !code.empty() && code != "Success") {
    return Status::PermissionDenied("the answer's Code is '" + code.substr(0, 60) + "'");
  }
  Expiring out;
  out.credentials.access_key_id = str("AccessKeyId");
  out.credentials.secret_access_key = str("SecretAccessKey");
  out.credentials.session_token = str("Token");
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("the answer lacks AccessKeyId or SecretAccessKey");
  }
  if (const std::string expiration = str("Expiration"); !expiration.empty()) {
    out.expiration = s3::ParseIso8601(expiration);
    if (!out.expiration) {
      return Status::InvalidArgument("the answer's Expiration is not an ISO 8601 time");
    }
  }
  return out;
}

Result<std::optional<ContainerEndpoint>> ContainerEndpointFromEnvironment() {
  ContainerEndpoint e;
  if (const std::string relative = EnvOrEmpty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
      !relative.empty()) {
    e.url = "http://169.254.170.2" + (relative.front() == '/' ? relative : "/" + relative);
    // a path on the ECS address whatever it holds; checked so that a malformed one is one line
    FERRY_RETURN_IF_ERROR(CheckContainerUrl(e.url, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
  } else if (const std::string full = EnvOrEmpty("AWS_CONTAINER_CREDENTIALS_FULL_URI"); !full.empty()) {
    FERRY_RETURN_IF_ERROR(CheckContainerUrl(full, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    e.url = full;
  } else {
    return std::optional<ContainerEndpoint>();
  }
  e.token_file = EnvOrEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  if (e.token_file.empty()) e.token = EnvOrEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  return std::optional<ContainerEndpoint>(std::move(e));
}

ContainerSource::ContainerSource(ContainerEndpoint endpoint, http::HttpTransport& http)
    : endpoint_(std::move(endpoint)), http_(http) {}

std::string ContainerSource::Describe() const {
  return "the container credentials endpoint " + endpoint_.url;
}

Result<Expiring> ContainerSource::Fetch() {
  http::HttpRequest request;
  request.url = endpoint_.url;
  request.timeout_ms = 5000;
  std::string token = endpoint_.token;
  if (!endpoint_.token_file.empty()) {
    std::ifstream in(endpoint_.token_file, std::ios::binary);
    if (!in) {
      return Status::InvalidArgument("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " +
                                     endpoint_.token_file + " cannot be read");
    }
    std::ostringstream text;
    text << in.rdbuf();
    token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    return Status::InvalidArgument("the container authorization token holds a line break");
  }
  if (!token.empty()) request.headers.Set("Authorization", token);
  Result<Answer> answer = Exchange(http_, request);
  if (!answer.ok()) return answer.status().WithContext("asking " + Describe());
  if (answer->status != 200) {
    const std::string text = Describe() + " answered HTTP " + std::to_string(answer->status);
    if (answer->status >= 500) return Status::Unavailable(text);
    return Status::PermissionDenied(text);
  }
  Result<Expiring> parsed = ParseMetadataCredentials(answer->body);
  if (!parsed.ok()) return parsed.status().WithContext("reading " + Describe());
  return parsed;
}

ImdsSource::ImdsSource(ImdsOptions options, http::HttpTransport& http)
    : options_(std::move(options)),
      http_(http),
      clock_(ClockOr(options_.clock)) {
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/') {
    options_.endpoint.pop_back();
  }
}

std::string ImdsSource::Describe() const {
  return "the EC2 instance metadata service " + options_.endpoint;
}

Status ImdsSource::TakeToken() {
  http::HttpRequest request;
  request.method = "PUT";
  request.url = options_.endpoint + "/latest/api/token";
  request.timeout_ms = options_.timeout_ms;
  request.headers.Set("x-aws-ec2-metadata-token-ttl-seconds", std::to_string(kTokenTtlSeconds));
  Result<Answer> answer = Exchange(http_, request);
  if (!answer.ok()) return answer.status().WithContext("asking " + Describe() + " for a token");
  if (answer->status == 404 || answer->status == 405) {
    v1_ = true;  // an IMDSv1-only service (or a proxy that does not pass PUTs)
    token_.clear();
    return Status::Ok();
  }
  if (answer->status != 200 || answer->body.empty()) {
    const std::string text =
        Describe() + " refused a session token: HTTP " + std::to_string(answer->status);
    return answer->status >= 500 ? Status::Unavailable(text) : Status::PermissionDenied(text);
  }
  token_ = answer->body;
  // renewed a minute before the service forgets it
  token_until_ = clock_.Now() + std::chrono::seconds(kTokenTtlSeconds - 60);
  return Status::Ok();
}

Result<std::string> ImdsSource::Get(const std::string& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!v1_ && (token_.empty() || clock_.Now() >= token_until_)) {
      FERRY_RETURN_IF_ERROR(TakeToken());
    }
    http::HttpRequest request;
    request.url = options_.endpoint + path;
    request.timeout_ms = options_.timeout_ms;
    if (!token_.empty()) request.headers.Set("x-aws-ec2-metadata-token", token_);
    Result<Answer> answer = Exchange(http_, request);
    if (!answer.ok()) return answer.status().WithContext("asking " + Describe());
    if (answer->status == 401 && attempt == 0 && !v1_) {
      token_.clear();  // expired or the service restarted: one new token
      continue;
    }
    if (answer->status == 404) {
      return Status::NotFound(Describe() + " has no IAM role for this instance (HTTP 404 for " +
                              path + ")");
    }
    if (answer->status != 200) {
      const std::string text =
          Describe() + " answered HTTP " + std::to_string(answer->status) + " for " + path;
      return answer->status >= 500 ? Status::Unavailable(text) : Status::PermissionDenied(text);
    }
    return std::move(answer->body);
  }
  return Status::PermissionDenied(Describe() + " refused its own token twice");
}

Result<Expiring> ImdsSource::Fetch() {
  std::lock_guard lock(mu_);
  constexpr const char* kRoles = "/latest/meta-data/iam/security-credentials/";
  if (role_.empty()) {
    FERRY_ASSIGN_OR_RETURN(std::string roles, Get(kRoles));
    const size_t end = roles.find_first_of("\r\n");
    role_ = roles.substr(0, end);
    if (role_.empty()) return Status::NotFound(Describe() + " lists no IAM role");
  }
  Result<std::string> doc = Get(kRoles + role_);
  if (!doc.ok() && doc.status().code() == ErrorCode::kNotFound) {
    role_.clear();  // the instance profile changed: look the role up again next time
  }
  if (!doc.ok()) return doc.status();
  Result<Expiring> parsed = ParseMetadataCredentials(*doc);
  if (!parsed.ok()) return parsed.status().WithContext("reading " + Describe());
  return parsed;
}

}  // namespace ferry::credentials
