#include "http/curl_verbose.h"

#include <cstdio>
#include <string>

namespace ferry::http::internal {
namespace {

bool IsSecret(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower == "authorization" || lower == "proxy-authorization" ||
         lower == "x-amz-security-token" || lower == "x-amz-server-side-encryption-customer-key" ||
         lower == "x-amz-copy-source-server-side-encryption-customer-key" || lower == "cookie";
}

}  // namespace

std::string RedactHeaders(std::string_view block) {
  std::string out;
  out.reserve(block.size());
  while (!block.empty()) {
    size_t end = block.find('\n');
    std::string_view line = block.substr(0, end == std::string_view::npos ? block.size() : end + 1);
    block.remove_prefix(line.size());
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && IsSecret(line.substr(0, colon))) {
      out.append(line.substr(0, colon + 1));
      out.append(" <redacted>");
      out.append(line.ends_with("\r\n") ? "\r\n" : (line.ends_with('\n') ? "\n" : ""));
    } else {
      out.append(line);
    }
  }
  return out;
}

int DebugCallback(CURL* handle, curl_infotype type, char* data, size_t size, void* user) {
  (void)handle, (void)user;
  const std::string_view text(data, size);
  switch (type) {
    case CURLINFO_TEXT:
      std::fprintf(stderr, "* %.*s", static_cast<int>(size), data);
      break;
    case CURLINFO_HEADER_OUT:
    case CURLINFO_HEADER_IN: {
      const std::string redacted = RedactHeaders(text);
      std::fprintf(stderr, "%s %s", type == CURLINFO_HEADER_OUT ? ">" : "<", redacted.c_str());
      break;
    }
    case CURLINFO_DATA_OUT:
    case CURLINFO_DATA_IN:
      std::fprintf(stderr, "%s [%zu bytes of body]\n", type == CURLINFO_DATA_OUT ? ">" : "<",
                   size);
      break;
    default:
      break;
  }
  return 0;
}

}  // namespace ferry::http::internal
