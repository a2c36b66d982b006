#include "http/curl_verbose.h"

#include <string>

#include "obs/log.h"

namespace ferry::http::internal {
namespace {

bool IsSecret(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower == "authorization" || lower == "proxy-authorization" ||
         lower == "x-amz-security-token" || lower == "x-amz-s3session-token" ||
         lower == "x-amz-server-side-encryption-customer-key" ||
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
      add_lines("* ", data);
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
