// CompleteMultipartUpload: not idempotent, so it is retried only with a follow-up check.
//
// A transient failure may hide a completion whose reply was lost; a retry would then fail with
// NoSuchUpload. Before retrying (or giving up) the client asks HeadObject whether the object now
// exists with the multipart ETag these parts produce (md5 of the part md5s + "-N"; when part
// ETags are not plain MD5s, the "-N" suffix and the total size of the parts).
#include <optional>

#include "checksum/checksum.h"
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

Result<WrittenObject> S3Client::CompleteMultipartUpload(std::string_view bucket,
                                                        std::string_view key,
                                                        std::string_view upload_id,
                                                        std::span<const CompletedPart> parts,
                                                        std::stop_token stop,
                                                        std::string_view customer_key) {
  return CompleteMultipartUpload(CompleteRequest{.bucket = std::string(bucket),
                                                 .key = std::string(key),
                                                 .upload_id = std::string(upload_id),
                                                 .parts = parts,
                                                 .customer_key = std::string(customer_key)},
                                 stop);
}

Result<WrittenObject> S3Client::CompleteMultipartUpload(const CompleteRequest& request,
                                                        std::stop_token stop) {
  const std::string_view bucket = request.bucket;
  const std::string_view key = request.key;
  const std::string_view upload_id = request.upload_id;
  const std::string_view customer_key = request.customer_key;
  const std::span<const CompletedPart> parts = request.parts;
  if (parts.empty()) return Status::InvalidArgument("CompleteMultipartUpload needs parts");
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].part_number <= parts[i - 1].part_number) {
      return Status::InvalidArgument("CompleteMultipartUpload parts must be in ascending order");
    }
  }
  // An upload with an additional checksum algorithm (CRC32C always for directory buckets):
  // each part's checksum; those this client did not send (a resumed upload, server-side part
  // copies) from ListParts.
  const std::optional<checksum::Algorithm> algorithm =
      UploadChecksum(IsDirectoryBucket(bucket), request.checksum_algorithm);
  std::string xml;
  if (algorithm) {
    std::vector<CompletedPart> named(parts.begin(), parts.end());
    bool missing = false;
    for (CompletedPart& p : named) {
      p.checksum = part_checksums_->Get(upload_id, p.part_number).value_or("");
      missing = missing || p.checksum.empty();
    }
    if (missing) {
      FERRY_ASSIGN_OR_RETURN(std::vector<std::string> listed,
                             ListedPartChecksums(bucket, key, upload_id, parts, stop));
      for (size_t i = 0; i < named.size(); ++i) {
        if (named[i].checksum.empty()) named[i].checksum = listed[i];
      }
    }
    xml = BuildCompleteMultipartUpload(named, *algorithm);
  } else {
    xml = BuildCompleteMultipartUpload(parts);
  }
  // SSE-C part ETags are not MD5s on AWS although they look like them: no exact ETag then.
  const std::string expected_etag = customer_key.empty() ? ExpectedMultipartEtag(parts) : "";
  const std::string etag_suffix = "-" + std::to_string(parts.size());
  uint64_t total_size = 0;
  for (const CompletedPart& p : parts) total_size += p.size;

  // The completed object when HEAD shows that these parts were assembled.
  auto completed = [&]() -> Result<std::optional<WrittenObject>> {
    Result<ObjectHead> head = HeadObject(bucket, key, {}, stop, customer_key);
    if (!head.ok()) {
      if (head.status().code() == ErrorCode::kNotFound) return std::optional<WrittenObject>();
      return head.status();
    }
    // Exactly these parts' ETag when they are MD5s; otherwise (SSE-KMS part ETags) at least
    // the part count and the total size must be this upload's, never just any "-N" object.
    const bool match = expected_etag.empty()
                           ? head->etag.ends_with(etag_suffix) && head->size == total_size
                           : head->etag == expected_etag;
    if (!match) return std::optional<WrittenObject>();
    return std::optional<WrittenObject>(WrittenObject{head->etag, head->version_id});
  };

  RequestSpec spec;
  spec.method = "POST";
  spec.bucket = bucket;
  spec.key = key;
  spec.upload_id = upload_id;
  spec.query = {{"uploadId", std::string(upload_id)}};
  spec.body = checksum::AsBytes(xml);
  spec.headers.Set("Content-Type", "application/xml");
  if (!customer_key.empty()) {
    AddSseHeaders(Encryption::Customer(std::string(customer_key)), SseRequest::kComplete,
                  spec.headers);
  }
  if (algorithm && !request.full_object_checksum.empty()) {
    // The whole object's value, which the store checks against the parts' combined and keeps.
    spec.headers.Set(checksum::HeaderName(*algorithm), request.full_object_checksum);
    spec.headers.Set(std::string(kChecksumTypeHeader), "FULL_OBJECT");
  }
  spec.error_in_200 = true;
  spec.max_attempts = 1;  // this loop retries, with the check in between
  const int max_attempts = std::max(1, options_.retry.max_attempts);

  for (int attempt = 1;; ++attempt) {
    Result<Reply> reply = Call::Run(*this, spec, stop);
    if (algorithm && reply.ok()) part_checksums_->Forget(upload_id);
    if (reply.ok()) {
      FERRY_ASSIGN_OR_RETURN(std::string etag, ParseCompleteMultipartUpload(reply->body));
      std::string version_id = reply->headers.Get("x-amz-version-id");
      if (!etag.empty()) return WrittenObject{std::move(etag), std::move(version_id)};
      // RGW replies with an empty <ETag/>: the object's HEAD has it (of this version when
      // the reply named one, since another write may have followed).
      FERRY_ASSIGN_OR_RETURN(ObjectHead head, HeadObject(bucket, key, version_id, stop, customer_key));
      return WrittenObject{head.etag, std::move(version_id)};
    }
    const Status failure = reply.status();
    // NoSuchUpload after our own earlier attempt (or with an exact expected ETag to compare)
    // means "already completed" when HEAD agrees.
    const bool maybe_completed = failure.transient() || (failure.code() == ErrorCode::kNotFound &&
                                                         (attempt > 1 || !expected_etag.empty()));
    if (!maybe_completed) return failure;
    FERRY_ASSIGN_OR_RETURN(std::optional<WrittenObject> done, completed());
    if (done) return *std::move(done);
    if (!failure.transient() || attempt >= max_attempts) {
      if (attempt > 1) {
        return Status(failure.code(),
                      failure.message() + " [after " + std::to_string(attempt) + " attempts]");
      }
      return failure;
    }
    FERRY_RETURN_IF_ERROR(Call::Backoff(*this, attempt, std::chrono::milliseconds(0), stop));
  }
}

}  // namespace ferry::s3
