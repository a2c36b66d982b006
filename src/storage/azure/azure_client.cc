// AzureClient (azure_client.h): URLs, signing, the retry loop, error replies.
#include "storage/azure/azure_client.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <random>

#include "retry/policy.h"
#include "s3/uri.h"
#include "s3/xml.h"

namespace ferry::storage::azure {
namespace {

uint64_t AzureRandomBits() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

// Diverts a non-2xx reply's body into `error` so that the caller's sink (a read buffer) never
// holds an error document; a 2xx reply goes to the target (or into `collected`).
class AzureReplySink : public http::BodySink {
 public:
  explicit AzureReplySink(http::BodySink* target) : target_(target) {}
  Status Begin(int status_code, const http::Headers& headers) override {
    ok_ = status_code >= 200 && status_code < 300;
    error_.clear();
    collected_.clear();
    if (ok_ && target_ != nullptr) {
      began_ = true;
      return target_->Begin(status_code, headers);
    }
    return Status::Ok();
  }
  Status Write(std::span<const std::byte> data) override {
    std::string& into = !ok_ ? error_ : collected_;
    if (!ok_ || target_ == nullptr) {
      if (into.size() + data.size() > (ok_ ? (64u << 20) : (64u << 10))) {
        return ok_ ? Status::DataLoss("reply larger than 64 MiB") : Status::Ok();
      }
      into.append(reinterpret_cast<const char*>(data.data()), data.size());
      return Status::Ok();
    }
    return target_->Write(data);
  }
  bool Rewind() override { return true; }  // Begin starts each attempt over
  bool target_began() const { return began_; }
  std::string& error() { return error_; }
  std::string& collected() { return collected_; }

 private:
  http::BodySink* target_;
  bool ok_ = false;
  bool began_ = false;
  std::string error_;
  std::string collected_;
};

std::string WhatOf(const AzureCall& call, const std::string& account) {
  std::string what = call.operation + " az://" + account + "/" + call.container;
  if (!call.blob.empty()) what += "/" + call.blob;
  return what;
}

std::chrono::milliseconds AzureRetryAfter(const http::Headers& headers) {
  const std::string* v = headers.Find("Retry-After");
  uint64_t seconds = 0;
  if (v == nullptr ||
      std::from_chars(v->data(), v->data() + v->size(), seconds).ec != std::errc()) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::seconds(std::min<uint64_t>(seconds, 60));
}

}  // namespace

std::string FormatRfc1123(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

Status MapAzureError(int http_status, std::string_view code, std::string_view message,
                     std::string_view what) {
  std::string line = std::string(what) + ": HTTP " + std::to_string(http_status);
  if (!code.empty()) line += " " + std::string(code);
  if (!message.empty()) {
    // Azure's messages carry a RequestId and Time on further lines: the first line says it
    line += ": " + std::string(message.substr(0, message.find('\n')));
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  switch (http_status) {
    case 404:
      if (code == "ContainerNotFound") {
        return Status::NotFound(line).WithSubject(ErrorSubject::kBucket);
      }
      return Status::NotFound(line).WithSubject(ErrorSubject::kObject);
    case 401:
      return Status::Unauthenticated(line);
    case 403:
      if (code == "AuthenticationFailed" || code.empty()) return Status::Unauthenticated(line);
      return Status::PermissionDenied(line);
    case 409:
      if (code == "BlobAlreadyExists") return Status::AlreadyExists(line);
      return Status::FailedPrecondition(line);
    case 412:
      return Status::FailedPrecondition(line);
    case 416:
      return Status::DataLoss(line);
    case 429:
      return Status::Unavailable(line);
    default:
      break;
  }
  if (http_status >= 500) return Status::Unavailable(line);
  if (code == "Md5Mismatch" || code == "InvalidMd5" || code == "Crc64Mismatch") {
    return Status::DataLoss(line);
  }
  return Status::InvalidArgument(line);
}

AzureClient::AzureClient(AzureOptions options, http::HttpTransport& http)
    : options_(std::move(options)), http_(http), clock_(ClockOr(options_.clock)) {}

std::string AzureClient::Url(const AzureCall& call, std::string& path) const {
  const std::string& endpoint = options_.credentials.endpoint;
  // the endpoint's own path (Azurite's /ACCOUNT) is part of what Shared Key signs
  const size_t scheme = endpoint.find("://");
  const size_t slash = endpoint.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  path = slash == std::string::npos ? std::string() : endpoint.substr(slash);
  path += "/" + s3::UriEncode(call.container);
  if (!call.blob.empty()) path += "/" + s3::UriEncode(call.blob, /*keep_slash=*/true);
  std::string url = endpoint.substr(0, slash) + path;
  char sep = '?';
  for (const auto& [name, value] : call.query) {
    url += sep + s3::UriEncode(name);
    if (!value.empty()) url += "=" + s3::UriEncode(value);
    sep = '&';
  }
  if (!options_.credentials.sas.empty()) url += sep + options_.credentials.sas;
  return url;
}

Result<AzureReply> AzureClient::SendOnce(const AzureCall& call, std::stop_token stop,
                                         Attempt& attempt) {
  http::HttpRequest req;
  req.method = call.method;
  std::string path;
  req.url = Url(call, path);
  req.headers = call.headers;
  req.headers.Set("x-ms-date", FormatRfc1123(clock_.Now()));
  req.headers.Set("x-ms-version", kAzureApiVersion);
  req.body = call.body;
  if (options_.tls) req.tls = &*options_.tls;
  if (options_.credentials.sas.empty()) {
    SignedRequest signed_request{call.method, path, call.query, &req.headers, call.body.size()};
    req.headers.Set("Authorization", SharedKeyAuthorization(options_.credentials, signed_request));
  }
  AzureReplySink sink(call.sink);
  Result<http::HttpResponse> sent = http_.Send(req, sink, stop);
  attempt.began = attempt.began || sink.target_began();
  if (!sent.ok()) return sent.status().WithContext(WhatOf(call, account()));
  if (sent->status_code < 200 || sent->status_code >= 300) {
    std::string code = sent->headers.Get("x-ms-error-code");
    std::string message;
    if (!sink.error().empty()) {
      s3::S3ErrorInfo info = s3::ParseError(sink.error());
      if (code.empty()) code = info.code;
      message = info.message;
    }
    attempt.pause = AzureRetryAfter(sent->headers);
    return MapAzureError(sent->status_code, code, message, WhatOf(call, account()));
  }
  return AzureReply{sent->status_code, std::move(sent->headers), std::move(sink.collected())};
}

Result<AzureReply> AzureClient::Send(const AzureCall& call, std::stop_token stop) {
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  for (int attempt = 1;; ++attempt) {
    Attempt tried;
    Result<AzureReply> reply = SendOnce(call, stop, tried);
    if (reply.ok()) return reply;
    const Status& failure = reply.status();
    if (!failure.transient() || attempt >= max_attempts || stop.stop_requested()) return failure;
    // the caller's sink saw part of this attempt's body: start it over, or give up here
    if (tried.began && (call.sink == nullptr || !call.sink->Rewind())) return failure;
    retries_.fetch_add(1, std::memory_order_relaxed);
    clock_.SleepFor(std::max(tried.pause, retry::BackoffDelay(options_.retry, attempt,
                                                              AzureRandomBits())),
                    stop);
    if (stop.stop_requested()) return Status::Cancelled("cancelled while waiting to retry");
  }
}

}  // namespace ferry::storage::azure
