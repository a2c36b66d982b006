// Additional checksums on the wire (x-amz-checksum-*): what replies declare, what writes send,
// and the check of what a store echoes (client_internal.h).
#include <string>

#include "s3/client_internal.h"

namespace ferry::s3 {
namespace {

constexpr checksum::Algorithm kAlgorithms[] = {
    checksum::Algorithm::kCrc64Nvme, checksum::Algorithm::kCrc32c, checksum::Algorithm::kCrc32,
    checksum::Algorithm::kSha256, checksum::Algorithm::kSha1};

}  // namespace

std::optional<checksum::Declared> ParseChecksumHeaders(const http::Headers& headers) {
  const std::string type = headers.Get("x-amz-checksum-type");
  // An object written in parts whose value names no part count and whose type is not said is
  // composite or full-object: only CRC64NVME (always full-object) is known to be the whole's.
  const std::string etag = headers.Get("ETag");
  const bool multipart_etag = etag.find('-') != std::string::npos;
  for (checksum::Algorithm a : kAlgorithms) {
    const std::string* value = headers.Find(checksum::HeaderName(a));
    if (value == nullptr || value->empty()) continue;
    std::optional<checksum::Declared> declared = checksum::ParseDeclared(a, *value);
    // A value the store calls composite must name its part count: a composite value taken for
    // a full-object one would be a false corruption.
    if (!declared || (type == "COMPOSITE" && declared->full_object())) continue;
    if (declared->full_object() && multipart_etag && type != "FULL_OBJECT" &&
        a != checksum::Algorithm::kCrc64Nvme) {
      continue;
    }
    return declared;
  }
  return std::nullopt;
}

SentChecksum AddChecksumHeaders(checksum::Algorithm algorithm, std::string_view known_value,
                                std::span<const std::byte> body, http::Headers& headers) {
  SentChecksum sent{.algorithm = algorithm,
                    .value = known_value.empty() ? checksum::Compute(algorithm, body)
                                                 : std::string(known_value)};
  headers.Set(checksum::HeaderName(algorithm), sent.value);
  // What the SDKs send beside it; some servers (moto) keep the checksum only with it.
  headers.Set("x-amz-sdk-checksum-algorithm", std::string(checksum::AlgorithmName(algorithm)));
  return sent;
}

Status CheckEchoedChecksum(const http::Headers& reply, const SentChecksum& sent,
                           std::string_view what) {
  const std::string echoed = reply.Get(checksum::HeaderName(sent.algorithm));
  if (echoed.empty() || echoed == sent.value) return Status::Ok();
  return Status::DataLoss(std::string(what) + ": the store reports " +
                          std::string(checksum::AlgorithmName(sent.algorithm)) + " " + echoed +
                          " for the body ferry sent with " + sent.value);
}

}  // namespace ferry::s3
