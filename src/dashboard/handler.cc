// dashboard::Handle and ProcessStatusJson (dashboard.h).
#include <ctime>

#include <unistd.h>

#include "dashboard/dashboard.h"

namespace ferry::dashboard {

std::optional<http::ServerResponse> Handle(const http::ServerRequest& r,
                                           const obs::Registry& registry) {
  const bool api = r.path == "/api/metrics";
  const Asset* asset = nullptr;
  if (!api) {
    for (const Asset& a : Assets()) {
      if (a.path == r.path) asset = &a;
    }
    if (asset == nullptr) return std::nullopt;
  }
  if (r.method != "GET" && r.method != "HEAD") {
    http::ServerResponse refused = http::ServerResponse::Text(405, "GET only\n");
    refused.headers.emplace_back("Allow", "GET, HEAD");
    return refused;
  }
  if (api) {
    http::ServerResponse reply = http::ServerResponse::Json(200, registry.RenderJson());
    reply.headers.emplace_back("Cache-Control", "no-store");
    return reply;
  }
  http::ServerResponse reply;
  reply.headers.emplace_back("ETag", std::string(asset->etag));
  reply.headers.emplace_back("Cache-Control", "no-cache");
  if (r.Header("if-none-match") == asset->etag) {
    reply.code = 304;
    return reply;
  }
  reply.code = 200;
  reply.content_type = std::string(asset->content_type);
  reply.body = std::string(asset->bytes);
  return reply;
}

std::string ProcessStatusJson(std::string_view command, int64_t started_unix_s) {
  char when[32] = "";
  const std::time_t t = static_cast<std::time_t>(started_unix_s);
  std::tm tm{};
  if (gmtime_r(&t, &tm) != nullptr) std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string out = "{\"store\":false,\"command\":\"";
  for (char c : command) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  out.append("\",\"pid\":").append(std::to_string(::getpid()));
  out.append(",\"started\":\"").append(when).append("\"}\n");
  return out;
}

}  // namespace ferry::dashboard
