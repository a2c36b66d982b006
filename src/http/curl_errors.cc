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
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CRL_BADFILE:
      return ErrorCode::kInvalidArgument;  // this side's TLS files or settings
    default:
      return ErrorCode::kInternal;
  }
}

// The server's certificate failed the check (its chain, its name, a pinned key, its status).
bool Untrusted(CURLcode code) {
  return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_ISSUER_ERROR ||
         code == CURLE_SSL_PINNEDPUBKEYNOTMATCH || code == CURLE_SSL_INVALIDCERTSTATUS;
}

// "scheme://host[:port]" of an absolute URL.
std::string_view Origin(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return url;
  return url.substr(0, url.find_first_of("/?#", scheme + 3));
}

}  // namespace

Status CurlCodeToStatus(CURLcode code, std::string_view detail, std::string_view method,
                        std::string_view url, std::string_view untrusted_hint) {
  if (detail.empty()) detail = curl_easy_strerror(code);
  const std::string curl_code = " (curl " + std::to_string(static_cast<int>(code)) + ")";
  if (Untrusted(code)) {
    std::string message = "TLS certificate of ";
    message.append(Origin(url)).append(" not trusted: ").append(detail).append(curl_code);
    if (!untrusted_hint.empty()) message.append("; ").append(untrusted_hint);
    return Status::Unauthenticated(std::move(message));
  }
  // Drop the query string: it is noise in a message and may be long.
  std::string_view shown = url.substr(0, url.find('?'));
  std::string message;
  message.reserve(method.size() + shown.size() + detail.size() + 48);
  message.append(method).append(" ").append(shown).append(": ").append(detail).append(curl_code);
  return Status(CodeFor(code), std::move(message));
}

}  // namespace ferry::http::internal
