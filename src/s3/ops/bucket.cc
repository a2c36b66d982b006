// Bucket operations: HeadBucket, CreateBucket, DeleteBucket, Put/GetBucketVersioning.
#include "checksum/checksum.h"
#include "s3/client_internal.h"
#include "s3/time_format.h"
#include "s3/xml.h"

namespace ferry::s3 {

Status S3Client::HeadBucket(std::string_view bucket, std::stop_token stop) {
  RequestSpec spec;
  spec.method = "HEAD";
  spec.bucket = bucket;
  return Call::Run(*this, spec, stop).status();
}

Result<std::chrono::system_clock::time_point> S3Client::ServerDate(std::string_view bucket,
                                                                  std::stop_token stop) {
  RequestSpec spec;
  spec.method = "HEAD";
  spec.bucket = bucket;
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  const std::string date = reply.headers.Get("Date");
  const auto t = ParseHttpDate(date);
  if (!t) return Status::Internal("no Date in the reply of HEAD " + std::string(bucket));
  return *t;
}

Status S3Client::CreateBucket(std::string_view bucket, std::stop_token stop,
                              const CreateBucketOptions& options) {
  // The LocationConstraint must name the endpoint's region (RGW answers 400
  // InvalidLocationConstraint otherwise); us-east-1 takes none.
  const std::string config = BuildCreateBucketConfiguration(options_.region);
  RequestSpec spec;
  spec.method = "PUT";
  spec.bucket = bucket;
  spec.body = checksum::AsBytes(config);
  if (!config.empty()) spec.headers.Set("Content-Type", "application/xml");
  if (options.object_lock) spec.headers.Set("x-amz-bucket-object-lock-enabled", "true");
  if (!options.canned_acl.empty()) spec.headers.Set("x-amz-acl", options.canned_acl);
  return Call::Run(*this, spec, stop).status();
}

Status S3Client::DeleteBucket(std::string_view bucket, std::stop_token stop) {
  RequestSpec spec;
  spec.method = "DELETE";
  spec.bucket = bucket;
  return Call::Run(*this, spec, stop).status();
}

Status S3Client::PutBucketVersioning(std::string_view bucket, bool enabled, std::stop_token stop) {
  const std::string config = BuildVersioningConfiguration(enabled);
  RequestSpec spec;
  spec.method = "PUT";
  spec.bucket = bucket;
  spec.query = {{"versioning", ""}};
  spec.body = checksum::AsBytes(config);
  spec.headers.Set("Content-MD5", ContentMd5(spec.body));
  spec.headers.Set("Content-Type", "application/xml");
  return Call::Run(*this, spec, stop).status();
}

Result<BucketVersioning> S3Client::GetBucketVersioning(std::string_view bucket,
                                                       std::stop_token stop) {
  RequestSpec spec;
  spec.bucket = bucket;
  spec.query = {{"versioning", ""}};
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  Result<BucketVersioning> state = ParseVersioningConfiguration(reply.body);
  if (!state.ok()) return state.status().WithContext("versioning of " + DisplayName(bucket, {}));
  return state;
}

}  // namespace ferry::s3
