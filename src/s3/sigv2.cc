#include "s3/sigv2.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include "checksum/checksum.h"
#include "s3/sigv4.h"
#include "s3/uri.h"

namespace ferry::s3 {
namespace {

// The query parameters S3's SigV2 signs (its sub-resources and response overrides).
constexpr std::array<std::string_view, 34> kSubresources = {
    "acl", "cors", "delete", "legal-hold", "lifecycle", "location", "logging", "notification",
    "object-lock", "partNumber", "policy", "replication", "requestPayment", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "response-content-language",
    "response-content-type", "response-expires", "restore", "retention", "tagging", "torrent",
    "uploadId", "uploads", "versionId", "versioning", "versions", "website", "encryption",
    "ownershipControls", "publicAccessBlock", "accelerate", "inventory"};

std::string_view TrimHeaderValue(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string LowerHeaderName(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string HttpDate(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day_point = floor<days>(t);
  const year_month_day ymd{day_point};
  const hh_mm_ss hms{floor<seconds>(t - day_point)};
  const weekday wd{day_point};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT", kDays[wd.c_encoding()],
                static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace

std::string SigV2StringToSign(const http::HttpRequest& request, std::string_view bucket,
                              bool virtual_host) {
  std::string out = request.method + "\n";
  out += request.headers.Get("Content-MD5") + "\n";
  out += request.headers.Get("Content-Type") + "\n";
  out += request.headers.Find("x-amz-date") != nullptr ? std::string() :
                                                         request.headers.Get("Date");
  out += "\n";
  std::map<std::string, std::string> amz;
  for (const auto& [name, value] : request.headers.entries()) {
    std::string lower = LowerHeaderName(name);
    if (!lower.starts_with("x-amz-")) continue;
    std::string& v = amz[lower];
    if (!v.empty()) v += ",";
    v += TrimHeaderValue(value);
  }
  for (const auto& [name, value] : amz) out += name + ":" + value + "\n";
  // the resource: the URL's path (path style: it starts with the bucket) and the signed
  // sub-resources of its query
  std::string_view url = request.url;
  const size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  const size_t slash = rest.find('/');
  std::string_view path_and_query = slash == std::string_view::npos ? "/" : rest.substr(slash);
  const size_t q = path_and_query.find('?');
  const std::string_view path = path_and_query.substr(0, q);
  if (virtual_host && !bucket.empty()) out += "/" + std::string(bucket);
  out += path;
  if (q != std::string_view::npos) {
    std::vector<std::pair<std::string, std::string>> signed_params;
    std::string_view query = path_and_query.substr(q + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      const size_t eq = pair.find('=');
      std::string name = UriDecode(pair.substr(0, eq));
      if (std::find(kSubresources.begin(), kSubresources.end(), name) == kSubresources.end()) {
        continue;
      }
      signed_params.emplace_back(std::move(name), eq == std::string_view::npos
                                                      ? std::string("\x01")
                                                      : UriDecode(pair.substr(eq + 1)));
    }
    std::sort(signed_params.begin(), signed_params.end());
    char sep = '?';
    for (const auto& [name, value] : signed_params) {
      out += sep;
      out += name;
      if (value != "\x01") out += "=" + value;
      sep = '&';
    }
  }
  return out;
}

void SignV2(http::HttpRequest& request, std::string_view bucket, bool virtual_host,
            const Credentials& credentials, std::chrono::system_clock::time_point now) {
  request.headers.Set("x-amz-date", HttpDate(now));
  if (!credentials.session_token.empty()) {
    request.headers.Set("x-amz-security-token", credentials.session_token);
  }
  const std::string to_sign = SigV2StringToSign(request, bucket, virtual_host);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), credentials.secret_access_key.data(),
       static_cast<int>(credentials.secret_access_key.size()),
       reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), mac, &len);
  request.headers.Set("Authorization",
                      "AWS " + credentials.access_key_id + ":" +
                          checksum::Base64(std::span<const uint8_t>(mac, len)));
}

}  // namespace ferry::s3
