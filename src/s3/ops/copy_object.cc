// CopyObject (server-side copy within one endpoint).
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

Result<std::string> S3Client::CopyObject(std::string_view src_bucket, std::string_view src_key,
                                         std::string_view src_version_id,
                                         std::string_view dst_bucket, std::string_view dst_key,
                                         const WriteOptions* replace,
                                         std::string_view storage_class_override,
                                         std::stop_token stop) {
  RequestSpec spec;
  spec.method = "PUT";
  spec.bucket = dst_bucket;
  spec.key = dst_key;
  spec.error_in_200 = true;  // a long copy may fail after the 200 status line was sent
  spec.headers.Set("x-amz-copy-source", CopySource(src_bucket, src_key, src_version_id));
  if (replace != nullptr) {
    spec.headers.Set("x-amz-metadata-directive", "REPLACE");
    AddWriteHeaders(*replace, spec.headers);
    if (replace->tags) spec.headers.Set("x-amz-tagging-directive", "REPLACE");
  } else {
    spec.headers.Set("x-amz-metadata-directive", "COPY");
  }
  if (!storage_class_override.empty()) {
    spec.headers.Set("x-amz-storage-class", storage_class_override);
  }
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  Result<std::string> etag = ParseCopyResult(reply.body);
  if (!etag.ok()) {
    return etag.status().WithContext("copying " + DisplayName(src_bucket, src_key) + " to " +
                                     DisplayName(dst_bucket, dst_key));
  }
  // RGW ignores x-amz-tagging-directive: REPLACE and keeps the source's tags, so requested tags
  // are set explicitly (an empty set removes them).
  if (replace != nullptr && replace->tags) {
    FERRY_RETURN_IF_ERROR(PutObjectTagging(dst_bucket, dst_key, *replace->tags, stop));
  }
  return etag;
}

}  // namespace ferry::s3
