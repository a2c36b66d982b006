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

std::string WhatOf(const AzureCall& call, const std::string& account) {
  std::string what = call.operation + " az://" + account + "/" + call.container;
  if (!call.blob.empty()) what += "/" + call.blob;
  return what;
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
                                         rest::Attempt& attempt) {
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
  rest::ReplySink sink(call.sink);
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
    attempt.pause = rest::RetryAfter(sent->headers);
    return MapAzureError(sent->status_code, code, message, WhatOf(call, account()));
  }
  return AzureReply{sent->status_code, std::move(sent->headers), std::move(sink.collected())};
}

Result<std::string> AzureClient::BatchSubrequest(const AzureCall& call) const {
  if (options_.credentials.key.empty()) {
    return Status::NotSupported("Blob Batch with a SAS (subrequests are signed with the key)");
  }
  std::string path;
  (void)Url(call, path);
  http::Headers headers = call.headers;
  headers.Set("x-ms-date", FormatRfc1123(clock_.Now()));
  headers.Set("x-ms-version", kAzureApiVersion);
  SignedRequest signed_request{call.method, path, call.query, &headers, 0};
  headers.Set("Authorization", SharedKeyAuthorization(options_.credentials, signed_request));
  std::string text = call.method + " " + path;
  char sep = '?';
  for (const auto& [name, value] : call.query) {
    text += sep + s3::UriEncode(name) + (value.empty() ? "" : "=" + s3::UriEncode(value));
    sep = '&';
  }
  text += " HTTP/1.1\r\n";
  for (const auto& [name, value] : headers.entries()) text += name + ": " + value + "\r\n";
  return text + "Content-Length: 0\r\n\r\n";
}

Result<AzureReply> AzureClient::Send(const AzureCall& call, std::stop_token stop) {
  return rest::SendWithRetries<AzureReply>(
      options_.retry, clock_, call.sink, retries_, stop,
      [&](rest::Attempt& attempt) { return SendOnce(call, stop, attempt); });
}

}  // namespace ferry::storage::azure
