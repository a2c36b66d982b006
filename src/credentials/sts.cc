#include "credentials/sts.h"

#include <fstream>
#include <sstream>

#include <pugixml.hpp>

#include "checksum/checksum.h"
#include "s3/errors.h"
#include "s3/sigv4.h"
#include "s3/time_format.h"
#include "s3/uri.h"

namespace ferry::credentials {
namespace {

constexpr int kAttempts = 3;

void Field(std::string& form, std::string_view name, std::string_view value) {
  form += '&';
  form += name;
  form += '=';
  form += s3::UriEncode(value);
}

std::string CommonForm(std::string_view action, const AssumeRoleRequest& request,
                       std::string_view session_name) {
  std::string form = "Action=";
  form += action;
  form += "&Version=2011-06-15";
  Field(form, "RoleArn", request.role_arn);
  Field(form, "RoleSessionName", session_name);
  if (request.duration_seconds > 0) {
    Field(form, "DurationSeconds", std::to_string(request.duration_seconds));
  }
  return form;
}

// The first element named `name` under `node`, at any depth.
pugi::xml_node Find(const pugi::xml_node& node, const char* name) {
  return node.find_node([name](const pugi::xml_node& n) {
    return std::string_view(n.name()) == name;
  });
}

}  // namespace

std::string AwsStsEndpoint(std::string_view region) {
  const std::string r = region.empty() ? std::string("us-east-1") : std::string(region);
  return "https://sts." + r + (r.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com");
}

std::string BuildAssumeRoleForm(const AssumeRoleRequest& request, std::string_view session_name) {
  std::string form = CommonForm("AssumeRole", request, session_name);
  if (!request.external_id.empty()) Field(form, "ExternalId", request.external_id);
  return form;
}

std::string BuildWebIdentityForm(const AssumeRoleRequest& request, std::string_view session_name,
                                 std::string_view token) {
  std::string form = CommonForm("AssumeRoleWithWebIdentity", request, session_name);
  Field(form, "WebIdentityToken", token);
  return form;
}

Result<Expiring> ParseStsCredentials(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8)) {
    return Status::InvalidArgument("STS reply is not XML");
  }
  const pugi::xml_node creds = Find(doc, "Credentials");
  if (!creds) return Status::InvalidArgument("STS reply has no <Credentials>");
  Expiring out;
  out.credentials.access_key_id = creds.child("AccessKeyId").text().get();
  out.credentials.secret_access_key = creds.child("SecretAccessKey").text().get();
  out.credentials.session_token = creds.child("SessionToken").text().get();
  const std::string expiration = creds.child("Expiration").text().get();
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("STS reply's <Credentials> lacks AccessKeyId or "
                                   "SecretAccessKey");
  }
  if (expiration.empty()) {
    return Status::InvalidArgument("STS reply's <Credentials> has no Expiration");
  }
  out.expiration = s3::ParseIso8601(expiration);
  if (!out.expiration) {
    return Status::InvalidArgument("STS reply's Expiration '" +
                                   s3::QuotableServerMessage(expiration, 40) +
                                   "' is not an ISO 8601 time");
  }
  return out;
}

Status StsFailure(int http_status, std::string_view body, const std::string& what) {
  std::string code, message;
  pugi::xml_document doc;
  if (doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8)) {
    if (const pugi::xml_node error = Find(doc, "Error")) {
      code = error.child("Code").text().get();
      message = error.child("Message").text().get();
    }
  }
  std::string text = what + ": HTTP " + std::to_string(http_status);
  if (!code.empty()) text += " " + s3::QuotableServerMessage(code, 80);
  if (!message.empty()) text += ": " + s3::QuotableServerMessage(message);
  if (http_status >= 500 || code == "Throttling" || code == "ThrottlingException" ||
      code == "IDPCommunicationError" || code == "ServiceUnavailable") {
    return Status::Unavailable(text);
  }
  if (http_status == 403 || code == "AccessDenied" || code == "ExpiredTokenException" ||
      code == "InvalidIdentityToken" || code == "InvalidClientTokenId" ||
      code == "SignatureDoesNotMatch") {
    return Status::PermissionDenied(text);
  }
  if (http_status == 404 || code == "NoSuchEntity") return Status::NotFound(text);
  return Status::InvalidArgument(text);
}

StsClient::StsClient(StsEndpoint endpoint, http::HttpTransport& http, Clock& clock)
    : endpoint_(std::move(endpoint)), http_(http), clock_(clock) {
  while (!endpoint_.url.empty() && endpoint_.url.back() == '/') endpoint_.url.pop_back();
}

std::string StsClient::SessionName(const AssumeRoleRequest& request) const {
  if (!request.session_name.empty()) return request.session_name;
  return "ferry-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                       clock_.Now().time_since_epoch())
                                       .count());
}

Result<Expiring> StsClient::Call(const std::string& form, const s3::Credentials* signer,
                                 const std::string& what) {
  Status last;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    http::HttpRequest request;
    request.method = "POST";
    request.url = endpoint_.url + "/";
    request.body = checksum::AsBytes(form);
    request.tls = endpoint_.tls ? &*endpoint_.tls : nullptr;
    request.timeout_ms = 30000;
    request.headers.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    if (signer != nullptr) {
      s3::SigningScope scope;
      scope.region = endpoint_.region;
      scope.service = "sts";
      scope.double_encode_path = true;
      s3::SignV4(request, checksum::Sha256Hex(form), *signer, scope, clock_.Now());
    }
    http::StringSink sink(1 << 20);
    Result<http::HttpResponse> sent = http_.Send(request, sink, {});
    if (sent.ok() && sent->status_code >= 200 && sent->status_code < 300) {
      Result<Expiring> parsed = ParseStsCredentials(sink.body());
      if (!parsed.ok()) return parsed.status().WithContext(what);
      return parsed;
    }
    last = sent.ok() ? StsFailure(sent->status_code, sink.body(), what)
                     : sent.status().WithContext(what);
    if (last.code() != ErrorCode::kUnavailable || attempt == kAttempts) break;
    clock_.SleepFor(std::chrono::milliseconds(200 << attempt), {});
  }
  return last;
}

Result<Expiring> StsClient::AssumeRole(const AssumeRoleRequest& request,
                                       const s3::Credentials& signer) {
  return Call(BuildAssumeRoleForm(request, SessionName(request)), &signer,
              "assuming role " + request.role_arn + " at " + endpoint_.url);
}

Result<Expiring> StsClient::AssumeRoleWithWebIdentity(const AssumeRoleRequest& request,
                                                      std::string_view token) {
  return Call(BuildWebIdentityForm(request, SessionName(request), token), nullptr,
              "assuming role " + request.role_arn + " with a web identity at " + endpoint_.url);
}

AssumeRoleSource::AssumeRoleSource(std::shared_ptr<StsClient> sts, AssumeRoleRequest request,
                                   std::shared_ptr<s3::CredentialsProvider> base,
                                   std::string described_as)
    : sts_(std::move(sts)),
      request_(std::move(request)),
      base_(std::move(base)),
      described_as_(std::move(described_as)) {}

Result<Expiring> AssumeRoleSource::Fetch() {
  FERRY_ASSIGN_OR_RETURN(s3::Credentials signer, base_->Get());
  return sts_->AssumeRole(request_, signer);
}

WebIdentitySource::WebIdentitySource(std::shared_ptr<StsClient> sts, AssumeRoleRequest request,
                                     std::string token_file)
    : sts_(std::move(sts)), request_(std::move(request)), token_file_(std::move(token_file)) {}

std::string WebIdentitySource::Describe() const {
  return "role " + request_.role_arn + " (web identity token " + token_file_ + ")";
}

Result<Expiring> WebIdentitySource::Fetch() {
  std::ifstream in(token_file_, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("web identity token file " + token_file_ +
                                   " cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) {
    return Status::InvalidArgument("web identity token file " + token_file_ + " is empty");
  }
  return sts_->AssumeRoleWithWebIdentity(request_, token);
}

}  // namespace ferry::credentials
