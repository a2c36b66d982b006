#include "http/curl_errors.h"

#include <string>

namespace ferry::http::internal {
namespace {

ErrorCode CodeFor(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_AGAIN:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
    case CURLE_PROXY:
      return ErrorCode::kUnavailable;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return ErrorCode::kInvalidArgument;
    case CURLE_ABORTED_BY_CALLBACK:
      return ErrorCode::kCancelled;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
      return ErrorCode::kFailedPrecondition;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace

Status CurlCodeToStatus(CURLcode code, std::string_view detail, std::string_view method,
                        std::string_view url) {
  // Drop the query string: it is noise in a message and may be long.
  std::string_view shown = url.substr(0, url.find('?'));
  std::string message;
  message.reserve(method.size() + shown.size() + detail.size() + 48);
  message.append(method).append(" ").append(shown).append(": ");
  message.append(detail.empty() ? std::string_view(curl_easy_strerror(code)) : detail);
  message.append(" (curl ").append(std::to_string(static_cast<int>(code))).append(")");
  return Status(CodeFor(code), std::move(message));
}

}  // namespace ferry::http::internal
