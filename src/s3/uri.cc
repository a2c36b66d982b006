#include "s3/uri.h"

#include <algorithm>

namespace ferry::s3 {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool LooksLikeIpv4(std::string_view s) {
  int dots = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace

void AppendUriEncoded(std::string& out, std::string_view s, bool keep_slash) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  AppendUriEncoded(out, s, keep_slash);
  return out;
}

std::string UriDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

bool IsDnsCompatibleBucket(std::string_view b, bool https) {
  if (b.size() < 3 || b.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back())) return false;
  for (size_t i = 0; i < b.size(); ++i) {
    const char c = b[i];
    if (!alnum(c) && c != '-' && c != '.') return false;
    if (c == '.' && (https || b[i + 1] == '.' || b[i - 1] == '-' || b[i + 1] == '-')) return false;
  }
  return !LooksLikeIpv4(b);
}

std::string BuildUrl(std::string_view endpoint, Addressing addressing, std::string_view bucket,
                     std::string_view key, const QueryParams& query) {
  const size_t scheme_end = endpoint.find("://");
  const std::string_view scheme = scheme_end == std::string_view::npos
                                      ? std::string_view("https")
                                      : endpoint.substr(0, scheme_end);
  const std::string_view authority =
      scheme_end == std::string_view::npos ? endpoint : endpoint.substr(scheme_end + 3);
  const bool virtual_host = addressing == Addressing::kVirtualHost && !bucket.empty() &&
                            IsDnsCompatibleBucket(bucket, scheme == "https");
  std::string url;
  url.reserve(endpoint.size() + bucket.size() + key.size() * 3 / 2 + 64);
  url.append(scheme).append("://");
  if (virtual_host) url.append(bucket).append(".");
  url.append(authority);
  if (!virtual_host && !bucket.empty()) {
    url.push_back('/');
    AppendUriEncoded(url, bucket);
  }
  if (!key.empty() || virtual_host || bucket.empty()) url.push_back('/');
  AppendUriEncoded(url, key, /*keep_slash=*/true);

  if (!query.empty()) {
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(query.size());
    for (const auto& [name, value] : query) encoded.emplace_back(UriEncode(name), UriEncode(value));
    std::sort(encoded.begin(), encoded.end());
    char sep = '?';
    for (const auto& [name, value] : encoded) {
      url.push_back(sep);
      sep = '&';
      url.append(name);
      if (!value.empty()) url.append("=").append(value);
    }
  }
  return url;
}

std::string CopySource(std::string_view bucket, std::string_view key, std::string_view version_id) {
  std::string out = "/";
  AppendUriEncoded(out, bucket);
  out.push_back('/');
  AppendUriEncoded(out, key, /*keep_slash=*/true);
  if (!version_id.empty()) {
    out.append("?versionId=");
    AppendUriEncoded(out, version_id);
  }
  return out;
}

std::string DisplayName(std::string_view bucket, std::string_view key) {
  std::string out = "s3://";
  out.append(bucket);
  if (!key.empty()) out.append("/").append(key);
  return out;
}

}  // namespace ferry::s3
