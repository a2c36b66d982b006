#include "http/throttle.h"

#include <string>

namespace ferry::http {

std::string_view EndpointOf(std::string_view url, std::string& storage) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  // a port is what follows the last ':' outside an IPv6 literal's brackets
  const size_t colon = rest.rfind(':');
  const size_t bracket = rest.rfind(']');
  const bool has_port = colon != std::string_view::npos &&
                        (bracket == std::string_view::npos || colon > bracket);
  if (has_port) return rest;
  storage.assign(rest);
  storage += scheme == "https" ? ":443" : ":80";
  return storage;
}

}  // namespace ferry::http
