// CopyObject (server-side copy within one endpoint).
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

Result<WrittenObject> S3Client::CopyObject(const CopyObjectRequest& request, std::stop_token stop) {
  const CopySourceSpec& src = request.source;
  RequestSpec spec;
  spec.method = "PUT";
  spec.bucket = request.bucket;
  spec.key = request.key;
  spec.error_in_200 = true;  // a long copy may fail after the 200 status line was sent
  spec.headers.Set("x-amz-copy-source", CopySource(src.bucket, src.key, src.version_id));
  AddCopySourceKeyHeaders(src.customer_key, spec.headers);
  AddSseHeaders(request.encryption, SseRequest::kWrite, spec.headers);
  if (!src.if_match.empty()) {
    // AWS reads the first name; RGW ignores it and reads only the legacy second one.
    spec.headers.Set("x-amz-copy-source-if-match", Quoted(src.if_match));
    spec.headers.Set("x-amz-copy-if-match", Quoted(src.if_match));
  }
  const WriteOptions* replace = request.replace;
  if (replace != nullptr) {
    spec.headers.Set("x-amz-metadata-directive", "REPLACE");
    AddWriteHeaders(*replace, spec.headers);
    if (replace->tags) spec.headers.Set("x-amz-tagging-directive", "REPLACE");
  } else {
    spec.headers.Set("x-amz-metadata-directive", "COPY");
    AddLockHeaders(request.lock, spec.headers);
    AddAclHeaders(request.acl, spec.headers);
  }
  if (request.checksum_algorithm) {
    spec.headers.Set("x-amz-checksum-algorithm",
                     std::string(checksum::AlgorithmName(*request.checksum_algorithm)));
  }
  if (!request.storage_class.empty() && (replace == nullptr || replace->storage_class.empty())) {
    spec.headers.Set("x-amz-storage-class", request.storage_class);
  }
  // A lost reply: the source's ETag (a copy keeps it on RGW, and on AWS for objects not
  // written in parts) current at the destination key, with the metadata sent when they are
  // replaced, means the copy was done: it is not sent again (a second version on a versioned
  // bucket). Otherwise (not found, another ETag: AWS gives a copy of a multipart object an
  // ETag of its own) the copy is sent again, as before.
  if (!src.if_match.empty()) {
    spec.done_despite_failure = [this, &request, replace, stop]() -> Result<std::optional<Reply>> {
      RequestSpec head;
      head.method = "HEAD";
      head.bucket = request.bucket;
      head.key = request.key;
      AddSseHeaders(request.encryption, SseRequest::kRead, head.headers);
      Result<Reply> h = Call::Run(*this, head, stop);
      if (!h.ok()) {
        if (h.status().code() == ErrorCode::kNotFound) return std::optional<Reply>();
        return h.status();  // whether the copy was done is unknown: not sent again
      }
      const ObjectHead found = ParseObjectHead(h->headers);
      const bool ours = !found.etag_not_md5() &&
                        found.etag == UnquoteEtag(request.source.if_match) &&
                        (replace == nullptr || SentMetadataFound(found.metadata,
                                                                 replace->metadata));
      if (!ours) return std::optional<Reply>();
      return std::optional<Reply>(
          Reply{200, std::move(h->headers),
                "<CopyObjectResult><ETag>" + Quoted(found.etag) + "</ETag></CopyObjectResult>"});
    };
  }
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  Result<std::string> etag = ParseCopyResult(reply.body);
  if (!etag.ok()) {
    return etag.status().WithContext("copying " + DisplayName(src.bucket, src.key) + " to " +
                                     DisplayName(request.bucket, request.key));
  }
  if (Status confirmed = CheckSseConfirmed(request.encryption, reply.headers,
                                           DisplayName(request.bucket, request.key));
      !confirmed.ok()) {
    (void)DeleteObject(request.bucket, request.key, reply.headers.Get("x-amz-version-id"), stop);
    return Status(confirmed.code(), confirmed.message() + "; the copy was removed");
  }
  // RGW ignores x-amz-tagging-directive: REPLACE and keeps the source's tags, so requested tags
  // are set explicitly (an empty set removes them).
  if (replace != nullptr && replace->tags) {
    FERRY_RETURN_IF_ERROR(PutObjectTagging(request.bucket, request.key, *replace->tags, stop));
  }
  return WrittenObject{*std::move(etag), reply.headers.Get("x-amz-version-id")};
}

}  // namespace ferry::s3
