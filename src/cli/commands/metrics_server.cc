// MetricsServer (metrics.h): GET /metrics, /healthz (200 while the process serves) and the dashboard (dashboard/dashboard.h: /,
// /assets/*, /api/metrics; /api/status says there is no store) on an http::HttpServer. A
// scraper needs one connection: idle or slow ones must never take the file descriptors and
// memory the run's own requests need (without a cap, a few hundred idle connections failed
// every job with "Too many open files").
#include <chrono>

#include "cli/commands/metrics.h"
#include "dashboard/dashboard.h"
#include "http/server.h"
#include "obs/log.h"

namespace ferry::cli {

struct MetricsServer::Impl {
  std::unique_ptr<http::HttpServer> server;
};

MetricsServer::MetricsServer(obs::Registry& registry)
    : impl_(std::make_unique<Impl>()), registry_(&registry) {}

MetricsServer::~MetricsServer() = default;

Status MetricsServer::Start(const std::string& listen, const std::string& command,
                            const http::TlsFiles& tls) {
  FERRY_RETURN_IF_ERROR(http::ReadServerTls(tls).status());
  obs::Registry* registry = registry_;
  const int64_t started = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  http::ServerOptions options;
  options.listen = listen;
  options.option = "--metrics-listen";
  options.tls = tls;
  options.max_body = 0;
  options.max_connections = 32;
  options.idle_seconds = 10;
  options.registry = registry;
  options.name = "metrics";
  FERRY_ASSIGN_OR_RETURN(
      impl_->server,
      http::HttpServer::Start(
          options,
          [registry, command, started](const http::ServerRequest& r) -> http::ServerResponse {
            if (auto page = dashboard::Handle(r, *registry)) return *std::move(page);
            if (r.path == "/api/status") {
              return http::ServerResponse::Json(200,
                                                dashboard::ProcessStatusJson(command, started));
            }
            // a liveness/readiness probe (deploy/kubernetes): the process serves
            if (r.path == "/healthz") return http::ServerResponse::Text(200, "ok\n");
            if (r.path != "/metrics") return http::ServerResponse::Text(404, "not found\n");
            if (r.method != "GET" && r.method != "HEAD") {
              return http::ServerResponse::Text(405, "GET only\n");
            }
            http::ServerResponse reply =
                http::ServerResponse::Text(200, registry->RenderPrometheus());
            reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
            return reply;
          }));
  port_ = impl_->server->port();
  obs::Log(obs::Level::kInfo, "serving metrics", {{"url", impl_->server->url() + "/metrics"}});
  return Status::Ok();
}

}  // namespace ferry::cli
