// Sending one e-mail over SMTP with libcurl (curl_library.h: loaded on first use), for the
// notifications of a run's end (src/notify/deliver_smtp.cc).
//
// MailSender is the seam (tests give a fake); CurlMailSender sends with one easy handle of its
// own per message (a handful per run: the transport's pool and loop are for S3's traffic):
// smtp:// with STARTTLS when the server offers it, smtps:// with TLS from the first byte, the
// login when a user is given, the envelope's sender and recipients, the message as given
// (headers, a blank line, the body: the caller formats it).
//
// Errors: curl's, mapped as the transport maps them (curl_errors.h: kUnavailable for a server
// that cannot be reached or answers with a transient code, kUnauthenticated for a refused
// login or certificate); the password never appears in a message. Thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"

namespace ferry::http {

struct MailRequest {
  std::string url;  // smtp://host[:port] or smtps://host[:port]
  std::string from;
  std::vector<std::string> to;
  std::string user;      // "": no login
  std::string password;  // with user
  std::string ca_bundle;  // "": the system's CAs
  std::string message;    // RFC 5322: headers, CRLF CRLF, body
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

class MailSender {
 public:
  virtual ~MailSender() = default;
  virtual Status Send(const MailRequest& request) = 0;
};

// The process's libcurl sender.
MailSender& CurlMailSender();

}  // namespace ferry::http
