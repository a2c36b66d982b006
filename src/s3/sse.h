// Server-side encryption of S3 objects (docs/design/encryption.md): what a write asks the store
// to do (SSE-S3 "AES256", SSE-KMS "aws:kms" with an optional key id, SSE-C with a customer key),
// and the one place that turns it into request headers, per operation, as S3 requires them:
//
//   operation                      SSE-S3 / SSE-KMS            SSE-C (customer key)
//   PutObject, CopyObject (dest.)  x-amz-server-side-encryption[-aws-kms-key-id]   key headers
//   CreateMultipartUpload          the same                    key headers
//   UploadPart, UploadPartCopy     nothing (S3 refuses them)   key headers
//   CompleteMultipartUpload        nothing                     key headers (a bucket policy may
//                                                              require them; harmless otherwise)
//   GetObject, HeadObject          nothing (S3 refuses them)   key headers
//   CopyObject/UploadPartCopy src  -                           x-amz-copy-source-...-customer-*
//
// The key headers are x-amz-server-side-encryption-customer-algorithm: AES256, -customer-key:
// base64 of the 32 raw key bytes, -customer-key-MD5: base64 of their MD5. The customer key is a
// secret: it is never put in a message, a log line or a Status (http/curl_verbose.cc redacts its
// headers from traces). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "http/transport.h"

namespace ferry::s3 {

enum class SseMode {
  kNone,      // nothing asked: the bucket's default applies
  kS3,        // x-amz-server-side-encryption: AES256 (keys managed by the store)
  kKms,       // x-amz-server-side-encryption: aws:kms (+ the key id when given)
  kCustomer,  // SSE-C: the customer's key is sent with every request that touches the bytes
};

// How an object is written (and, for SSE-C, read) encrypted.
struct Encryption {
  SseMode mode = SseMode::kNone;
  std::string kms_key_id;    // kKms only; "" = the store's default key
  std::string customer_key;  // kCustomer only: the 32 raw key bytes (a secret)

  bool none() const { return mode == SseMode::kNone; }
  // An SSE-C encryption with `key` (32 raw bytes).
  static Encryption Customer(std::string key) {
    return Encryption{SseMode::kCustomer, "", std::move(key)};
  }
};

// The requests that carry encryption headers (the table above).
enum class SseRequest {
  kWrite,          // PutObject, CopyObject's destination, CreateMultipartUpload
  kPart,           // UploadPart, UploadPartCopy's destination
  kComplete,       // CompleteMultipartUpload
  kRead,           // GetObject, HeadObject
};

// The length of an SSE-C key: AES-256.
inline constexpr size_t kCustomerKeyBytes = 32;

// "AES256" -> kS3, "aws:kms" -> kKms; anything else kInvalidArgument (one line naming the
// value and the accepted ones).
Result<SseMode> ParseSseMode(std::string_view text);
// The header value of a mode ("AES256", "aws:kms", "SSE-C" for kCustomer, "" for kNone).
std::string_view SseModeName(SseMode mode);

// An SSE-C key given as base64 of 32 bytes (as the AWS CLI takes it), or as exactly 32 raw
// bytes when `allow_raw` (a key file may hold the bytes themselves). Returns the raw bytes.
// kInvalidArgument naming `what` (e.g. "--sse-c-key") when it is neither; the message never
// holds the key.
Result<std::string> ParseCustomerKey(std::string_view text, std::string_view what,
                                     bool allow_raw = false);

// Base64 of the MD5 of the raw key bytes (x-amz-server-side-encryption-customer-key-MD5).
std::string CustomerKeyMd5(std::string_view key);

// Adds the headers `encryption` needs on a request of kind `request` (the table above);
// nothing for kNone, and nothing for SSE-S3/SSE-KMS outside kWrite.
void AddSseHeaders(const Encryption& encryption, SseRequest request, http::Headers& headers);

// The x-amz-copy-source-server-side-encryption-customer-* headers of a server-side copy whose
// source is SSE-C encrypted with `key` (32 raw bytes); nothing when `key` is empty.
void AddCopySourceKeyHeaders(std::string_view key, http::Headers& headers);

// Whether a write's reply confirms the encryption asked: SSE-S3/SSE-KMS need the reply's
// x-amz-server-side-encryption to name the mode (and, when a KMS key id was asked and the
// reply names one, that key); SSE-C needs x-amz-server-side-encryption-customer-algorithm.
// kNone is always confirmed. kNotSupported naming `object` and what the reply said otherwise
// (a store that ignores the header, as Ceph RGW 16 does with AES256, stores plain bytes).
Status CheckSseConfirmed(const Encryption& asked, const http::Headers& reply,
                         std::string_view object);

}  // namespace ferry::s3
