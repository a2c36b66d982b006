// A webhook target: one POST of the document (deliver.h).
#include <span>

#include "notify/deliver.h"

namespace ferry::notify {

Status DeliverWebhook(const Target& target, const std::string& document,
                      const DeliveryContext& context, std::stop_token stop) {
  const std::string where = DescribeTarget(target);
  if (context.http == nullptr) return Status::Internal(where + ": no transport");
  http::HttpRequest request;
  request.method = "POST";
  request.url = target.url;
  request.headers.Set("Content-Type", "application/json");
  for (const Header& h : target.headers) {
    FERRY_ASSIGN_OR_RETURN(std::string value, ReadSecret(h.value, where + " header " + h.name));
    request.headers.Set(h.name, value);
  }
  request.body = std::as_bytes(std::span(document.data(), document.size()));
  request.timeout_ms = static_cast<int>(context.timeout.count());
  http::TlsSettings tls;
  tls.ca_bundle = target.ca_bundle;
  if (!target.ca_bundle.empty()) request.tls = &tls;
  http::StringSink sink(64 * 1024);
  Result<http::HttpResponse> response = context.http->Send(request, sink, stop);
  if (!response.ok()) {
    return Status(response.status().code(), where + ": " + response.status().message());
  }
  const int code = response->status_code;
  if (code >= 200 && code < 300) return Status::Ok();
  const std::string message = where + ": HTTP " + std::to_string(code);
  if (code >= 500 || code == 429 || code == 408) return Status::Unavailable(message);
  return Status::FailedPrecondition(message);
}

}  // namespace ferry::notify
