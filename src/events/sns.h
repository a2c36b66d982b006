// Amazon SNS envelopes and their signatures, as pure functions.
//
// S3 can publish its notifications to an SNS topic, which POSTs each one to an HTTPS
// subscriber inside a JSON envelope: {"Type":"Notification","Message":"<the S3 JSON as a
// string>","TopicArn":...,"Signature":...,"SigningCertURL":...}. Before any notification, SNS
// sends a "SubscriptionConfirmation" (the subscriber confirms by visiting SubscribeURL), and
// after an unsubscribe an "UnsubscribeConfirmation". events/parse.h reads envelopes
// (ParseSnsEnvelope, ParseBody); this header checks them.
//
// What the caller does, in order: CheckSigningCertUrl(envelope.signing_cert_url); fetch that
// certificate over HTTPS (a cache by URL is fine: SnsCertificateNotAfter says until when);
// VerifySnsSignature(envelope, pem, now); only then trust the envelope and its Message (and
// check TopicArn against the topics it expects); a SubscriptionConfirmation is confirmed by a
// GET of its SubscribeURL once CheckSubscribeUrl passes. Nothing here touches the network
// (serve/sns_gate.h does, for `ferry serve`).
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::events {

enum class SnsType { kNotification, kSubscriptionConfirmation, kUnsubscribeConfirmation };
std::string_view SnsTypeName(SnsType type);  // the Type value SNS sends

// One envelope's fields, as sent (strings byte for byte: they are what SNS signed). A field the
// envelope lacks is empty.
struct SnsEnvelope {
  SnsType type = SnsType::kNotification;
  std::string message_id;
  std::string topic_arn;
  std::optional<std::string> subject;  // Notification only; signed only when present
  std::string message;                 // Notification: here the S3 notification JSON
  std::string timestamp;               // ISO 8601, as sent
  std::string signature_version;       // "1" (SHA1withRSA) or "2" (SHA256withRSA)
  std::string signature;               // base64
  std::string signing_cert_url;
  std::string subscribe_url;    // the two confirmations: visit it to (re)subscribe
  std::string token;            // the two confirmations: ConfirmSubscription's token
  std::string unsubscribe_url;  // Notification
};

// The text SNS signs for `envelope`: for each signed field in its fixed order, its name, '\n',
// its value, '\n'. Notification: Message, MessageId, Subject (only when present), Timestamp,
// TopicArn, Type. The two confirmations: Message, MessageId, SubscribeURL, Timestamp, Token,
// TopicArn, Type. missing_field when a signed field other than Subject is empty.
Result<std::string> SnsStringToSign(const SnsEnvelope& envelope);

// OK when `url` may name an SNS signing certificate: "https://", then a host
// "sns.<region>.amazonaws.com" (or ".amazonaws.com.cn" in the China regions; <region> such as
// "us-east-1": lower-case letters, digits and '-', starting with a letter and ending with a
// digit), no user, no port, then a path ending in ".pem", with no query or fragment.
// bad_cert_url otherwise. A pattern check on the text; no lookup.
Status CheckSigningCertUrl(std::string_view url);

// OK when `url` may be a SubscribeURL to visit: "https://", a host passing the same SNS host
// rule as CheckSigningCertUrl, no user, no port, the path "/", then a query of plain URL
// characters (letters, digits, "-._~:&=%+/,") with the parameter Action=ConfirmSubscription,
// and no fragment. bad_subscribe_url otherwise. A pattern check on the text; no lookup.
Status CheckSubscribeUrl(std::string_view url);

// The end of the validity (notAfter) of `certificate_pem` when it is one PEM X.509 certificate
// with an RSA key that is valid at `now` (the checks VerifySnsSignature makes of it);
// bad_certificate otherwise. For a cache of fetched certificates: how long one may be reused.
Result<std::chrono::system_clock::time_point> SnsCertificateNotAfter(
    std::string_view certificate_pem, std::chrono::system_clock::time_point now);

// OK when `envelope` is signed by the key of `certificate_pem` (the certificate fetched from
// its SigningCertURL) and that certificate is valid at `now`. Checks, in order:
// CheckSigningCertUrl (bad_cert_url); the signature version (unsupported_signature_version);
// the signed fields (missing_field); the certificate: PEM, an RSA key, notBefore <= now <=
// notAfter (bad_certificate); the base64 signature over SnsStringToSign with SHA1withRSA (1) or
// SHA256withRSA (2) (bad_signature). Failures are kUnauthenticated except missing_field.
Status VerifySnsSignature(const SnsEnvelope& envelope, std::string_view certificate_pem,
                          std::chrono::system_clock::time_point now);

}  // namespace ferry::events
