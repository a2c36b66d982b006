// HttpServer (server.h) over libmicrohttpd, loaded on first use (base/shared_library.h): a run
// that serves nothing never maps it nor GnuTLS behind it. The library runs in its "external"
// mode on one thread of the server's own: MHD_run_wait (the library's best poll of its sockets,
// accepting, reading, calling the handlers, closing idle connections) at most 250 ms at a time,
// then ConnectionGuard's sweep (connection_guard.h: the deadlines of trickling clients, on the
// options' Clock), so that one thread does what a polling thread and a watchdog did.
#include "http/server.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "base/shared_library.h"
#include "http/connection_guard.h"
#include "http/listen_address.h"

namespace ferry::http {
namespace {

// Every libmicrohttpd function ferry calls, typed from its own declarations.
#define FERRY_MHD_FUNCTIONS(X)       \
  X(MHD_start_daemon)                \
  X(MHD_stop_daemon)                 \
  X(MHD_get_daemon_info)             \
  X(MHD_run_wait)                    \
  X(MHD_get_connection_info)         \
  X(MHD_is_feature_supported)        \
  X(MHD_get_connection_values)       \
  X(MHD_lookup_connection_value)     \
  X(MHD_create_response_from_buffer) \
  X(MHD_add_response_header)         \
  X(MHD_queue_response)              \
  X(MHD_destroy_response)

struct MhdFunctions {
#define FERRY_MHD_SLOT(name) decltype(&::name) name = nullptr;
  FERRY_MHD_FUNCTIONS(FERRY_MHD_SLOT)
#undef FERRY_MHD_SLOT
};

MhdFunctions g_mhd;
std::string g_option;  // the option that first asked for the library, for its error text

Status LoadMhdOnce() {
  FERRY_ASSIGN_OR_RETURN(SharedLibrary lib,
                         SharedLibrary::Open("libmicrohttpd.so.12", g_option, "libmicrohttpd12"));
#define FERRY_MHD_RESOLVE(name) FERRY_RETURN_IF_ERROR(lib.ResolveInto(#name, g_mhd.name));
  FERRY_MHD_FUNCTIONS(FERRY_MHD_RESOLVE)
#undef FERRY_MHD_RESOLVE
  return Status::Ok();
}

OnceLoader g_mhd_loader(&LoadMhdOnce);

// A connection's buffers: its request line and headers must fit; bodies are copied out.
constexpr size_t kConnectionMemory = 64 * 1024;

// What the callbacks share. `buffered` and the counts are touched only on the server's one
// polling thread; the counts are read elsewhere, hence atomics.
struct Context {
  const MhdFunctions* mhd = nullptr;
  Clock* clock = nullptr;
  ServerHandler handler;
  size_t max_body = 0;
  size_t max_buffered = 0;
  size_t buffered = 0;  // bytes of bodies held or reserved now
  ConnectionGuard* guard = nullptr;
  std::atomic<uint64_t> too_large{0};
  std::atomic<uint64_t> busy{0};
};

// One request in progress (MHD's per-request pointer).
struct Pending {
  std::string body;
  size_t reserved = 0;  // bytes of Context::buffered counted for this request
  bool too_large = false;
};

ServerResponse TooLarge(size_t max_body) {
  return ServerResponse::Text(413,
                              "request body larger than " + std::to_string(max_body) + " bytes\n");
}

// Charges `bytes` more to the request; false when all bodies held would then pass the budget.
bool Reserve(Context& ctx, Pending& pending, size_t bytes) {
  if (ctx.buffered + bytes > ctx.max_buffered) return false;
  ctx.buffered += bytes;
  pending.reserved += bytes;
  return true;
}

MHD_Result Send(const MhdFunctions& mhd, MHD_Connection* connection,
                const ServerResponse& reply) {
  MHD_Response* response = mhd.MHD_create_response_from_buffer(
      reply.body.size(), const_cast<char*>(reply.body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  mhd.MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type.c_str());
  for (const auto& [name, value] : reply.headers) {
    mhd.MHD_add_response_header(response, name.c_str(), value.c_str());
  }
  const MHD_Result queued =
      mhd.MHD_queue_response(connection, static_cast<unsigned>(reply.code), response);
  mhd.MHD_destroy_response(response);
  return queued;
}

MHD_Result CollectValue(void* cls, MHD_ValueKind /*kind*/, const char* key, const char* value) {
  auto& into = *static_cast<std::map<std::string, std::string>*>(cls);
  if (key == nullptr) return MHD_YES;
  std::string name(key);
  into[name] = value == nullptr ? "" : value;
  return MHD_YES;
}

// The request's answer: from now on the guard times the sending of the reply.
MHD_Result Answer(Context& ctx, MHD_Connection* connection, const ServerResponse& reply) {
  ctx.guard->Answered(connection);
  return Send(*ctx.mhd, connection, reply);
}

MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url, const char* method,
                     const char* /*version*/, const char* upload_data, size_t* upload_data_size,
                     void** con_cls) {
  Context& ctx = *static_cast<Context*>(cls);
  if (*con_cls == nullptr) {  // headers read; the body (if any) comes in the next calls
    auto* pending = new Pending();
    *con_cls = pending;
    ctx.guard->HeadIn(connection);
    // A body announced larger than the limit is refused now, before it is read: a client
    // sending 1 GB would otherwise hold the connection until it all came in. One within it is
    // charged to the budget of bodies held at once now, before any of it is kept.
    const char* length =
        ctx.mhd->MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t announced = 0;
    if (length != nullptr) {
      const char* end = length + std::strlen(length);
      const auto parsed = std::from_chars(length, end, announced);
      if (parsed.ec != std::errc() || parsed.ptr != end) return MHD_YES;  // the library's 400
      if (announced > ctx.max_body) {
        pending->too_large = true;
        ctx.too_large++;
        return Answer(ctx, connection, TooLarge(ctx.max_body));
      }
      if (!Reserve(ctx, *pending, static_cast<size_t>(announced))) {
        pending->too_large = true;
        ctx.busy++;
        ServerResponse busy =
            ServerResponse::Text(503, "too many request bodies at once; try again\n");
        busy.headers.emplace_back("Retry-After", "1");
        return Answer(ctx, connection, busy);
      }
    }
    return MHD_YES;
  }
  auto& pending = *static_cast<Pending*>(*con_cls);
  if (pending.too_large) {  // answered already; the library reads no more of it
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    const size_t held = pending.body.size() + *upload_data_size;
    // Past the limit without having announced it (chunked), or past the budget: the library
    // cannot answer in the middle of a body, so the connection is closed now rather than read
    // to its end (a client streaming 1 GB stops costing anything at max_body).
    if (held > ctx.max_body) {
      ctx.too_large++;
      return MHD_NO;
    }
    if (held > pending.reserved && !Reserve(ctx, pending, held - pending.reserved)) {
      ctx.busy++;
      return MHD_NO;
    }
    pending.body.append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  ServerRequest request;
  request.method = method;
  request.path = url;
  request.body = std::move(pending.body);
  std::map<std::string, std::string> headers;
  ctx.mhd->MHD_get_connection_values(connection, MHD_HEADER_KIND, &CollectValue, &headers);
  for (auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    request.headers[lower] = std::move(value);
  }
  ctx.mhd->MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &CollectValue,
                                     &request.query);
  ServerResponse reply;
  try {
    reply = ctx.handler(request);
  } catch (const std::exception& e) {  // a handler bug answers 500, never ends the process
    reply = ServerResponse::Text(500, std::string("internal error: ") + e.what() + "\n");
  }
  return Answer(ctx, connection, reply);
}

// The request ended (answered, or its connection closed): its body's budget is given back and
// the connection waits for its next request.
void OnCompleted(void* cls, MHD_Connection* connection, void** con_cls,
                 MHD_RequestTerminationCode /*code*/) {
  Context& ctx = *static_cast<Context*>(cls);
  auto* pending = static_cast<Pending*>(*con_cls);
  if (pending != nullptr) ctx.buffered -= std::min(ctx.buffered, pending->reserved);
  delete pending;
  *con_cls = nullptr;
  ctx.guard->Ended(connection, ctx.clock->MonoNow());
}

// Accepted and closed connections (before the library closes the socket: connection_guard.h).
void OnConnection(void* cls, MHD_Connection* connection, void** /*socket_context*/,
                  MHD_ConnectionNotificationCode code) {
  Context& ctx = *static_cast<Context*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const MHD_ConnectionInfo* info =
        ctx.mhd->MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    ctx.guard->Opened(connection, info != nullptr ? info->connect_fd : -1, ctx.clock->MonoNow());
  } else {
    ctx.guard->Closed(connection);
  }
}

// Why MHD_start_daemon failed, as one line: the address (bound here to see its error), else
// the TLS material the library refused.
Status StartFailure(const ServerOptions& options, const ListenAddress& at, bool https) {
  const int fd = ::socket(at.ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const socklen_t size = at.ipv6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  const bool bound =
      fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&at.address), size) == 0;
  const int bind_errno = errno;
  if (fd >= 0) ::close(fd);
  if (!bound || !https) {
    return Status::Unavailable(options.option + ": cannot listen on " + options.listen +
                               (bound ? "" : std::string(": ") + std::strerror(bind_errno)));
  }
  return Status::InvalidArgument(options.tls.cert_option + ", " + options.tls.key_option +
                                 ": libmicrohttpd's TLS refused the certificate or key");
}

}  // namespace

struct HttpServer::Impl {
  Context context;
  std::unique_ptr<ConnectionGuard> guard;
  TlsPem tls;  // the library keeps pointers to it
  MHD_Daemon* daemon = nullptr;
  std::jthread poller;  // MHD_run_wait and ConnectionGuard::Sweep, 4 times a second at least
  std::vector<obs::Registration> series;
};

HttpServer::~HttpServer() {
  if (impl_ == nullptr) return;
  impl_->series.clear();
  if (impl_->poller.joinable()) {  // within the 250 ms of its wait (and a handler's time)
    impl_->poller.request_stop();
    impl_->poller.join();
  }
  if (impl_->daemon != nullptr) impl_->context.mhd->MHD_stop_daemon(impl_->daemon);
}

namespace {

// The listener's own series (server.h), read from the guard and the context.
void Observe(obs::Registry& registry, const std::string& name, ConnectionGuard* guard,
             Context* ctx, std::vector<obs::Registration>& out);

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                      ServerHandler handler) {
  FERRY_ASSIGN_OR_RETURN(ListenAddress at, ParseListen(options.listen, options.option));
  FERRY_ASSIGN_OR_RETURN(TlsPem tls, ReadServerTls(options.tls));
  const bool https = !tls.cert.empty();
  if (g_option.empty()) g_option = options.option;
  FERRY_RETURN_IF_ERROR(g_mhd_loader.Get());
  if (https && g_mhd.MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
    return Status::NotSupported(options.tls.cert_option +
                                ": this libmicrohttpd was built without TLS");
  }
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.tls = std::move(tls);
  // Above 7/8 of the cap, a new connection evicts one that has not been answered.
  const unsigned reserve = std::max(2u, options.max_connections / 8);
  impl.guard = std::make_unique<ConnectionGuard>(
      GuardLimits{.header = std::chrono::seconds(options.header_seconds),
                  .request = std::chrono::seconds(options.request_seconds),
                  .high_water = options.max_connections > reserve
                                    ? options.max_connections - reserve
                                    : 0},
      [](int fd) {
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
      });
  Context& ctx = impl.context;
  ctx.mhd = &g_mhd;
  ctx.clock = &ClockOr(options.clock);
  ctx.handler = std::move(handler);
  ctx.max_body = options.max_body;
  ctx.max_buffered = std::max(options.max_buffered, options.max_body);
  ctx.guard = impl.guard.get();
  unsigned int flags = MHD_USE_AUTO;  // no internal thread: the poller below runs it
  if (at.ipv6) flags |= MHD_USE_IPv6;
  if (https) flags |= MHD_USE_TLS;
  MHD_OptionItem tls_items[] = {{MHD_OPTION_HTTPS_MEM_KEY, 0, impl.tls.key.data()},
                                {MHD_OPTION_HTTPS_MEM_CERT, 0, impl.tls.cert.data()},
                                {MHD_OPTION_END, 0, nullptr}};
  MHD_OptionItem no_items[] = {{MHD_OPTION_END, 0, nullptr}};
  impl.daemon = g_mhd.MHD_start_daemon(
      flags, static_cast<uint16_t>(at.port), nullptr, nullptr, &OnRequest, &ctx,
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<const sockaddr*>(&at.address),
      MHD_OPTION_CONNECTION_LIMIT, options.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
      options.idle_seconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory,
      MHD_OPTION_NOTIFY_COMPLETED, &OnCompleted, &ctx, MHD_OPTION_NOTIFY_CONNECTION,
      &OnConnection, &ctx, MHD_OPTION_ARRAY, https ? tls_items : no_items, MHD_OPTION_END);
  if (impl.daemon == nullptr) return StartFailure(options, at, https);
  ConnectionGuard* guard = impl.guard.get();
  impl.poller = std::jthread(
      [guard, daemon = impl.daemon, clock = ctx.clock](std::stop_token stop) {
        constexpr auto kSweepEvery = std::chrono::milliseconds(250);
        auto next_sweep = clock->MonoNow() + kSweepEvery;
        while (!stop.stop_requested()) {
          if (g_mhd.MHD_run_wait(daemon, static_cast<int32_t>(kSweepEvery.count())) != MHD_YES) {
            std::this_thread::sleep_for(kSweepEvery);  // (an error it cannot wait on: no spin)
          }
          const Clock::MonoTime now = clock->MonoNow();
          if (now >= next_sweep) {
            guard->Sweep(now);
            next_sweep = now + kSweepEvery;
          }
        }
      });
  if (options.registry != nullptr) {
    Observe(*options.registry, options.name, guard, &ctx, impl.series);
    if (https) {
      impl.series.push_back(options.registry->Observe(
          obs::MetricType::kGauge, "ferry_tls_cert_expiry_timestamp_seconds",
          "When the listener's TLS certificate expires (unix s; read when it started)",
          {"listener"}, {options.name},
          [at = static_cast<double>(impl.tls.not_after)] { return at; }));
    }
  }
  const MHD_DaemonInfo* info = g_mhd.MHD_get_daemon_info(impl.daemon, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = info != nullptr && info->port != 0 ? info->port : at.port;
  server->url_ = (https ? "https://" : "http://") + at.host + ":" + std::to_string(server->port_);
  return server;
}

namespace {

void Observe(obs::Registry& registry, const std::string& name, ConnectionGuard* guard,
             Context* ctx, std::vector<obs::Registration>& out) {
  const auto number = [](uint64_t n) { return static_cast<double>(n); };
  out.push_back(registry.Observe(obs::MetricType::kGauge, "ferry_http_server_connections",
                                 "Connections open to the listener now", {"listener"}, {name},
                                 [guard] { return static_cast<double>(guard->counts().open); }));
  const std::vector<std::string> labels = {"listener", "reason"};
  const char* help = "Connections the listener closed itself, by reason";
  const auto counted = [&](const char* reason, std::function<double()> read) {
    out.push_back(registry.Observe(obs::MetricType::kCounter, "ferry_http_server_cut_total",
                                   help, labels, {name, reason}, std::move(read)));
  };
  counted("header_timeout", [=] { return number(guard->counts().header_timeouts); });
  counted("request_timeout", [=] { return number(guard->counts().request_timeouts); });
  counted("evicted", [=] { return number(guard->counts().evicted); });
  counted("body_too_large", [=] { return number(ctx->too_large.load()); });
  counted("busy", [=] { return number(ctx->busy.load()); });
}

}  // namespace

}  // namespace ferry::http
