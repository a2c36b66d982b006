// Bucket notification configuration: Get/PutBucketNotificationConfiguration and RGW's
// DELETE ?notification=ID.
#include "checksum/checksum.h"
#include "s3/client_internal.h"

namespace ferry::s3 {

Result<std::string> S3Client::GetBucketNotificationConfiguration(std::string_view bucket,
                                                                 std::stop_token stop) {
  RequestSpec spec;
  spec.bucket = bucket;
  spec.query = {{"notification", ""}};
  spec.operation = "GetBucketNotificationConfiguration";
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  return std::move(reply.body);
}

Status S3Client::PutBucketNotificationConfiguration(std::string_view bucket,
                                                    std::string_view xml,
                                                    std::stop_token stop) {
  RequestSpec spec;
  spec.method = "PUT";
  spec.bucket = bucket;
  spec.query = {{"notification", ""}};
  spec.operation = "PutBucketNotificationConfiguration";
  spec.body = checksum::AsBytes(xml);
  spec.headers.Set("Content-MD5", ContentMd5(spec.body));
  spec.headers.Set("Content-Type", "application/xml");
  return Call::Run(*this, spec, stop).status();
}

Status S3Client::DeleteBucketNotification(std::string_view bucket, std::string_view id,
                                          std::stop_token stop) {
  RequestSpec spec;
  spec.method = "DELETE";
  spec.bucket = bucket;
  spec.query = {{"notification", std::string(id)}};
  spec.operation = "DeleteBucketNotification";
  return Call::Run(*this, spec, stop).status();
}

}  // namespace ferry::s3
