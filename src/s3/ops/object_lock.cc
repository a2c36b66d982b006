// Object Lock: Get/PutObjectRetention, Get/PutObjectLegalHold, Get/PutObjectLockConfiguration,
// a version deleted bypassing GOVERNANCE retention; and PutObjectAcl.
#include "checksum/checksum.h"
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

namespace {

// A reply that says "no such lock setting" rather than "no such object or bucket": AWS's
// NoSuchObjectLockConfiguration / ObjectLockConfigurationNotFoundError (404), which the error
// mapping marks as about the object, not the bucket.
bool NoLockSetting(const Status& s) {
  if (s.code() != ErrorCode::kNotFound || s.subject() == ErrorSubject::kBucket) return false;
  const std::string& m = s.message();
  return m.find("ObjectLockConfiguration") != std::string::npos;
}

RequestSpec SubresourceSpec(std::string_view method, std::string_view bucket,
                            std::string_view key, const char* name, std::string_view version_id) {
  RequestSpec spec;
  spec.method = std::string(method);
  spec.bucket = bucket;
  spec.key = key;
  spec.query = {{name, ""}};
  if (!version_id.empty()) spec.query.emplace_back("versionId", std::string(version_id));
  return spec;
}

void SetXmlBody(RequestSpec& spec, const std::string& xml) {
  spec.body = checksum::AsBytes(xml);
  spec.headers.Set("Content-MD5", ContentMd5(spec.body));  // S3 requires it for these calls
  spec.headers.Set("Content-Type", "application/xml");
}

}  // namespace

Result<ObjectLock> S3Client::GetObjectRetention(std::string_view bucket, std::string_view key,
                                                std::string_view version_id,
                                                std::stop_token stop) {
  RequestSpec spec = SubresourceSpec("GET", bucket, key, "retention", version_id);
  Result<Reply> reply = Call::Run(*this, spec, stop);
  if (!reply.ok() && NoLockSetting(reply.status())) return ObjectLock{};
  if (!reply.ok()) return reply.status();
  return ParseRetention(reply->body);
}

Status S3Client::PutObjectRetention(std::string_view bucket, std::string_view key,
                                    std::string_view version_id, const ObjectLock& lock,
                                    bool bypass_governance, std::stop_token stop) {
  if (lock.mode.empty() || lock.retain_until.empty()) {
    return Status::InvalidArgument("a retention needs a mode and a retain-until date");
  }
  const std::string xml = BuildRetention(lock);
  RequestSpec spec = SubresourceSpec("PUT", bucket, key, "retention", version_id);
  SetXmlBody(spec, xml);
  if (bypass_governance) spec.headers.Set("x-amz-bypass-governance-retention", "true");
  return Call::Run(*this, spec, stop).status();
}

Result<bool> S3Client::GetObjectLegalHold(std::string_view bucket, std::string_view key,
                                          std::string_view version_id, std::stop_token stop) {
  RequestSpec spec = SubresourceSpec("GET", bucket, key, "legal-hold", version_id);
  Result<Reply> reply = Call::Run(*this, spec, stop);
  if (!reply.ok() && NoLockSetting(reply.status())) return false;
  if (!reply.ok()) return reply.status();
  return ParseLegalHold(reply->body);
}

Status S3Client::PutObjectLegalHold(std::string_view bucket, std::string_view key,
                                    std::string_view version_id, bool on, std::stop_token stop) {
  const std::string xml = BuildLegalHold(on);
  RequestSpec spec = SubresourceSpec("PUT", bucket, key, "legal-hold", version_id);
  SetXmlBody(spec, xml);
  return Call::Run(*this, spec, stop).status();
}

Result<ObjectLockConfiguration> S3Client::GetObjectLockConfiguration(std::string_view bucket,
                                                                     std::stop_token stop) {
  RequestSpec spec = SubresourceSpec("GET", bucket, {}, "object-lock", {});
  Result<Reply> reply = Call::Run(*this, spec, stop);
  if (!reply.ok() && NoLockSetting(reply.status())) return ObjectLockConfiguration{};
  if (!reply.ok()) return reply.status();
  return ParseObjectLockConfiguration(reply->body);
}

Status S3Client::PutObjectLockConfiguration(std::string_view bucket,
                                            const std::optional<DefaultRetention>& rule,
                                            std::stop_token stop) {
  const std::string xml = BuildObjectLockConfiguration(rule);
  RequestSpec spec = SubresourceSpec("PUT", bucket, {}, "object-lock", {});
  SetXmlBody(spec, xml);
  return Call::Run(*this, spec, stop).status();
}

Result<DeleteReply> S3Client::DeleteObjectBypassingGovernance(std::string_view bucket,
                                                              std::string_view key,
                                                              std::string_view version_id,
                                                              std::stop_token stop) {
  RequestSpec spec;
  spec.method = "DELETE";
  spec.bucket = bucket;
  spec.key = key;
  spec.query.emplace_back("versionId", std::string(version_id));
  spec.headers.Set("x-amz-bypass-governance-retention", "true");
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  return DeleteReply{reply.headers.Get("x-amz-version-id"),
                     reply.headers.Get("x-amz-delete-marker") == "true"};
}

Result<WriteAcl> S3Client::GetObjectAcl(std::string_view bucket, std::string_view key,
                                       std::string_view version_id, std::stop_token stop) {
  RequestSpec spec = SubresourceSpec("GET", bucket, key, "acl", version_id);
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  return ParseAccessControlPolicy(reply.body);
}

Status S3Client::PutObjectAcl(std::string_view bucket, std::string_view key,
                              std::string_view version_id, const WriteAcl& acl,
                              std::stop_token stop) {
  if (acl.empty()) return Status::InvalidArgument("PutObjectAcl without an ACL");
  RequestSpec spec = SubresourceSpec("PUT", bucket, key, "acl", version_id);
  AddAclHeaders(acl, spec.headers);
  return Call::Run(*this, spec, stop).status();
}

}  // namespace ferry::s3
