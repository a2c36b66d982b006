#include "http/curl_verbose.h"

#include <algorithm>
#include <string>

#include "obs/log.h"

namespace ferry::http::internal {
namespace {

std::string VerboseLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// A header whose value is a credential: those ferry sends or receives by name (request
// signatures, session tokens, the SSO portal's and IMDSv2's tokens, SSE-C keys, cookies,
// Swift/Keystone tokens), and by shape any other that names a token, secret, password or key,
// so that a header added later is hidden by default. Names compare in any case (HTTP/2 sends
// them in lower case, HTTP/1.1 servers echo them as they like).
bool IsSecretHeader(std::string_view name) {
  static constexpr std::string_view kSecret[] = {
      "authorization",
      "proxy-authorization",
      "cookie",
      "set-cookie",
      "x-amz-security-token",
      "x-amz-s3session-token",
      "x-amz-sso_bearer_token",
      "x-aws-ec2-metadata-token",
      "x-amz-server-side-encryption-customer-key",
      "x-amz-copy-source-server-side-encryption-customer-key",
      "x-auth-token",
      "x-storage-token",
      "x-subject-token",
      "x-api-key"};
  const std::string lower = VerboseLower(name);
  for (std::string_view s : kSecret) {
    if (lower == s) return true;
  }
  // a token's lifetime is not the token ("x-aws-ec2-metadata-token-ttl-seconds")
  if (lower.find("token") != std::string::npos) return !lower.ends_with("-ttl-seconds");
  return lower.find("secret") != std::string::npos ||
         lower.find("password") != std::string::npos || lower.ends_with("-key");
}

// Query parameters whose values say what a request was about and never carry a credential:
// S3's listing, multipart, version and response parameters, a presigned URL's algorithm, date
// and lifetime, the SSO portal's account and role, an SNS confirmation's action and topic.
// Every other parameter's value is hidden (a webhook's token can have any name).
bool IsHarmlessQueryParameter(std::string_view name) {
  static constexpr std::string_view kHarmless[] = {
      "prefix",         "delimiter",         "marker",              "max-keys",
      "list-type",      "continuation-token", "start-after",        "fetch-owner",
      "encoding-type",  "key-marker",        "version-id-marker",   "upload-id-marker",
      "max-uploads",    "max-parts",         "part-number-marker",  "uploadid",
      "partnumber",     "versionid",         "x-id",                "x-amz-algorithm",
      "x-amz-date",     "x-amz-expires",     "x-amz-signedheaders", "account_id",
      "role_name",      "action",            "version",             "topicarn"};
  const std::string lower = VerboseLower(name);
  if (lower.starts_with("response-")) return true;  // response-content-type=...
  for (std::string_view h : kHarmless) {
    if (lower == h) return true;
  }
  return false;
}

// `target` (a request line's path or absolute URL) with the value of every query parameter
// not known to be harmless replaced by "<redacted>". A parameter without a value (a
// subresource: "?tagging", "?uploads") is kept as it is.
std::string RedactRequestTarget(std::string_view target) {
  const size_t query = target.find('?');
  if (query == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, query + 1));
  std::string_view rest = target.substr(query + 1);
  const size_t hash = rest.find('#');
  const std::string_view fragment =
      hash == std::string_view::npos ? std::string_view() : rest.substr(hash);
  rest = rest.substr(0, hash);
  bool first = true;
  while (true) {
    const size_t amp = rest.find('&');
    const std::string_view param = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos || eq + 1 == param.size() ||
        IsHarmlessQueryParameter(param.substr(0, eq))) {
      out.append(param);
    } else {
      out.append(param.substr(0, eq + 1)).append("<redacted>");
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  if (!fragment.empty()) out.append("#<redacted>");  // never sent, but what follows '#' too
  return out;
}

// A request line: "METHOD SP target SP HTTP/version", METHOD in capitals (a header line's
// name ends in ':' and holds no space before it, so it never looks like one).
bool IsRequestLine(std::string_view line, std::string_view& method, std::string_view& target,
                   std::string_view& rest) {
  const size_t sp = line.find(' ');
  if (sp == 0 || sp == std::string_view::npos) return false;
  for (char c : line.substr(0, sp)) {
    if (c < 'A' || c > 'Z') return false;
  }
  const size_t sp2 = line.find(' ', sp + 1);
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/")) return false;
  method = line.substr(0, sp);
  target = line.substr(sp + 1, sp2 - sp - 1);
  rest = line.substr(sp2);
  return true;
}

}  // namespace

std::string RedactUrlLogins(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t from = 0;
  for (size_t at = text.find("://"); at != std::string_view::npos;
       at = text.find("://", from)) {
    const size_t authority = at + 3;
    const size_t end = std::min(text.size(), text.find_first_of("/?#'\" \t\r\n<>", authority));
    const std::string_view host_part = text.substr(authority, end - authority);
    const size_t login = host_part.rfind('@');
    out.append(text.substr(from, authority - from));
    if (login != std::string_view::npos) {
      out.append("<redacted>").append(host_part.substr(login));
    } else {
      out.append(host_part);
    }
    from = end;
  }
  out.append(text.substr(from));
  return out;
}

std::string RedactHeaders(std::string_view block) {
  std::string out;
  out.reserve(block.size());
  while (!block.empty()) {
    size_t end = block.find('\n');
    std::string_view line = block.substr(0, end == std::string_view::npos ? block.size() : end + 1);
    block.remove_prefix(line.size());
    const std::string_view eol =
        line.ends_with("\r\n") ? "\r\n" : (line.ends_with('\n') ? "\n" : "");
    const std::string_view content = line.substr(0, line.size() - eol.size());
    std::string_view method, target, rest;
    const size_t colon = content.find(':');
    if (IsRequestLine(content, method, target, rest)) {
      out.append(method).append(" ");
      out.append(RedactUrlLogins(RedactRequestTarget(target)));
      out.append(rest).append(eol);
    } else if (colon != std::string_view::npos && IsSecretHeader(content.substr(0, colon))) {
      out.append(content.substr(0, colon + 1));
      out.append(" <redacted>");
      out.append(eol);
    } else {
      out.append(RedactUrlLogins(content)).append(eol);
    }
  }
  return out;
}

std::vector<std::string> TraceLines(curl_infotype type, std::string_view data) {
  std::vector<std::string> out;
  auto add_lines = [&out](std::string_view prefix, std::string_view block) {
    while (!block.empty()) {
      const size_t end = block.find('\n');
      std::string_view line = block.substr(0, end);
      block.remove_prefix(end == std::string_view::npos ? block.size() : end + 1);
      while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
      if (!line.empty()) out.push_back(std::string(prefix) + std::string(line));
    }
  };
  switch (type) {
    case CURLINFO_TEXT:
      add_lines("* ", RedactUrlLogins(data));
      break;
    case CURLINFO_HEADER_OUT:
    case CURLINFO_HEADER_IN:
      add_lines(type == CURLINFO_HEADER_OUT ? "> " : "< ", RedactHeaders(data));
      break;
    case CURLINFO_DATA_OUT:
    case CURLINFO_DATA_IN:
      out.push_back(std::string(type == CURLINFO_DATA_OUT ? ">" : "<") + " [" +
                    std::to_string(data.size()) + " bytes of body]");
      break;
    default:
      break;
  }
  return out;
}

int DebugCallback(CURL* handle, curl_infotype type, char* data, size_t size, void* user) {
  (void)handle, (void)user;
  if (!obs::LogEnabled(obs::Level::kDebug)) return 0;
  for (const std::string& line : TraceLines(type, std::string_view(data, size))) {
    obs::Log(obs::Level::kDebug, line, {{"trace", "curl"}});
  }
  return 0;
}

}  // namespace ferry::http::internal
