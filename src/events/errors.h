// Why the event intake refused a body: one short machine word per cause, for a metric label,
// carried at the start of the refusal's Status message ("missing_field: record 1:
// s3.bucket.name is missing"), the rest of the message being for people.
//
// Every refusal of the parsers (events/parse.h) is kInvalidArgument; every refusal of the SNS
// signature check (events/sns.h) is kUnauthenticated. Neither is worth a retry of the same
// body: the caller answers the sender and counts the reason.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::events {

enum class Reason {
  kTooLarge,        // "too_large": the body is over ParseOptions::max_body_bytes
  kMalformedJson,   // "malformed_json": not JSON, not an object, or nested too deep
  kUnknownBody,     // "unknown_body": JSON, but neither S3 records, a test event nor SNS
  kUnknownVersion,  // "unknown_version": an eventVersion whose major version is not 2
  kUnknownSource,   // "unknown_source": an eventSource other than aws:s3, ceph:s3, minio:s3
  kMissingField,    // "missing_field": a field the record cannot do without is absent/empty
  kInvalidField,    // "invalid_field": a field of the wrong type or an unreadable value
  kInvalidKey,      // "invalid_key": the key is not an S3 key once decoded
  kBadCertUrl,      // "bad_cert_url": SigningCertURL is not an https SNS certificate URL
  kUnsupportedSignatureVersion,  // "unsupported_signature_version": not "1" or "2"
  kBadCertificate,  // "bad_certificate": unreadable PEM, not RSA, or outside its validity
  kBadSignature,    // "bad_signature": the signature does not verify (or is not base64)
  kBadSubscribeUrl,  // "bad_subscribe_url": SubscribeURL is not an https SNS ConfirmSubscription
};

std::string_view ReasonName(Reason reason);

// The refusal for `reason`: kUnauthenticated for the signature and URL reasons, else
// kInvalidArgument; the message is "<ReasonName>: <message>".
Status Refuse(Reason reason, std::string_view message);

// The reason word a status of this module carries: "" for OK, the word when the message
// starts with one of the names above and ": ", else "other".
std::string_view ReasonOf(const Status& status);

}  // namespace ferry::events
