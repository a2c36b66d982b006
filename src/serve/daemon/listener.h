// `ferry serve`'s listeners (daemon.cc): their settings from a plan, who may read the admin
// paths, and a listener started again after a reload when what it was started with changed.
//
// The admin paths — /metrics, /api/status (status.h) and the dashboard (dashboard/dashboard.h:
// /, /assets/*, /api/metrics) — tell failed keys, error texts and lease owners, so they are
// served (AdminAccess): on the admin listener when there is one (--admin-listen, [serve]
// admin_listen; 404 on the other), else on the listener while it is bound to loopback only
// (403 otherwise), and with [serve] admin_token_env only to `Authorization: Bearer <its value>`
// (401).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/status.h"
#include "http/server.h"
#include "http/server_tls.h"
#include "serve/daemon/daemon.h"
#include "serve/daemon/plan.h"

namespace ferry::serve::daemon {

// Whether `listen` binds a loopback address only (127.0.0.0/8, ::1): who reaches it is on
// this machine. False for an address that does not parse.
bool LoopbackOnly(const std::string& listen);

// Who may read the admin paths (/metrics, /api/status, the dashboard), from the plan served
// now: set at start and on each reload, read by the listeners' threads. Thread-safe.
class AdminAccess {
 public:
  struct Rules {
    std::string token;            // "": no token asked
    bool admin_listener = false;  // the admin paths are the admin listener's only
    bool public_loopback = true;  // the listener binds loopback only
  };
  void set(Rules r);
  // The refusal of an admin path's request `r` on the listener (`on_admin` false) or the admin
  // listener, or nullopt when it may be answered. The token is compared in a time that does not
  // depend on where it differs.
  std::optional<http::ServerResponse> Refusal(const http::ServerRequest& r, bool on_admin) const;

 private:
  mutable std::mutex mu_;
  Rules rules_;  // GUARDED_BY(mu_)
};

// The listener's settings from a plan (the command line's --listen wins).
http::ServerOptions ListenerOptions(const ServeSettings& a, const ServePlan& plan);
// The admin listener's settings (an empty `listen`: none): the command line's --admin-listen
// wins; the listener's TLS files; no body.
http::ServerOptions AdminListenerOptions(const ServeSettings& a, const ServePlan& plan);
// AdminAccess's rules for a plan.
AdminAccess::Rules AdminRules(const ServeSettings& a, const ServePlan& plan);

// A listener and what it was started with, so that a reload can tell whether it must start
// again: its address, body limit, TLS files and their text as read then.
struct Listener {
  std::unique_ptr<http::HttpServer> server;
  http::ServerOptions options;
  http::TlsPem pem;
};

// After a reload that checked: the listener started again with `next` when anything it was
// started with changed (the TLS files' text included). The old one stops first (its port is
// free for the new one); if the new one cannot start, the old settings are started again and
// the error logged. Errors: neither could start (nothing listens).
Status Relisten(Listener& l, http::ServerOptions next, const http::ServerHandler& handler);

// Relisten for the admin listener, which a reload may also start (admin_listen set now) or
// stop (unset now). One that cannot start is logged; the admin paths then stay refused on the
// listener.
Status RelistenAdmin(Listener& l, http::ServerOptions next, const http::ServerHandler& handler);

}  // namespace ferry::serve::daemon
