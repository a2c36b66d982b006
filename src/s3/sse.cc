// Server-side encryption headers (contracts in s3/sse.h).
#include "s3/sse.h"

#include <cstdint>
#include <span>

#include "checksum/checksum.h"

namespace ferry::s3 {
namespace {

constexpr std::string_view kSse = "x-amz-server-side-encryption";
constexpr std::string_view kKmsKeyId = "x-amz-server-side-encryption-aws-kms-key-id";
constexpr std::string_view kCustomerAlgorithm = "x-amz-server-side-encryption-customer-algorithm";
constexpr std::string_view kCustomerKey = "x-amz-server-side-encryption-customer-key";
constexpr std::string_view kCustomerKeyMd5 = "x-amz-server-side-encryption-customer-key-MD5";
constexpr std::string_view kCopyAlgorithm =
    "x-amz-copy-source-server-side-encryption-customer-algorithm";
constexpr std::string_view kCopyKey = "x-amz-copy-source-server-side-encryption-customer-key";
constexpr std::string_view kCopyKeyMd5 =
    "x-amz-copy-source-server-side-encryption-customer-key-MD5";
constexpr std::string_view kAes256 = "AES256";

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void AddKeyHeaders(std::string_view key, std::string_view algorithm_name,
                   std::string_view key_name, std::string_view md5_name,
                   http::Headers& headers) {
  headers.Set(algorithm_name, kAes256);
  headers.Set(key_name, checksum::Base64(Bytes(key)));
  headers.Set(md5_name, CustomerKeyMd5(key));
}

}  // namespace

Result<SseMode> ParseSseMode(std::string_view text) {
  if (text == "AES256") return SseMode::kS3;
  if (text == "aws:kms") return SseMode::kKms;
  return Status::InvalidArgument("unknown server-side encryption '" + std::string(text) +
                                 "' (expected AES256 or aws:kms)");
}

std::string_view SseModeName(SseMode mode) {
  switch (mode) {
    case SseMode::kNone:
      return "";
    case SseMode::kS3:
      return "AES256";
    case SseMode::kKms:
      return "aws:kms";
    case SseMode::kCustomer:
      return "SSE-C";
  }
  return "";
}

Result<std::string> ParseCustomerKey(std::string_view text, std::string_view what,
                                     bool allow_raw) {
  if (allow_raw && text.size() == kCustomerKeyBytes) return std::string(text);
  std::string_view trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' ||
                              trimmed.back() == ' ')) {
    trimmed.remove_suffix(1);
  }
  std::optional<std::string> raw = checksum::Base64Decode(trimmed);
  if (!raw) {
    return Status::InvalidArgument(std::string(what) +
                                   ": an SSE-C key must be base64 of 32 bytes (it is not base64)");
  }
  if (raw->size() != kCustomerKeyBytes) {
    return Status::InvalidArgument(std::string(what) + ": an SSE-C key must be 32 bytes (AES-256); "
                                   "this one decodes to " + std::to_string(raw->size()) +
                                   " bytes");
  }
  return std::move(*raw);
}

std::string CustomerKeyMd5(std::string_view key) {
  const checksum::Md5Digest md5 = checksum::Md5(std::as_bytes(std::span(key.data(), key.size())));
  return checksum::Base64(md5);
}

void AddSseHeaders(const Encryption& encryption, SseRequest request, http::Headers& headers) {
  switch (encryption.mode) {
    case SseMode::kNone:
      return;
    case SseMode::kS3:
    case SseMode::kKms:
      if (request != SseRequest::kWrite) return;  // S3 refuses them on parts and reads
      headers.Set(kSse, SseModeName(encryption.mode));
      if (encryption.mode == SseMode::kKms && !encryption.kms_key_id.empty()) {
        headers.Set(kKmsKeyId, encryption.kms_key_id);
      }
      return;
    case SseMode::kCustomer:
      AddKeyHeaders(encryption.customer_key, kCustomerAlgorithm, kCustomerKey, kCustomerKeyMd5,
                    headers);
      return;
  }
}

void AddCopySourceKeyHeaders(std::string_view key, http::Headers& headers) {
  if (key.empty()) return;
  AddKeyHeaders(key, kCopyAlgorithm, kCopyKey, kCopyKeyMd5, headers);
}

Status CheckSseConfirmed(const Encryption& asked, const http::Headers& reply,
                         std::string_view object) {
  switch (asked.mode) {
    case SseMode::kNone:
      return Status::Ok();
    case SseMode::kCustomer: {
      const std::string algorithm = reply.Get(kCustomerAlgorithm);
      if (algorithm == kAes256) return Status::Ok();
      return Status::NotSupported(
          std::string(object) + ": the store did not confirm SSE-C encryption (" +
          (algorithm.empty() ? std::string("no ") + std::string(kCustomerAlgorithm) + " in its reply"
                             : std::string(kCustomerAlgorithm) + ": " + algorithm) +
          ")");
    }
    case SseMode::kS3:
    case SseMode::kKms: {
      const std::string said = reply.Get(kSse);
      const std::string_view want = SseModeName(asked.mode);
      if (said != want) {
        return Status::NotSupported(
            std::string(object) + ": the store did not confirm server-side encryption " +
            std::string(want) + " (" +
            (said.empty() ? "its reply has no " + std::string(kSse) + " header"
                          : "its reply says " + said) +
            "): it may have stored the bytes unencrypted");
      }
      const std::string key = reply.Get(kKmsKeyId);
      if (asked.mode == SseMode::kKms && !asked.kms_key_id.empty() && !key.empty() &&
          key != asked.kms_key_id && !key.ends_with("/" + asked.kms_key_id)) {
        return Status::NotSupported(std::string(object) + ": the store encrypted with KMS key '" +
                                    key + "', not the key asked, '" + asked.kms_key_id + "'");
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace ferry::s3
