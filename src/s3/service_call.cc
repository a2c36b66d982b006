// SendSigned (service_call.h).
#include "s3/service_call.h"

#include "checksum/checksum.h"
#include "s3/sigv4.h"

namespace ferry::s3 {

Result<ServiceReply> SendSigned(const ServiceEndpoint& endpoint, std::string_view service,
                                http::Headers headers, const std::string& body,
                                std::chrono::milliseconds timeout, http::HttpTransport& http,
                                Clock& clock, std::stop_token stop) {
  http::HttpRequest request;
  request.method = "POST";
  request.url = endpoint.url + "/";
  request.headers = std::move(headers);
  request.body = checksum::AsBytes(body);
  request.timeout_ms = static_cast<int>(timeout.count());
  if (endpoint.tls) request.tls = &*endpoint.tls;
  if (endpoint.credentials != nullptr) {
    FERRY_ASSIGN_OR_RETURN(Credentials creds, endpoint.credentials->Get());
    if (!creds.anonymous()) {
      const SigningScope scope{endpoint.region, std::string(service),
                               /*double_encode_path=*/true};
      SignV4(request, checksum::Sha256Hex(body), creds, scope, clock.Now());
    }
  }
  http::StringSink sink(4u << 20);
  FERRY_ASSIGN_OR_RETURN(http::HttpResponse reply, http.Send(request, sink, stop));
  return ServiceReply{reply.status_code, std::move(reply.headers), std::move(sink.body())};
}

}  // namespace ferry::s3
