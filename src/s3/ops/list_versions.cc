// ListObjectVersions (with encoding-type=url).
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

Result<VersionPage> S3Client::ListObjectVersions(std::string_view bucket, std::string_view prefix,
                                                 std::string_view key_marker,
                                                 std::string_view version_id_marker,
                                                 std::stop_token stop) {
  RequestSpec spec;
  spec.bucket = bucket;
  spec.query = {{"versions", ""}, {"encoding-type", "url"}};
  if (!prefix.empty()) spec.query.emplace_back("prefix", std::string(prefix));
  if (!key_marker.empty()) spec.query.emplace_back("key-marker", std::string(key_marker));
  if (!version_id_marker.empty()) {
    spec.query.emplace_back("version-id-marker", std::string(version_id_marker));
  }
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  Result<VersionPage> page = ParseListVersions(reply.body);
  if (!page.ok())
    return page.status().WithContext("listing versions of " + DisplayName(bucket, {}));
  return page;
}

}  // namespace ferry::s3
