// GcsClient (gcs_client.h): URLs, tokens, the retry loop, error replies.
#include "storage/gcs/gcs_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "s3/uri.h"

namespace ferry::storage::gcs {
namespace {

// errors[0].reason and the message of a JSON error reply; a text body as the message.
std::pair<std::string, std::string> GcsErrorOf(const std::string& body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const auto& e = doc["error"];
    std::string reason;
    if (e.contains("errors") && e["errors"].is_array() && !e["errors"].empty() &&
        e["errors"][0].is_object()) {
      reason = e["errors"][0].value("reason", "");
    }
    return {reason, e.value("message", "")};
  }
  return {"", body.substr(0, std::min<size_t>(body.find('\n'), 200))};
}

}  // namespace

std::string EncodeObjectName(std::string_view name) { return s3::UriEncode(name); }

Status MapGcsError(int http_status, std::string_view reason, std::string_view message,
                   std::string_view what) {
  std::string line = std::string(what) + ": HTTP " + std::to_string(http_status);
  if (!reason.empty()) line += " " + std::string(reason);
  if (!message.empty()) line += ": " + std::string(message.substr(0, message.find('\n')));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  switch (http_status) {
    case 404:
      if (message.find("bucket does not exist") != std::string_view::npos ||
          message.find("No such bucket") != std::string_view::npos) {
        return Status::NotFound(line).WithSubject(ErrorSubject::kBucket);
      }
      return Status::NotFound(line).WithSubject(ErrorSubject::kObject);
    case 410:  // a resumable session that expired or was cancelled
      return Status::NotFound(line).WithSubject(ErrorSubject::kObject);
    case 401:
      return Status::Unauthenticated(line);
    case 403:
      return Status::PermissionDenied(line);
    case 409:
      return Status::AlreadyExists(line);
    case 412:
      return Status::FailedPrecondition(line);
    case 416:
      return Status::DataLoss(line);
    case 408:
    case 429:
      return Status::Unavailable(line);
    case 501:  // an API the service lacks (an emulator's): asking again changes nothing
      return Status::NotSupported(line);
    default:
      break;
  }
  if (http_status >= 500) return Status::Unavailable(line);
  if (message.find("hash") != std::string_view::npos &&
      message.find("match") != std::string_view::npos) {
    // "Provided MD5 hash ... doesn't match calculated MD5 hash ...", likewise CRC32C
    return Status::DataLoss(line);
  }
  return Status::InvalidArgument(line);
}

GcsClient::GcsClient(GcsOptions options, http::HttpTransport& http)
    : options_(std::move(options)), http_(http), clock_(ClockOr(options_.clock)) {
  if (!options_.credentials.anonymous && options_.credentials.key) {
    tokens_ = std::make_unique<GcsTokenSource>(*options_.credentials.key, http_, clock_,
                                               options_.tls);
  }
}

GcsClient::~GcsClient() = default;

Result<GcsReply> GcsClient::SendOnce(const GcsCall& call, std::stop_token stop,
                                     rest::Attempt& attempt) {
  http::HttpRequest req;
  req.method = call.method;
  req.url = call.url.empty() ? options_.credentials.endpoint + call.path : call.url;
  char sep = req.url.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : call.query) {
    req.url += sep + s3::UriEncode(name) + "=" + s3::UriEncode(value);
    sep = '&';
  }
  req.headers = call.headers;
  req.body = call.body;
  if (options_.tls) req.tls = &*options_.tls;
  if (tokens_) {
    Result<std::string> auth = tokens_->Authorization(stop);
    if (!auth.ok()) return auth.status().WithContext(call.operation + " " + call.what);
    req.headers.Set("Authorization", *auth);
  }
  rest::ReplySink sink(call.sink);
  Result<http::HttpResponse> sent = http_.Send(req, sink, stop);
  attempt.began = attempt.began || sink.target_began();
  const std::string what = call.operation + " " + call.what;
  if (!sent.ok()) return sent.status().WithContext(what);
  const int code = sent->status_code;
  if ((code < 200 || code >= 300) && code != call.also_ok) {
    auto [reason, message] = GcsErrorOf(sink.error());
    attempt.pause = rest::RetryAfter(sent->headers);
    if (code == 401 && tokens_) {
      // a token revoked or expired early: once more at once with a new one
      tokens_->Invalidate();
      attempt.again_now = true;
    }
    return MapGcsError(code, reason, message, what);
  }
  return GcsReply{code, std::move(sent->headers), std::move(sink.collected())};
}

Result<GcsReply> GcsClient::Send(const GcsCall& call, std::stop_token stop) {
  retry::Policy once = options_.retry;
  once.max_attempts = 1;
  return rest::SendWithRetries<GcsReply>(
      call.single_attempt ? once : options_.retry, clock_, call.sink, retries_, stop,
      [&](rest::Attempt& attempt) { return SendOnce(call, stop, attempt); });
}

}  // namespace ferry::storage::gcs
