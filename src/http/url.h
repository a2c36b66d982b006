// ParseUrl: an absolute URL read as libcurl reads it (curl_url, the parser behind
// CURLOPT_URL), for checks that must hold for the request the transport then sends: a check on
// the host of a hand-split URL and curl's idea of the host can differ ("http://127.0.0.1@evil/"
// goes to evil). libcurl normalises on the way: the scheme in lower case, IPv4 addresses written
// in other forms ("127.1", "0x7f.0.0.1", "2130706433") as dotted quads, IPv6 addresses in their
// shortest form, percent-encoded host names decoded.
//
// Loads libcurl (curl_library.h) on first use. Pure otherwise; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::http {

struct UrlParts {
  std::string scheme;  // lower case: "http", "https", ...
  std::string host;    // as curl connects to it; an IPv6 address without its brackets
  std::string port;    // "" when the URL names none
  std::string path;    // "/" at least
  // A user name, password or login options before '@' (even empty ones: "http://@h/").
  bool has_login = false;
};

// kInvalidArgument when libcurl refuses the text as a URL (no scheme, a space, a port out of
// range...): the message gives curl's reason, never the URL (it may hold a password);
// kNotSupported when libcurl cannot be loaded.
Result<UrlParts> ParseUrl(std::string_view url);

}  // namespace ferry::http
