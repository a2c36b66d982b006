// HttpServer (server.h) over libmicrohttpd, loaded on first use (base/shared_library.h): a run
// that serves nothing never maps it nor GnuTLS behind it.
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "base/shared_library.h"

namespace ferry::http {
namespace {

// Every libmicrohttpd function ferry calls, typed from its own declarations.
#define FERRY_MHD_FUNCTIONS(X)       \
  X(MHD_start_daemon)                \
  X(MHD_stop_daemon)                 \
  X(MHD_get_daemon_info)             \
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

Status LoadOnce() {
  FERRY_ASSIGN_OR_RETURN(SharedLibrary lib,
                         SharedLibrary::Open("libmicrohttpd.so.12", g_option, "libmicrohttpd12"));
#define FERRY_MHD_RESOLVE(name) FERRY_RETURN_IF_ERROR(lib.ResolveInto(#name, g_mhd.name));
  FERRY_MHD_FUNCTIONS(FERRY_MHD_RESOLVE)
#undef FERRY_MHD_RESOLVE
  return Status::Ok();
}

OnceLoader g_loader(&LoadOnce);

// A connection's buffers: its request line and headers must fit; bodies are copied out.
constexpr size_t kConnectionMemory = 64 * 1024;

struct Context {
  const MhdFunctions* mhd = nullptr;
  ServerHandler handler;
  size_t max_body = 0;
};

// One request in progress (MHD's per-request pointer).
struct Pending {
  std::string body;
  bool too_large = false;
};

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

MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url, const char* method,
                     const char* /*version*/, const char* upload_data, size_t* upload_data_size,
                     void** con_cls) {
  const Context& ctx = *static_cast<const Context*>(cls);
  if (*con_cls == nullptr) {  // headers read; the body (if any) comes in the next calls
    *con_cls = new Pending();
    // A body announced larger than the limit is refused now, before it is read: a client
    // sending 1 GB would otherwise hold the connection (and a thread) until it all came in.
    const char* length =
        ctx.mhd->MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t announced = 0;
    if (length != nullptr) {
      const char* end = length + std::strlen(length);
      const auto parsed = std::from_chars(length, end, announced);
      if (parsed.ec == std::errc() && parsed.ptr == end && announced > ctx.max_body) {
        static_cast<Pending*>(*con_cls)->too_large = true;
        return Send(*ctx.mhd, connection,
                    ServerResponse::Text(413, "request body larger than " +
                                                  std::to_string(ctx.max_body) + " bytes\n"));
      }
    }
    return MHD_YES;
  }
  auto& pending = *static_cast<Pending*>(*con_cls);
  if (*upload_data_size > 0) {
    if (!pending.too_large && pending.body.size() + *upload_data_size <= ctx.max_body) {
      pending.body.append(upload_data, *upload_data_size);
    } else {
      pending.too_large = true;
      pending.body.clear();
      pending.body.shrink_to_fit();
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (pending.too_large) {
    return Send(*ctx.mhd, connection,
                ServerResponse::Text(413, "request body larger than " +
                                              std::to_string(ctx.max_body) + " bytes\n"));
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
  return Send(*ctx.mhd, connection, reply);
}

void OnCompleted(void* /*cls*/, MHD_Connection* /*connection*/, void** con_cls,
                 MHD_RequestTerminationCode /*code*/) {
  delete static_cast<Pending*>(*con_cls);
  *con_cls = nullptr;
}

// HOST:PORT to an address (IPv4 or IPv6, "[::1]:PORT" accepted).
Result<std::pair<sockaddr_storage, bool>> ParseListen(const std::string& listen,
                                                      const std::string& option, int* port) {
  const size_t colon = listen.rfind(':');
  *port = -1;
  if (colon != std::string::npos && colon > 0) {
    const char* first = listen.data() + colon + 1;
    const char* last = listen.data() + listen.size();
    auto r = std::from_chars(first, last, *port);
    if (r.ec != std::errc() || r.ptr != last || first == last) *port = -1;
  }
  if (*port < 0 || *port > 65535) {
    return Status::InvalidArgument(option + ": \"" + listen + "\" is not HOST:PORT");
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
    return Status::InvalidArgument(option + ": cannot resolve \"" + host +
                                   "\": " + gai_strerror(rc));
  }
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  const bool ipv6 = found->ai_family == AF_INET6;
  freeaddrinfo(found);
  if (ipv6) {
    reinterpret_cast<sockaddr_in6*>(&address)->sin6_port = htons(static_cast<uint16_t>(*port));
  } else {
    reinterpret_cast<sockaddr_in*>(&address)->sin_port = htons(static_cast<uint16_t>(*port));
  }
  return std::make_pair(address, ipv6);
}

}  // namespace

struct HttpServer::Impl {
  Context context;
  MHD_Daemon* daemon = nullptr;
};

HttpServer::~HttpServer() {
  if (impl_ != nullptr && impl_->daemon != nullptr) {
    impl_->context.mhd->MHD_stop_daemon(impl_->daemon);
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                      ServerHandler handler) {
  int port = -1;
  FERRY_ASSIGN_OR_RETURN(auto parsed, ParseListen(options.listen, options.option, &port));
  auto [address, ipv6] = parsed;
  if (g_option.empty()) g_option = options.option;
  FERRY_RETURN_IF_ERROR(g_loader.Get());
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->impl_ = std::make_unique<Impl>();
  Context& ctx = server->impl_->context;
  ctx.mhd = &g_mhd;
  ctx.handler = std::move(handler);
  ctx.max_body = options.max_body;
  unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD;
  if (ipv6) flags |= MHD_USE_IPv6;
  server->impl_->daemon = g_mhd.MHD_start_daemon(
      flags, static_cast<uint16_t>(port), nullptr, nullptr, &OnRequest, &ctx,
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<const sockaddr*>(&address),
      MHD_OPTION_CONNECTION_LIMIT, options.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
      options.idle_seconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory,
      MHD_OPTION_NOTIFY_COMPLETED, &OnCompleted, nullptr, MHD_OPTION_END);
  if (server->impl_->daemon == nullptr) {
    return Status::Unavailable(options.option + ": cannot listen on " + options.listen);
  }
  const MHD_DaemonInfo* info =
      g_mhd.MHD_get_daemon_info(server->impl_->daemon, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = info != nullptr && info->port != 0 ? info->port : port;
  server->url_ = "http://" + options.listen.substr(0, options.listen.rfind(':')) + ":" +
                 std::to_string(server->port_);
  return server;
}

}  // namespace ferry::http
