// PutObject.
#include "checksum/checksum.h"
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

Result<std::string> S3Client::PutObject(std::string_view bucket, std::string_view key,
                                        std::span<const std::byte> body,
                                        const WriteOptions& options, std::stop_token stop,
                                        ObjectHead* reply_head) {
  RequestSpec spec;
  spec.method = "PUT";
  spec.bucket = bucket;
  spec.key = key;
  spec.body = body;
  AddWriteHeaders(options, spec.headers);
  AddSseHeaders(options.encryption, SseRequest::kWrite, spec.headers);
  if (options.if_none_match_any) spec.headers.Set("If-None-Match", "*");
  const bool express = IsDirectoryBucket(bucket);
  std::optional<SentChecksum> sent;
  if (options.checksum_algorithm) {
    // The store checks the body against it, keeps it and echoes it.
    sent = AddChecksumHeaders(*options.checksum_algorithm, options.checksum_value, body,
                              spec.headers);
  } else if (express) {
    // Directory buckets take no Content-MD5: a CRC32C, which they verify and echo.
    sent = AddChecksumHeaders(checksum::Algorithm::kCrc32c, {}, body, spec.headers);
  }
  if (express) {
    // no Content-MD5
  } else if (!options.content_md5.empty()) {
    spec.headers.Set("Content-MD5", options.content_md5);
  } else if (options.lock.any() || (!sent && options.compute_md5 && !Call::SignsPayload(*this))) {
    // A signed payload hash (or a checksum) already makes the server refuse a body that is not
    // the one sent; S3 requires Content-MD5 (or a checksum, which stores without additional
    // checksums such as RGW 16 do not take for it) with object lock headers whatever the payload.
    spec.headers.Set("Content-MD5", ContentMd5(body));
  }
  // A lost reply: this very object (size, MD5 and user metadata) current at the key means the
  // PUT was done; it is not sent again (a second version on a versioned bucket, a 412 of a
  // create-only write). Not for directory buckets (no MD5 ETags).
  if (!express) {
    spec.done_despite_failure = [this, bucket, key, body, &options,
                                 stop]() -> Result<std::optional<Reply>> {
      RequestSpec head;
      head.method = "HEAD";
      head.bucket = bucket;
      head.key = key;
      AddSseHeaders(options.encryption, SseRequest::kRead, head.headers);
      Result<Reply> h = Call::Run(*this, head, stop);
      if (!h.ok()) {
        if (h.status().code() == ErrorCode::kNotFound) return std::optional<Reply>();
        return h.status();  // whether the PUT was done is unknown: not sent again
      }
      const ObjectHead found = ParseObjectHead(h->headers);
      // An encrypted object's ETag is not an MD5 (SSE-KMS, SSE-C on AWS): the PUT cannot be
      // recognised by it, and is sent again.
      const bool ours = !found.etag_not_md5() && found.size == body.size() &&
                        found.etag == checksum::Hex(checksum::Md5(body)) &&
                        SentMetadataFound(found.metadata, options.metadata);
      if (!ours) return std::optional<Reply>();
      return std::optional<Reply>(Reply{200, std::move(h->headers), ""});
    };
  }
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  if (sent) FERRY_RETURN_IF_ERROR(CheckEchoedChecksum(reply.headers, *sent, DisplayName(bucket, key)));
  if (Status confirmed = CheckSseConfirmed(options.encryption, reply.headers,
                                           DisplayName(bucket, key));
      !confirmed.ok()) {
    // The bytes may lie unencrypted at the key: removed, so that no later run takes them
    // for a good copy.
    (void)DeleteObject(bucket, key, reply.headers.Get("x-amz-version-id"), stop);
    return Status(confirmed.code(), confirmed.message() + "; the object written was removed");
  }
  if (reply_head != nullptr) *reply_head = ParseObjectHead(reply.headers);
  return UnquoteEtag(reply.headers.Get("ETag"));
}

}  // namespace ferry::s3
