// GetObjectTagging and PutObjectTagging.
#include "checksum/checksum.h"
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

Result<Tags> S3Client::GetObjectTagging(std::string_view bucket, std::string_view key,
                                        std::string_view version_id, std::stop_token stop) {
  RequestSpec spec;
  spec.bucket = bucket;
  spec.key = key;
  spec.query = {{"tagging", ""}};
  if (!version_id.empty()) spec.query.emplace_back("versionId", std::string(version_id));
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  return ParseTagging(reply.body);
}

Status S3Client::PutObjectTagging(std::string_view bucket, std::string_view key, const Tags& tags,
                                  std::stop_token stop, std::string_view version_id) {
  const std::string xml = BuildTagging(tags);
  RequestSpec spec;
  spec.method = "PUT";
  spec.bucket = bucket;
  spec.key = key;
  spec.query = {{"tagging", ""}};
  if (!version_id.empty()) spec.query.emplace_back("versionId", std::string(version_id));
  spec.body = checksum::AsBytes(xml);
  spec.headers.Set("Content-MD5", ContentMd5(spec.body));
  spec.headers.Set("Content-Type", "application/xml");
  return Call::Run(*this, spec, stop).status();
}

}  // namespace ferry::s3
