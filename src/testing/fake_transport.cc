#include "testing/fake_transport.h"

#include <algorithm>
#include <span>
#include <utility>

namespace ferry::testing {

FakeReply FakeReply::Ok(std::string body, http::Headers headers) {
  FakeReply r;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

FakeReply FakeReply::S3Error(int status, std::string code, std::string message) {
  FakeReply r;
  r.status = status;
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" +
           message + "</Message><RequestId>tx1</RequestId></Error>";
  r.headers.Add("Content-Type", "application/xml");
  return r;
}

FakeReply FakeReply::NetworkError(Status error, std::string partial_body) {
  FakeReply r;
  r.error = std::move(error);
  r.body = std::move(partial_body);
  return r;
}

void FakeTransport::Push(FakeReply reply) {
  std::lock_guard lock(mu_);
  script_.push_back(std::move(reply));
}

void FakeTransport::SetHandler(std::function<FakeReply(const http::HttpRequest&)> handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

Result<http::HttpResponse> FakeTransport::Send(const http::HttpRequest& request,
                                               http::BodySink& sink, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("fake transport: cancelled");
  FakeReply reply;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(
        {request.method, request.url, request.headers,
         std::string(reinterpret_cast<const char*>(request.body.data()), request.body.size()),
         request.tls != nullptr ? std::optional<http::TlsSettings>(*request.tls) : std::nullopt});
    if (!script_.empty()) {
      reply = std::move(script_.front());
      script_.pop_front();
    } else if (handler_) {
      reply = handler_(request);
    } else {
      return Status::Internal("fake transport: no scripted reply for " + request.method + " " +
                              request.url);
    }
  }
  if (!reply.error.ok() && reply.body.empty()) return reply.error;
  FERRY_RETURN_IF_ERROR(sink.Begin(reply.status, reply.headers));
  uint64_t delivered = 0;
  if (request.method != "HEAD") {
    std::span<const std::byte> body(reinterpret_cast<const std::byte*>(reply.body.data()),
                                    reply.body.size());
    while (!body.empty()) {
      const size_t n = std::min(kChunk, body.size());
      FERRY_RETURN_IF_ERROR(sink.Write(body.first(n)));
      delivered += n;
      body = body.subspan(n);
    }
  }
  if (!reply.error.ok()) return reply.error;
  http::HttpResponse response;
  response.status_code = reply.status;
  response.headers = std::move(reply.headers);
  response.body_bytes = delivered;
  return response;
}

std::vector<RecordedRequest> FakeTransport::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t FakeTransport::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

size_t FakeTransport::pending_replies() const {
  std::lock_guard lock(mu_);
  return script_.size();
}

}  // namespace ferry::testing
