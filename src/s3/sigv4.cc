#include "s3/sigv4.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "s3/time_format.h"
#include "s3/uri.h"

namespace ferry::s3 {
namespace sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

void AppendLower(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
}

bool IsUnsignedHeader(std::string_view lower_name) {
  static constexpr std::string_view kSkip[] = {
      "authorization", "content-length",    "expect", "user-agent",
      "connection",    "transfer-encoding", "accept", "x-amzn-trace-id"};
  return std::find(std::begin(kSkip), std::end(kSkip), lower_name) != std::end(kSkip);
}

// Trims the value and collapses runs of spaces into one (SigV4 "Trimall").
void AppendTrimmed(std::string& out, std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  bool in_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
}

// The path part of an absolute URL ("/" when empty) and the raw query (without '?').
std::pair<std::string_view, std::string_view> SplitUrl(std::string_view url) {
  size_t start = 0;
  if (const size_t scheme = url.find("://"); scheme != std::string_view::npos) {
    start = url.find('/', scheme + 3);
    if (start == std::string_view::npos) start = url.size();
  }
  const size_t q = url.find('?', start);
  std::string_view path = url.substr(start, q == std::string_view::npos ? url.npos : q - start);
  std::string_view query = q == std::string_view::npos ? std::string_view() : url.substr(q + 1);
  return {path, query};
}

// RFC 3986 remove_dot_segments plus collapsing of empty segments; keeps a trailing slash.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view seg = path.substr(pos, next - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    pos = next + 1;
  }
  const bool trailing_slash =
      !path.empty() && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/..")) &&
      !segments.empty();
  std::string out;
  for (std::string_view seg : segments) out.append("/").append(seg);
  if (out.empty() || trailing_slash) out.push_back('/');
  return out;
}

// Appends the canonical URI: the path as sent (S3), or normalized and encoded once more.
void AppendCanonicalUri(std::string& out, std::string_view path, bool double_encode_path) {
  if (!double_encode_path) {
    out.append(path.empty() ? std::string_view("/") : path);
    return;
  }
  out.append(UriEncode(NormalizePath(path), /*keep_slash=*/true));
}

std::string CanonicalQuery(std::string_view query) {
  if (query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view param = query.substr(pos, amp - pos);
    if (!param.empty()) {
      const size_t eq = param.find('=');
      std::string_view name = param.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
      // Decode then encode: a URL built by BuildUrl is unchanged, a raw one gets encoded.
      params.emplace_back(UriEncode(UriDecode(name)), UriEncode(UriDecode(value)));
    }
    pos = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

}  // namespace

std::string_view UrlAuthority(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const size_t start = scheme + 3;
  const size_t end = url.find_first_of("/?#", start);
  return url.substr(start, end == std::string_view::npos ? url.npos : end - start);
}

CanonicalRequest BuildCanonicalRequest(const http::HttpRequest& request,
                                       std::string_view payload_sha256_hex,
                                       bool double_encode_path) {
  const auto [path, query] = SplitUrl(request.url);

  // Lower-cased names, sorted; values of repeated names joined by ',' in their original order.
  // The names are written into one buffer, sized first so that the views into it stay valid:
  // this runs for every request, and a name of 16 characters or more (x-amz-content-sha256)
  // would cost an allocation of its own.
  const auto& entries = request.headers.entries();
  size_t names_size = 0;
  for (const auto& entry : entries) names_size += entry.first.size();
  std::string names;
  names.reserve(names_size);
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  headers.reserve(entries.size());
  for (const auto& [name, value] : entries) {
    const size_t at = names.size();
    AppendLower(names, name);
    const std::string_view lower = std::string_view(names).substr(at);
    if (IsUnsignedHeader(lower)) {
      names.resize(at);
    } else {
      headers.emplace_back(lower, value);
    }
  }
  // Stable insertion sort: a request has about ten headers, for which std::stable_sort would
  // allocate a buffer on every request.
  for (size_t i = 1; i < headers.size(); ++i) {
    for (size_t j = i; j > 0 && headers[j].first < headers[j - 1].first; --j) {
      std::swap(headers[j], headers[j - 1]);
    }
  }

  CanonicalRequest out;
  std::string& t = out.text;
  t.reserve(256 + request.url.size() * 2 + names_size * 2);
  out.signed_headers.reserve(names_size + headers.size());
  t.append(request.method).append("\n");
  AppendCanonicalUri(t, path, double_encode_path);
  t.append("\n");
  t.append(CanonicalQuery(query)).append("\n");
  for (size_t i = 0; i < headers.size(); ++i) {
    const bool continues = i > 0 && headers[i].first == headers[i - 1].first;
    if (continues) {
      t.push_back(',');
    } else {
      if (i > 0) t.push_back('\n');
      t.append(headers[i].first).push_back(':');
      if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
      out.signed_headers.append(headers[i].first);
    }
    AppendTrimmed(t, headers[i].second);
  }
  if (!headers.empty()) t.push_back('\n');
  t.append("\n").append(out.signed_headers).append("\n").append(payload_sha256_hex);
  return out;
}

std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service) {
  std::string s;
  s.append(date).append("/").append(region).append("/").append(service).append("/aws4_request");
  return s;
}

std::string BuildStringToSign(std::string_view amz_date, std::string_view credential_scope,
                              std::string_view canonical_request) {
  std::string s;
  s.reserve(160);
  s.append(kAlgorithm).append("\n").append(amz_date).append("\n").append(credential_scope);
  s.append("\n").append(checksum::Sha256Hex(canonical_request));
  return s;
}

checksum::Sha256Digest DeriveSigningKey(std::string_view secret_access_key, std::string_view date,
                                        std::string_view region, std::string_view service) {
  using checksum::AsBytes;
  const std::string k_secret = "AWS4" + std::string(secret_access_key);
  auto key = checksum::HmacSha256(AsBytes(k_secret), AsBytes(date));
  key = checksum::HmacSha256(std::as_bytes(std::span(key)), AsBytes(region));
  key = checksum::HmacSha256(std::as_bytes(std::span(key)), AsBytes(service));
  return checksum::HmacSha256(std::as_bytes(std::span(key)), AsBytes("aws4_request"));
}

std::string Signature(const checksum::Sha256Digest& signing_key, std::string_view string_to_sign) {
  return checksum::Hex(checksum::HmacSha256(std::as_bytes(std::span(signing_key)),
                                            checksum::AsBytes(string_to_sign)));
}

namespace {
thread_local uint64_t keys_derived_here = 0;
}  // namespace

uint64_t CachedSigningKeysDerived() { return keys_derived_here; }

const checksum::Sha256Digest& CachedSigningKey(std::string_view secret_access_key,
                                               std::string_view date, std::string_view region,
                                               std::string_view service) {
  // A few entries per thread: a worker thread signs for the two sides of a copy (two regions,
  // GET then PUT, so one entry would be derived again for every request), and a key changes
  // once a day (or when the credentials are refreshed: the secret is part of what is compared).
  struct Entry {
    bool valid = false;
    std::string secret, date, region, service;
    checksum::Sha256Digest key{};
  };
  constexpr size_t kEntries = 4;
  thread_local std::array<Entry, kEntries> entries;
  thread_local size_t next_victim = 0;
  for (Entry& e : entries) {
    if (e.valid && e.date == date && e.region == region && e.service == service &&
        e.secret == secret_access_key) {
      return e.key;
    }
  }
  Entry& entry = entries[next_victim];
  next_victim = (next_victim + 1) % kEntries;
  ++keys_derived_here;
  entry.key = DeriveSigningKey(secret_access_key, date, region, service);
  entry.secret.assign(secret_access_key);
  entry.date.assign(date);
  entry.region.assign(region);
  entry.service.assign(service);
  entry.valid = true;
  return entry.key;
}

}  // namespace sigv4

void SignV4(http::HttpRequest& request, std::string_view payload_sha256_hex,
            const Credentials& credentials, const SigningScope& scope,
            std::chrono::system_clock::time_point now) {
  if (request.headers.Find("host") == nullptr) {
    request.headers.Set("Host", sigv4::UrlAuthority(request.url));
  }
  const std::string amz_date = FormatAmzDate(now);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  request.headers.Set("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    request.headers.Set("x-amz-security-token", credentials.session_token);
  }
  const sigv4::CanonicalRequest canonical =
      sigv4::BuildCanonicalRequest(request, payload_sha256_hex, scope.double_encode_path);
  const std::string credential_scope = sigv4::CredentialScope(date, scope.region, scope.service);
  const std::string string_to_sign =
      sigv4::BuildStringToSign(amz_date, credential_scope, canonical.text);
  const checksum::Sha256Digest& key =
      sigv4::CachedSigningKey(credentials.secret_access_key, date, scope.region, scope.service);

  std::string authorization;
  authorization.reserve(200);
  authorization.append("AWS4-HMAC-SHA256 Credential=").append(credentials.access_key_id);
  authorization.append("/").append(credential_scope);
  authorization.append(", SignedHeaders=").append(canonical.signed_headers);
  authorization.append(", Signature=").append(sigv4::Signature(key, string_to_sign));
  request.headers.Set("Authorization", authorization);
}

}  // namespace ferry::s3
