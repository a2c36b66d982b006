// `ferry serve`'s listeners (listener.h).
#include "serve/daemon/listener.h"

#include <netinet/in.h>

#include <cstring>
#include <string_view>

#include "http/listen_address.h"
#include "obs/log.h"
#include "obs/metrics.h"

namespace ferry::serve::daemon {

// Whether `listen` binds a loopback address only (127.0.0.0/8, ::1): who reaches it is on
// this machine.
bool LoopbackOnly(const std::string& listen) {
  Result<http::ListenAddress> a = http::ParseListen(listen, "listen");
  if (!a.ok()) return false;
  if (a->ipv6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a->address);
    return std::memcmp(&in6->sin6_addr, &in6addr_loopback, sizeof(in6_addr)) == 0;
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(&a->address);
  return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
}

void AdminAccess::set(Rules r) {
  std::lock_guard lock(mu_);
  rules_ = std::move(r);
}

namespace {

// Compared in a time that does not depend on where they differ.
bool SameAdminToken(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::optional<http::ServerResponse> AdminAccess::Refusal(const http::ServerRequest& r,
                                                         bool on_admin) const {
  Rules now;
  {
    std::lock_guard lock(mu_);
    now = rules_;
  }
  if (!on_admin && now.admin_listener) return http::ServerResponse::Text(404, "not found\n");
  if (!on_admin && !now.public_loopback && now.token.empty()) {
    return http::ServerResponse::Text(
        403, r.path + " is not served on a listener other hosts reach: set [serve] "
                      "admin_listen (or --admin-listen), or admin_token_env\n");
  }
  if (now.token.empty()) return std::nullopt;
  const std::string header = r.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() > kBearer.size() && header.compare(0, kBearer.size(), kBearer) == 0 &&
      SameAdminToken(header.substr(kBearer.size()), now.token)) {
    return std::nullopt;
  }
  http::ServerResponse refused = http::ServerResponse::Text(401, "a token is required\n");
  refused.headers.emplace_back("WWW-Authenticate", "Bearer");
  return refused;
}

// The listener's settings from a plan (the command line's --listen wins).
http::ServerOptions ListenerOptions(const ServeSettings& a, const ServePlan& plan) {
  http::ServerOptions so;
  so.listen = a.listen.empty() ? plan.serve.listen : a.listen;
  so.option = a.listen.empty() ? "[serve] listen" : "--listen";
  so.tls = plan.tls;
  so.max_body = plan.serve.max_event_body;
  so.max_connections = 256;
  so.idle_seconds = 10;
  so.registry = &obs::DefaultRegistry();
  so.name = "serve";
  return so;
}

// The admin listener's settings (an empty `listen`: none): the command line's --admin-listen
// wins; the listener's TLS files; no body.
http::ServerOptions AdminListenerOptions(const ServeSettings& a, const ServePlan& plan) {
  http::ServerOptions so;
  so.listen = a.admin_listen.empty() ? plan.serve.admin_listen : a.admin_listen;
  so.option = a.admin_listen.empty() ? "[serve] admin_listen" : "--admin-listen";
  so.tls = plan.tls;
  so.max_body = 0;
  so.max_connections = 32;
  so.idle_seconds = 10;
  so.registry = &obs::DefaultRegistry();
  so.name = "serve_admin";
  return so;
}

AdminAccess::Rules AdminRules(const ServeSettings& a, const ServePlan& plan) {
  return {.token = plan.admin_token,
          .admin_listener = !AdminListenerOptions(a, plan).listen.empty(),
          .public_loopback = LoopbackOnly(ListenerOptions(a, plan).listen)};
}

// After a reload that checked: the listener started again with `next` when anything it was
// started with changed (the TLS files' text included). The old one stops first (its port is
// free for the new one); if the new one cannot start, the old settings are started again and
// the error logged. Errors: neither could start (nothing listens).
Status Relisten(Listener& l, http::ServerOptions next, const http::ServerHandler& handler) {
  Result<http::TlsPem> pem = http::ReadServerTls(next.tls);
  if (!pem.ok()) return Status::Ok();  // PlanServe checked them: changed since; keep serving
  if (next.listen == l.options.listen && next.max_body == l.options.max_body &&
      next.tls.cert_file == l.options.tls.cert_file &&
      next.tls.key_file == l.options.tls.key_file && pem->cert == l.pem.cert &&
      pem->key == l.pem.key) {
    return Status::Ok();
  }
  l.server.reset();
  Result<std::unique_ptr<http::HttpServer>> started = http::HttpServer::Start(next, handler);
  if (started.ok()) {
    l.server = std::move(*started);
    l.options = std::move(next);
    l.pem = std::move(*pem);
    obs::Log(obs::Level::kInfo, "listener started again on " + l.server->url() +
                                    (l.options.tls.cert_file.empty() ? "" : " (TLS files read again)"));
    return Status::Ok();
  }
  obs::Log(obs::Level::kError, "config reload: the listener could not start with the new "
                               "settings, the previous ones kept: " + started.status().message());
  Result<std::unique_ptr<http::HttpServer>> again = http::HttpServer::Start(l.options, handler);
  if (!again.ok()) return again.status().WithContext("the listener could not start again");
  l.server = std::move(*again);
  return Status::Ok();
}

// Relisten for the admin listener, which a reload may also start (admin_listen set now) or
// stop (unset now).
Status RelistenAdmin(Listener& l, http::ServerOptions next, const http::ServerHandler& handler) {
  if (next.listen.empty()) {
    if (l.server) obs::Log(obs::Level::kInfo, "the admin listener stopped (admin_listen unset)");
    l.server.reset();
    l.options = std::move(next);
    return Status::Ok();
  }
  if (l.server) return Relisten(l, std::move(next), handler);
  Result<http::TlsPem> pem = http::ReadServerTls(next.tls);
  if (!pem.ok()) return Status::Ok();  // PlanServe checked them: changed since
  Result<std::unique_ptr<http::HttpServer>> started = http::HttpServer::Start(next, handler);
  if (!started.ok()) {
    obs::Log(obs::Level::kError, "config reload: the admin listener could not start: " +
                                     started.status().message());
    return Status::Ok();  // the admin paths stay refused on the listener; serving goes on
  }
  l.server = std::move(*started);
  l.options = std::move(next);
  l.pem = std::move(*pem);
  obs::Log(obs::Level::kInfo, "admin listener started on " + l.server->url());
  return Status::Ok();
}

}  // namespace ferry::serve::daemon
