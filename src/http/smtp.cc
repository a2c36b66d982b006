// SMTP through libcurl (smtp.h).
#include "http/smtp.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "http/curl_errors.h"
#include "http/curl_library.h"

namespace ferry::http {
namespace {

// The message handed to libcurl's read callback, in pieces.
struct SmtpReadState {
  const std::string* text = nullptr;
  size_t offset = 0;
};

size_t SmtpReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* state = static_cast<SmtpReadState*>(user);
  const size_t n = std::min(size * count, state->text->size() - state->offset);
  std::memcpy(buffer, state->text->data() + state->offset, n);
  state->offset += n;
  return n;
}

class CurlSmtp : public MailSender {
 public:
  Status Send(const MailRequest& request) override {
    FERRY_RETURN_IF_ERROR(LoadCurl());
    std::unique_ptr<CURL, void (*)(CURL*)> h(curl_easy_init(), &curl_easy_cleanup);
    if (!h) return Status::Internal("smtp: curl_easy_init failed");
    // The recipients as libcurl's list, built here (a public struct libcurl only reads): no
    // curl_slist_* calls to load.
    std::vector<std::string> addresses;
    for (const std::string& to : request.to) addresses.push_back("<" + to + ">");
    std::vector<curl_slist> rcpt(addresses.size());
    for (size_t i = 0; i < addresses.size(); ++i) {
      rcpt[i].data = addresses[i].data();
      rcpt[i].next = i + 1 < addresses.size() ? &rcpt[i + 1] : nullptr;
    }
    const std::string from = "<" + request.from + ">";
    SmtpReadState body{.text = &request.message};
    char error[CURL_ERROR_SIZE] = {};
    CURL* c = h.get();
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.empty() ? nullptr : rcpt.data());
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &SmtpReadBody);
    curl_easy_setopt(c, CURLOPT_READDATA, &body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    // STARTTLS when the server offers it (smtp://); smtps:// is TLS from the first byte.
    curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
    if (!request.ca_bundle.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, request.ca_bundle.c_str());
    if (!request.user.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, request.user.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, request.password.c_str());
    }
    const CURLcode code = curl_easy_perform(c);
    if (code == CURLE_OK) return Status::Ok();
    return internal::CurlCodeToStatus(code, error, "SMTP", request.url);
  }
};

}  // namespace

MailSender& CurlMailSender() {
  static CurlSmtp sender;
  return sender;
}

}  // namespace ferry::http
