#include "http/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/curl_errors.h"
#include "http/curl_library.h"
#include "http/curl_loop.h"
#include "http/curl_tls.h"
#include "http/curl_verbose.h"
#include "http/throttle.h"

namespace ferry::http {
namespace {

// Idle handles beyond this are closed instead of pooled (bounds memory after a burst).
constexpr size_t kMaxIdleHandles = 256;
constexpr long kReceiveBufferBytes = 128 * 1024;
constexpr long kUploadBufferBytes = 256 * 1024;
// Bodies up to this size are handed to libcurl whole (CURLOPT_POSTFIELDS), which sends them in
// the same write as the request headers: one system call and one TCP segment train instead of
// a write for the headers, a poll for room and a write for the body. libcurl does this only
// below its own limit of 64 KiB; larger bodies are streamed through OnRead.
constexpr size_t kInlineBodyBytes = 60 * 1024;

std::atomic<uint64_t> g_in_flight{0};
std::atomic<uint64_t> g_in_flight_peak{0};

// Counts one request in flight for as long as it lives.
struct InFlight {
  InFlight() {
    const uint64_t now = g_in_flight.fetch_add(1, std::memory_order_relaxed) + 1;
    uint64_t peak = g_in_flight_peak.load(std::memory_order_relaxed);
    while (now > peak &&
           !g_in_flight_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }
  ~InFlight() { g_in_flight.fetch_sub(1, std::memory_order_relaxed); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
};

std::string ResolveCaBundle(const CurlOptions& options) {
  if (!options.ca_bundle.empty()) return options.ca_bundle;
  const char* env = std::getenv("AWS_CA_BUNDLE");
  return env ? std::string(env) : std::string();
}

// True when the environment names a proxy (or exceptions to one) for libcurl to apply. When
// it names none, every handle is told so once, and libcurl no longer looks up six environment
// variables per request.
bool ProxyFromEnvironment() {
  for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                           "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// State of one transfer, shared with the libcurl callbacks.
struct Transfer {
  const HttpRequest* request = nullptr;
  Throttle* throttle = nullptr;  // CurlOptions::throttle: bytes are paced through it
  BodySink* sink = nullptr;
  std::stop_token stop;
  size_t read_offset = 0;
  int status_code = 0;
  Headers headers;  // of the response being received; final once headers_done
  bool headers_done = false;
  bool begun = false;  // sink.Begin called
  uint64_t body_bytes = 0;
  Status sink_status;  // first non-OK status from the sink
};

Status BeginOnce(Transfer& t) {
  if (t.begun) return Status::Ok();
  t.begun = true;
  return t.sink->Begin(t.status_code, t.headers);
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response starts (an interim 1xx may come before the final one): forget the last.
    size_t sp = line.find(' ');
    t.status_code = 0;
    for (size_t i = sp + 1; sp != std::string_view::npos && i < line.size() && i < sp + 4; ++i) {
      if (line[i] < '0' || line[i] > '9') break;
      t.status_code = t.status_code * 10 + (line[i] - '0');
    }
    t.headers.Clear();
    t.headers_done = false;
    return n;
  }
  if (t.headers_done) return n;  // trailers after a chunked body: ignored
  std::string_view trimmed = Trim(line);
  if (trimmed.empty()) {
    if (t.status_code >= 200) t.headers_done = true;
    return n;
  }
  if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
    if (!t.headers.entries().empty()) {
      std::string last_name = t.headers.entries().back().first;
      std::string value = t.headers.entries().back().second + " " + std::string(trimmed);
      t.headers.Set(last_name, value);
    }
    return n;
  }
  size_t colon = trimmed.find(':');
  if (colon == std::string_view::npos) return n;
  t.headers.Add(Trim(trimmed.substr(0, colon)), Trim(trimmed.substr(colon + 1)));
  return n;
}

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  Status s = BeginOnce(t);
  if (s.ok()) s = t.sink->Write({reinterpret_cast<const std::byte*>(data), n});
  if (!s.ok()) {
    if (t.sink_status.ok()) t.sink_status = std::move(s);
    return n == 0 ? 1 : 0;  // any count other than n aborts with CURLE_WRITE_ERROR
  }
  t.body_bytes += n;
  // the download rate: this transfer reads on from the socket once the rate allows it (TCP
  // then slows the sender down)
  if (t.throttle != nullptr && n > 0) t.throttle->Bytes(Direction::kDown, n, t.stop);
  return n;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const auto body = t.request->body;
  const size_t n = std::min(size * count, body.size() - t.read_offset);
  // the upload rate: these bytes go out once the rate allows them (also when a rewind sends
  // them again: they cross the link again)
  if (t.throttle != nullptr && n > 0) t.throttle->Bytes(Direction::kUp, n, t.stop);
  if (n > 0) std::memcpy(buffer, body.data() + t.read_offset, n);
  t.read_offset += n;
  return n;
}

// Lets libcurl resend the body, e.g. when a reused keep-alive connection turned out dead.
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto& t = *static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > t.request->body.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  t.read_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(user)->stop.stop_requested() ? 1 : 0;
}

// The request header lines of one easy handle, kept with it (CURLOPT_PRIVATE): a request's
// header list reuses the memory of the handle's last one. Built with curl_slist_append, it
// cost two allocations per header and request (a node and a copy of the line). libcurl only
// reads the list, and only while the transfer runs. Also kept with the handle: its TLS
// settings, set again only for a request that wants others (curl_tls.h).
struct HeaderLines {
  std::vector<std::string> lines;
  std::vector<curl_slist> nodes;
  std::string connect_to;        // CurlOptions::connect_to as a CURLOPT_CONNECT_TO entry
  curl_slist connect_to_node{};  // its list of one
  internal::HandleTls tls;       // the CA bundle and checks the handle has
};

HeaderLines& LinesOf(CURL* h) {
  char* p = nullptr;
  curl_easy_getinfo(h, CURLINFO_PRIVATE, &p);
  return *reinterpret_cast<HeaderLines*>(p);
}

void CleanupHandle(CURL* h) {
  delete &LinesOf(h);
  curl_easy_cleanup(h);
}

// Builds the request header list in `out` and returns its head. Content-Length and Expect are
// the transport's business; "Expect:" and "Accept:" with no value tell libcurl not to send its
// defaults, and "Content-Type:" keeps out the form type libcurl would add to an inline body.
Result<curl_slist*> BuildHeaderList(const Headers& headers, HeaderLines& out) {
  size_t n = 0;
  auto next_line = [&]() -> std::string& {
    if (n == out.lines.size()) out.lines.emplace_back();
    return out.lines[n++];
  };
  bool content_type = false;
  for (const auto& [name, value] : headers.entries()) {
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "expect")) continue;
    content_type = content_type || EqualsIgnoreCase(name, "content-type");
    if (name.find_first_of(":\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument("invalid header " + name);
    }
    std::string& line = next_line();
    line.assign(name);
    if (value.empty()) {
      line.append(";");  // libcurl's syntax for a header with an empty value
    } else {
      line.append(": ").append(value);
    }
  }
  next_line().assign("Expect:");
  next_line().assign("Accept:");
  if (!content_type) next_line().assign("Content-Type:");
  // Linked once every line is in place: a growing vector of lines moves them.
  out.nodes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    out.nodes[i].data = out.lines[i].data();
    out.nodes[i].next = i + 1 < n ? &out.nodes[i + 1] : nullptr;
  }
  return &out.nodes[0];
}

// Points `h`'s URL, headers, error buffer, callbacks' data and timeout at this transfer.
void BindTransfer(CURL* h, Transfer& t, curl_slist* header_list, char* error_buffer,
                  long timeout_ms) {
  curl_easy_setopt(h, CURLOPT_URL, t.request->url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_READDATA, &t);
  curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
}

// The request's method and body on handle `h`. HTTPGET=1 first also clears NOBODY and UPLOAD
// left over from the handle's last request.
void SetMethod(CURL* h, const HttpRequest& request) {
  const std::string& method = request.method;
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, nullptr);
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.body.size() <= kInlineBodyBytes &&
             (!request.body.empty() || method == "PUT" || method == "POST")) {
    // A small body (or none) goes out with the headers, from the span: libcurl keeps the
    // pointer (valid until Send returns) and sends it again itself when a reused connection
    // turns out dead. Exact Content-Length, 0 for an empty body.
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.empty()
                                                ? ""
                                                : reinterpret_cast<const char*>(request.body.data()));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  } else if (!request.body.empty() || method == "PUT" || method == "POST") {
    // Upload from the span with an exact Content-Length.
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (method != "PUT") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  } else if (method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
}

// Performs the transfer set up on `h`. A keep-alive connection the server closed just as we
// reused it fails before any reply (broken pipe, reset, nothing received): an idempotent request
// is sent again once, on a new connection; libcurl only does this itself for some of these cases.
CURLcode PerformReconnectingOnce(CURL* h, Transfer& t, char* error_buffer) {
  CURLcode rc = internal::PerformOnThisThread(h, t.stop);
  long new_connections = 0;
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &new_connections);
  const std::string& method = t.request->method;
  const bool idempotent = method == "GET" || method == "HEAD" || method == "PUT" ||
                          method == "DELETE";
  if ((rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING) &&
      new_connections == 0 && idempotent && t.status_code == 0 && !t.begun &&
      t.sink_status.ok() && !t.stop.stop_requested()) {
    t.read_offset = 0;
    t.headers.Clear();
    t.headers_done = false;
    error_buffer[0] = '\0';
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    rc = internal::PerformOnThisThread(h, t.stop);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 0L);
  }
  return rc;
}

}  // namespace

RequestsInFlight ProcessRequestsInFlight() {
  return RequestsInFlight{.now = g_in_flight.load(std::memory_order_relaxed),
                          .peak = g_in_flight_peak.load(std::memory_order_relaxed)};
}

CurlTransport::CurlTransport(CurlOptions options)
    : options_(std::move(options)),
      ca_bundle_(ResolveCaBundle(options_)),
      proxy_from_environment_(ProxyFromEnvironment()) {}

CurlTransport::~CurlTransport() {
  std::lock_guard lock(mu_);
  for (void* h : idle_) CleanupHandle(static_cast<CURL*>(h));
  idle_.clear();
}

size_t CurlTransport::idle_handles() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

size_t CurlTransport::handles_created() const {
  std::lock_guard lock(mu_);
  return handles_created_;
}

void* CurlTransport::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
    ++handles_created_;
  }
  CURL* h = curl_easy_init();
  if (h == nullptr) return nullptr;
  internal::RememberBuiltinCa(h);  // before any CA option is set on a handle
  auto* lines = new HeaderLines;
  curl_easy_setopt(h, CURLOPT_PRIVATE, static_cast<void*>(lines));
  if (!options_.connect_to.empty()) {
    lines->connect_to = "::" + options_.connect_to;  // any host and port go there
    lines->connect_to_node = {lines->connect_to.data(), nullptr};
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, &lines->connect_to_node);
  }
  // Options that are the same for every request are set once per handle.
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options_.low_speed_time_s);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  // Send the path exactly as built: S3 keys may contain "/../" or "/./" segments.
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
  curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferBytes);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnWrite);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &OnRead);
  curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &OnSeek);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, &internal::CloseSocket);
  if (!proxy_from_environment_) {
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "");
  }
  if (std::getenv("FERRY_CURL_VERBOSE")) {  // a trace with credentials redacted
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, &internal::DebugCallback);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
  }
  return h;
}

void CurlTransport::Release(void* handle) {
  CURL* h = static_cast<CURL*>(handle);
  // Drop pointers into the finished request's memory.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, nullptr);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, nullptr);
  curl_easy_setopt(h, CURLOPT_READDATA, nullptr);
  curl_easy_setopt(h, CURLOPT_SEEKDATA, nullptr);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, nullptr);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);  // the next Send sets its method again
  {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleHandles) {
      idle_.push_back(h);
      return;
    }
  }
  CleanupHandle(h);
}

Result<HttpResponse> CurlTransport::Send(const HttpRequest& request, BodySink& sink,
                                         std::stop_token stop) {
  if (stop.stop_requested()) {
    return Status::Cancelled(request.method + " " + request.url.substr(0, request.url.find('?')) +
                             ": cancelled");
  }
  // libcurl is loaded by the first request, not at start (see curl_library.h).
  FERRY_RETURN_IF_ERROR(LoadCurl());
  // the request's outcome goes back to the limits once it is over (Throttle::AfterRequest)
  struct Outcome {
    Throttle* throttle = nullptr;
    std::string storage;
    std::string_view endpoint;
    int status = 0;
    ~Outcome() {
      if (throttle != nullptr) throttle->AfterRequest(endpoint, status);
    }
  } outcome;
  if (options_.throttle != nullptr) {
    outcome.endpoint = EndpointOf(request.url, outcome.storage);
    options_.throttle->BeforeRequest(outcome.endpoint, stop);
    outcome.throttle = options_.throttle;
    // a small body goes out with the headers, from libcurl's own buffer: paced here, whole
    if (!request.body.empty() && request.body.size() <= kInlineBodyBytes) {
      options_.throttle->Bytes(Direction::kUp, request.body.size(), stop);
    }
  }
  // one of the process's request slots while the request is in flight (Throttle::TakeSlot)
  struct Slot {
    Throttle* throttle;
    bool held;
    ~Slot() {
      if (held) throttle->ReleaseSlot();
    }
  } slot{options_.throttle, options_.throttle != nullptr && options_.throttle->TakeSlot(stop)};
  if (stop.stop_requested()) {
    return Status::Cancelled(request.method + " " + request.url.substr(0, request.url.find('?')) +
                             ": cancelled");
  }
  const InFlight counted;
  CURL* h = static_cast<CURL*>(Acquire());
  if (h == nullptr) return Status::Internal("curl_easy_init failed");
  struct Lease {
    CurlTransport* owner;
    CURL* h;
    ~Lease() { owner->Release(h); }
  } lease{this, h};
  HeaderLines& handle_data = LinesOf(h);
  FERRY_ASSIGN_OR_RETURN(curl_slist * header_list, BuildHeaderList(request.headers, handle_data));
  // the request's TLS settings, else the transport's (a handle keeps the last ones it was given)
  const TlsSettings* tls = request.tls;
  internal::ApplyTls(h, handle_data.tls,
                     tls != nullptr && !tls->ca_bundle.empty() ? tls->ca_bundle : ca_bundle_,
                     tls != nullptr ? tls->verify : options_.verify_tls);

  Transfer t;
  t.request = &request;
  t.throttle = options_.throttle;
  t.sink = &sink;
  t.stop = stop;
  char error_buffer[CURL_ERROR_SIZE];
  error_buffer[0] = '\0';

  BindTransfer(h, t, header_list, error_buffer,
               request.timeout_ms > 0 ? request.timeout_ms : options_.default_timeout_ms);

  SetMethod(h, request);

  const CURLcode rc = PerformReconnectingOnce(h, t, error_buffer);
  const std::string& method = request.method;
  if (rc != CURLE_OK) {
    if (!t.sink_status.ok()) return t.sink_status;
    return internal::CurlCodeToStatus(rc, error_buffer, method, request.url,
                                      tls != nullptr ? tls->untrusted_hint : std::string_view());
  }
  if (t.status_code == 0) {
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    t.status_code = static_cast<int>(code);
  }
  if (!t.headers_done) {
    // libcurl reports success for a reply cut off inside its headers (no blank line ends them,
    // e.g. a HEAD whose connection dropped): its headers are incomplete, never an answer.
    return Status::Unavailable(method + " " + request.url +
                               ": the reply was cut off inside its headers");
  }
  FERRY_RETURN_IF_ERROR(BeginOnce(t));  // a response without a body still gets Begin
  HttpResponse response;
  response.status_code = t.status_code;
  outcome.status = t.status_code;
  response.headers = std::move(t.headers);
  response.body_bytes = t.body_bytes;
  return response;
}

}  // namespace ferry::http
