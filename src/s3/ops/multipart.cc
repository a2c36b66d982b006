// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy, AbortMultipartUpload.
// CompleteMultipartUpload is in complete_multipart.cc, the listings in list_multipart.cc.
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {
namespace {

constexpr int kMaxPartNumber = 10000;

Status CheckPartNumber(int part_number) {
  if (part_number < 1 || part_number > kMaxPartNumber) {
    return Status::InvalidArgument("part number " + std::to_string(part_number) +
                                   " outside 1..10000");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> S3Client::CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                                    const WriteOptions& options,
                                                    std::stop_token stop) {
  RequestSpec spec;
  spec.method = "POST";
  spec.bucket = bucket;
  spec.key = key;
  spec.query = {{"uploads", ""}};
  AddWriteHeaders(options, spec.headers);
  AddSseHeaders(options.encryption, SseRequest::kWrite, spec.headers);
  // The parts carry checksums of the algorithm (UploadPart), which the completion names:
  // CRC32C for directory buckets unless another is asked for. CRC64NVME exists only as a
  // full-object checksum (the store combines the parts' CRCs); CRC32 and CRC32C are one when
  // asked (options.full_object_checksum), composite otherwise.
  if (std::optional<checksum::Algorithm> algorithm = UploadChecksum(IsDirectoryBucket(bucket), options.checksum_algorithm)) {
    spec.headers.Set(std::string(kChecksumAlgorithmHeader),
                     std::string(checksum::AlgorithmName(*algorithm)));
    if (*algorithm == checksum::Algorithm::kCrc64Nvme ||
        (options.full_object_checksum && checksum::IsCrc(*algorithm))) {
      spec.headers.Set(std::string(kChecksumTypeHeader), "FULL_OBJECT");
    }
  }
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  FERRY_ASSIGN_OR_RETURN(std::string upload_id, ParseInitiateMultipartUpload(reply.body));
  if (Status confirmed = CheckSseConfirmed(options.encryption, reply.headers,
                                           DisplayName(bucket, key));
      !confirmed.ok()) {
    // Nothing was written yet: the upload is abandoned before any part.
    (void)AbortMultipartUpload(bucket, key, upload_id, stop);
    return confirmed;
  }
  return upload_id;
}

Result<std::string> S3Client::UploadPart(const UploadPartRequest& request, std::stop_token stop,
                                         ObjectHead* reply_head) {
  const std::string& bucket = request.bucket;
  const std::string& key = request.key;
  const std::string& upload_id = request.upload_id;
  const int part_number = request.part_number;
  const std::span<const std::byte> body = request.body;
  FERRY_RETURN_IF_ERROR(CheckPartNumber(part_number));
  RequestSpec spec;
  spec.method = "PUT";
  spec.bucket = bucket;
  spec.key = key;
  spec.upload_id = upload_id;
  spec.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}};
  spec.body = body;
  const std::optional<checksum::Algorithm> algorithm =
      UploadChecksum(IsDirectoryBucket(bucket), request.checksum_algorithm);
  std::optional<SentChecksum> sent;
  if (algorithm) {
    // The part's checksum: verified by the store, echoed, and named again in the completion
    // (directory buckets take no Content-MD5 and always have one).
    sent = AddChecksumHeaders(*algorithm, {}, body, spec.headers);
  } else if (!Call::SignsPayload(*this)) {
    // The server checks the body against the signed SHA-256, or else against Content-MD5:
    // never both hashes for one part (MD5 is the costly one).
    spec.headers.Set("Content-MD5", ContentMd5(body));
  }
  AddSseHeaders(request.encryption, SseRequest::kPart, spec.headers);
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  if (sent) {
    FERRY_RETURN_IF_ERROR(CheckEchoedChecksum(
        reply.headers, *sent,
        "part " + std::to_string(part_number) + " of " + DisplayName(bucket, key)));
    part_checksums_->Put(upload_id, part_number, std::move(sent->value));
  }
  if (reply_head != nullptr) *reply_head = ParseObjectHead(reply.headers);
  std::string etag = UnquoteEtag(reply.headers.Get("ETag"));
  if (etag.empty()) {
    return Status::Internal("UploadPart reply without an ETag for part " +
                            std::to_string(part_number) + " of " + DisplayName(bucket, key));
  }
  return etag;
}

Result<std::string> S3Client::UploadPartCopy(const UploadPartCopyRequest& request,
                                             std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(CheckPartNumber(request.part_number));
  const CopySourceSpec& src = request.source;
  const ByteRange range = request.range;
  RequestSpec spec;
  spec.method = "PUT";
  spec.bucket = request.bucket;
  spec.key = request.key;
  spec.upload_id = request.upload_id;
  spec.error_in_200 = true;
  spec.query = {{"partNumber", std::to_string(request.part_number)},
                {"uploadId", request.upload_id}};
  spec.headers.Set("x-amz-copy-source", CopySource(src.bucket, src.key, src.version_id));
  AddCopySourceKeyHeaders(src.customer_key, spec.headers);
  AddSseHeaders(request.encryption, SseRequest::kPart, spec.headers);
  if (request.checksum_algorithm) {
    // The store computes the copied part's checksum (returned in the CopyPartResult); the
    // completion asks ListParts for it.
    spec.headers.Set(std::string(kChecksumAlgorithmHeader),
                     std::string(checksum::AlgorithmName(*request.checksum_algorithm)));
  }
  if (!src.if_match.empty()) {
    // AWS reads the first name; RGW reads neither for UploadPartCopy (it reads the legacy
    // second one for CopyObject), so the engine also checks the source before completing.
    spec.headers.Set("x-amz-copy-source-if-match", Quoted(src.if_match));
    spec.headers.Set("x-amz-copy-if-match", Quoted(src.if_match));
  }
  if (range.length > 0) {
    spec.headers.Set("x-amz-copy-source-range",
                     "bytes=" + std::to_string(range.offset) + "-" +
                         std::to_string(range.offset + range.length - 1));
  } else if (range.offset > 0) {
    return Status::InvalidArgument("UploadPartCopy needs a range length when the offset is set");
  }
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  return ParseCopyResult(reply.body);
}

Status S3Client::AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                      std::string_view upload_id, std::stop_token stop) {
  RequestSpec spec;
  spec.method = "DELETE";
  spec.bucket = bucket;
  spec.key = key;
  spec.upload_id = upload_id;
  spec.query = {{"uploadId", std::string(upload_id)}};
  Status s = Call::Run(*this, spec, stop).status();
  // Idempotent: an upload that is already gone (aborted, or aborted by an attempt whose reply
  // was lost) counts as aborted.
  if (s.code() == ErrorCode::kNotFound) s = Status::Ok();
  if (s.ok()) part_checksums_->Forget(upload_id);
  return s;
}

}  // namespace ferry::s3
