// MetricsServer (metrics.h) over libmicrohttpd, loaded when --metrics-listen is given (see
// base/shared_library.h): a run without the flag never maps it nor GnuTLS behind it.
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

#include "base/shared_library.h"
#include "cli/commands/metrics.h"
#include "obs/log.h"

namespace ferry::cli {
namespace {

// Every libmicrohttpd function ferry calls, typed from its own declarations.
#define FERRY_MHD_FUNCTIONS(X)       \
  X(MHD_start_daemon)                \
  X(MHD_stop_daemon)                 \
  X(MHD_get_daemon_info)             \
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

Status LoadOnce() {
  FERRY_ASSIGN_OR_RETURN(
      SharedLibrary lib,
      SharedLibrary::Open("libmicrohttpd.so.12", "--metrics-listen", "libmicrohttpd12"));
#define FERRY_MHD_RESOLVE(name) FERRY_RETURN_IF_ERROR(lib.ResolveInto(#name, g_mhd.name));
  FERRY_MHD_FUNCTIONS(FERRY_MHD_RESOLVE)
#undef FERRY_MHD_RESOLVE
  return Status::Ok();
}

OnceLoader g_loader(&LoadOnce);

Result<const MhdFunctions*> LoadMhd() {
  FERRY_RETURN_IF_ERROR(g_loader.Get());
  return &g_mhd;
}

// Bounds of what clients can hold: a scraper needs one connection, and idle or slow ones must
// never take the file descriptors and memory the run's own requests need (without a cap, a few
// hundred idle connections failed every job with "Too many open files"). A connection past the
// cap is closed at once; an idle one after kIdleSeconds.
constexpr unsigned int kMaxConnections = 32;
constexpr unsigned int kIdleSeconds = 10;
constexpr size_t kConnectionMemory = 64 * 1024;

struct Context {
  const MhdFunctions* mhd;
  obs::Registry* registry;
};

MHD_Result Reply(const MhdFunctions& mhd, MHD_Connection* connection, unsigned int code,
                 const std::string& body, const char* content_type) {
  MHD_Response* response = mhd.MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  mhd.MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  const MHD_Result queued = mhd.MHD_queue_response(connection, code, response);
  mhd.MHD_destroy_response(response);
  return queued;
}

// GET /metrics: the Prometheus exposition; anything else: 404 or 405. Requests carry no body
// worth reading, so each is answered on its first call.
MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url, const char* method,
                     const char* /*version*/, const char* /*upload_data*/,
                     size_t* upload_data_size, void** /*con_cls*/) {
  const Context& ctx = *static_cast<const Context*>(cls);
  *upload_data_size = 0;
  if (std::strcmp(url, "/metrics") != 0) {
    return Reply(*ctx.mhd, connection, MHD_HTTP_NOT_FOUND, "not found\n", "text/plain");
  }
  if (std::strcmp(method, MHD_HTTP_METHOD_GET) != 0 && std::strcmp(method, "HEAD") != 0) {
    return Reply(*ctx.mhd, connection, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n", "text/plain");
  }
  return Reply(*ctx.mhd, connection, MHD_HTTP_OK, ctx.registry->RenderPrometheus(),
               "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

struct MetricsServer::Impl {
  explicit Impl(obs::Registry& r) : context{nullptr, &r} {}
  Context context;
  MHD_Daemon* daemon = nullptr;
};

MetricsServer::MetricsServer(obs::Registry& registry)
    : impl_(std::make_unique<Impl>(registry)) {}

MetricsServer::~MetricsServer() {
  if (impl_->daemon != nullptr) impl_->context.mhd->MHD_stop_daemon(impl_->daemon);
}

Status MetricsServer::Start(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos && colon > 0) {
    const char* first = listen.data() + colon + 1;
    const char* last = listen.data() + listen.size();
    auto r = std::from_chars(first, last, port);
    if (r.ec != std::errc() || r.ptr != last || first == last) port = -1;
  }
  if (port < 0 || port > 65535) {
    return Status::InvalidArgument("--metrics-listen: \"" + listen + "\" is not HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0 || found == nullptr) {
    return Status::InvalidArgument("--metrics-listen: cannot resolve \"" + host +
                                   "\": " + gai_strerror(rc));
  }
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  const bool ipv6 = found->ai_family == AF_INET6;
  freeaddrinfo(found);
  if (ipv6) {
    reinterpret_cast<sockaddr_in6*>(&address)->sin6_port = htons(static_cast<uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in*>(&address)->sin_port = htons(static_cast<uint16_t>(port));
  }

  FERRY_ASSIGN_OR_RETURN(impl_->context.mhd, LoadMhd());
  const MhdFunctions& mhd = *impl_->context.mhd;
  unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD;
  if (ipv6) flags |= MHD_USE_IPv6;
  impl_->daemon = mhd.MHD_start_daemon(
      flags, static_cast<uint16_t>(port), nullptr, nullptr, &OnRequest, &impl_->context,
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<const sockaddr*>(&address),
      MHD_OPTION_CONNECTION_LIMIT, kMaxConnections, MHD_OPTION_CONNECTION_TIMEOUT,
      kIdleSeconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory, MHD_OPTION_END);
  if (impl_->daemon == nullptr) {
    return Status::Unavailable("--metrics-listen: cannot listen on " + listen);
  }
  const MHD_DaemonInfo* info = mhd.MHD_get_daemon_info(impl_->daemon, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info != nullptr && info->port != 0 ? info->port : port;
  obs::Log(obs::Level::kInfo, "serving metrics",
           {{"url", "http://" + listen.substr(0, colon) + ":" + std::to_string(port_) + "/metrics"}});
  return Status::Ok();
}

}  // namespace ferry::cli
