#include "http/url.h"

#include <curl/curl.h>

#include <memory>
#include <string>

#include "http/curl_library.h"

namespace ferry::http {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// Why curl_url refused a URL, for a message (curl_url_strerror needs libcurl 7.80).
std::string UrlErrorText(CURLUcode rc) {
  switch (rc) {
    case CURLUE_BAD_PORT_NUMBER:
      return "its port is not a number from 0 to 65535";
    case CURLUE_UNSUPPORTED_SCHEME:
      return "its scheme is not one libcurl supports";
    case CURLUE_MALFORMED_INPUT:
      return "it is malformed (a space or a control character, or a bad host)";
    default:
      return "libcurl refuses it (URL error " + std::to_string(static_cast<int>(rc)) + ")";
  }
}

// One part of a parsed URL into `into`; false when the URL has no such part.
bool UrlPart(CURLU* u, CURLUPart part, std::string& into) {
  char* text = nullptr;
  if (curl_url_get(u, part, &text, 0) != CURLUE_OK || text == nullptr) return false;
  into = text;
  curl_free(text);
  return true;
}

}  // namespace

Result<UrlParts> ParseUrl(std::string_view url) {
  FERRY_RETURN_IF_ERROR(LoadCurl());
  std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
  if (u == nullptr) return Status::Internal("curl_url: out of memory");
  // no CURLU_DEFAULT_SCHEME / CURLU_GUESS_SCHEME: a URL without a scheme is refused
  const std::string text(url);
  if (const CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0);
      rc != CURLUE_OK) {
    return Status::InvalidArgument("not a URL: " + UrlErrorText(rc));
  }
  UrlParts parts;
  std::string ignored;
  UrlPart(u.get(), CURLUPART_SCHEME, parts.scheme);
  for (char& c : parts.scheme) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!UrlPart(u.get(), CURLUPART_HOST, parts.host) || parts.host.empty()) {
    return Status::InvalidArgument("not a URL: it has no host");
  }
  if (parts.host.size() >= 2 && parts.host.front() == '[' && parts.host.back() == ']') {
    parts.host = parts.host.substr(1, parts.host.size() - 2);
  }
  UrlPart(u.get(), CURLUPART_PORT, parts.port);
  if (!UrlPart(u.get(), CURLUPART_PATH, parts.path) || parts.path.empty()) parts.path = "/";
  parts.has_login = UrlPart(u.get(), CURLUPART_USER, ignored) ||
                    UrlPart(u.get(), CURLUPART_PASSWORD, ignored) ||
                    UrlPart(u.get(), CURLUPART_OPTIONS, ignored);
  return parts;
}

}  // namespace ferry::http
