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

namespace {

Status CheckCompletedParts(std::span<const CompletedPart> parts) {
  if (parts.empty()) return Status::InvalidArgument("CompleteMultipartUpload needs parts");
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].part_number <= parts[i - 1].part_number) {
      return Status::InvalidArgument("CompleteMultipartUpload parts must be in ascending order");
    }
  }
  return Status::Ok();
}

// What a HEAD must show for an object to be this upload's completion (a reply lost in transit):
// exactly these parts' ETag when they are MD5s; otherwise (SSE-C, SSE-KMS part ETags) at least
// the part count and the total size, never just any "-N" object.
struct CompletionProof {
  std::string expected_etag;  // "" when the parts' ETags are not MD5s
  std::string etag_suffix;    // "-N"
  uint64_t total_size = 0;

  static CompletionProof Of(std::span<const CompletedPart> parts, bool customer_key) {
    CompletionProof proof;
    // SSE-C part ETags are not MD5s on AWS although they look like them: no exact ETag then.
    if (!customer_key) proof.expected_etag = ExpectedMultipartEtag(parts);
    proof.etag_suffix = "-" + std::to_string(parts.size());
    for (const CompletedPart& p : parts) proof.total_size += p.size;
    return proof;
  }
  bool Matches(const ObjectHead& head) const {
    return expected_etag.empty() ? head.etag.ends_with(etag_suffix) && head.size == total_size
                                 : head.etag == expected_etag;
  }
};

// The completed object when HEAD shows that these parts were assembled; none when the key is
// absent or holds something else.
Result<std::optional<WrittenObject>> FindCompletion(S3Client& client,
                                                    const CompleteRequest& request,
                                                    const CompletionProof& proof,
                                                    std::stop_token stop) {
  Result<ObjectHead> head = client.HeadObject(request.bucket, request.key, {}, stop,
                                              request.customer_key);
  if (!head.ok()) {
    if (head.status().code() == ErrorCode::kNotFound) return std::optional<WrittenObject>();
    return head.status();
  }
  if (!proof.Matches(*head)) return std::optional<WrittenObject>();
  return std::optional<WrittenObject>(WrittenObject{head->etag, head->version_id});
}

// The written object of a completion's reply. RGW replies with an empty <ETag/>: the object's
// HEAD has it (of this version when the reply named one, since another write may have followed).
Result<WrittenObject> CompletedObject(S3Client& client, const CompleteRequest& request,
                                      const Reply& reply, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string etag, ParseCompleteMultipartUpload(reply.body));
  std::string version_id = reply.headers.Get("x-amz-version-id");
  if (!etag.empty()) return WrittenObject{std::move(etag), std::move(version_id)};
  FERRY_ASSIGN_OR_RETURN(ObjectHead head, client.HeadObject(request.bucket, request.key, version_id,
                                                            stop, request.customer_key));
  return WrittenObject{head.etag, std::move(version_id)};
}

}  // namespace

// The request's XML: with an additional checksum algorithm (CRC32C always for directory
// buckets) each part's checksum; those this client did not send (a resumed upload, server-side
// part copies) from ListParts.
Result<std::string> S3Client::CompleteBody(const CompleteRequest& request,
                                           std::optional<checksum::Algorithm> algorithm,
                                           std::stop_token stop) {
  if (!algorithm) return BuildCompleteMultipartUpload(request.parts);
  std::vector<CompletedPart> named(request.parts.begin(), request.parts.end());
  bool missing = false;
  for (CompletedPart& p : named) {
    p.checksum = part_checksums_->Get(request.upload_id, p.part_number).value_or("");
    missing = missing || p.checksum.empty();
  }
  if (missing) {
    FERRY_ASSIGN_OR_RETURN(
        std::vector<std::string> listed,
        ListedPartChecksums(request.bucket, request.key, request.upload_id, request.parts, stop));
    for (size_t i = 0; i < named.size(); ++i) {
      if (named[i].checksum.empty()) named[i].checksum = listed[i];
    }
  }
  return BuildCompleteMultipartUpload(named, *algorithm);
}

Result<WrittenObject> S3Client::CompleteMultipartUpload(const CompleteRequest& request,
                                                        std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(CheckCompletedParts(request.parts));
  const std::optional<checksum::Algorithm> algorithm =
      UploadChecksum(IsDirectoryBucket(request.bucket), request.checksum_algorithm);
  FERRY_ASSIGN_OR_RETURN(std::string xml, CompleteBody(request, algorithm, stop));
  const CompletionProof proof = CompletionProof::Of(request.parts, !request.customer_key.empty());

  RequestSpec spec;
  spec.method = "POST";
  spec.bucket = request.bucket;
  spec.key = request.key;
  spec.upload_id = request.upload_id;
  spec.query = {{"uploadId", request.upload_id}};
  spec.body = checksum::AsBytes(xml);
  spec.headers.Set("Content-Type", "application/xml");
  if (!request.customer_key.empty()) {
    AddSseHeaders(Encryption::Customer(request.customer_key), SseRequest::kComplete, spec.headers);
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
    if (reply.ok()) {
      if (algorithm) part_checksums_->Forget(request.upload_id);
      return CompletedObject(*this, request, *reply, stop);
    }
    const Status failure = reply.status();
    // NoSuchUpload after our own earlier attempt (or with an exact expected ETag to compare)
    // means "already completed" when HEAD agrees.
    const bool maybe_completed =
        failure.transient() || (failure.code() == ErrorCode::kNotFound &&
                                (attempt > 1 || !proof.expected_etag.empty()));
    if (!maybe_completed) return failure;
    FERRY_ASSIGN_OR_RETURN(std::optional<WrittenObject> done,
                           FindCompletion(*this, request, proof, stop));
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
