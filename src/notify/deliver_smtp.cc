// An SMTP target: one e-mail through libcurl (http/smtp.h; deliver.h).
#include "notify/deliver.h"

namespace ferry::notify {
namespace {

// The message: headers (the subject is ASCII: Subject() holds the command, state, counts and
// run id; a source with other bytes is in the body only), a blank line, the document.
std::string MailMessage(const Target& target, const RunEnd& run, const std::string& document) {
  std::string to;
  for (const std::string& t : target.to) to += (to.empty() ? "" : ", ") + t;
  std::string subject = Subject(run);
  for (char& c : subject) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return "From: " + target.from + "\r\nTo: " + to + "\r\nSubject: " + subject +
         "\r\nDate: " + TimeText(run.ended) +
         "\r\nContent-Type: application/json; charset=utf-8\r\n\r\n" + document + "\r\n";
}

}  // namespace

Status DeliverSmtp(const Target& target, const RunEnd& run, const std::string& document,
                   const DeliveryContext& context, std::stop_token stop) {
  (void)stop;  // one message: bounded by the request's timeout
  const std::string where = DescribeTarget(target);
  http::MailRequest mail;
  mail.url = target.url;
  mail.from = target.from;
  mail.to = target.to;
  mail.user = target.user;
  if (!target.user.empty()) {
    FERRY_ASSIGN_OR_RETURN(mail.password, ReadSecret(target.password, where + " password"));
  }
  mail.ca_bundle = target.ca_bundle;
  mail.message = MailMessage(target, run, document);
  mail.timeout = context.timeout;
  http::MailSender& sender = context.mail != nullptr ? *context.mail : http::CurlMailSender();
  const Status sent = sender.Send(mail);
  return sent.ok() ? sent : Status(sent.code(), where + ": " + sent.message());
}

}  // namespace ferry::notify
