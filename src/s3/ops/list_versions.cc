// ListObjectVersions (with encoding-type=url).
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

Result<VersionPage> S3Client::ListObjectVersions(const ListVersionsRequest& request,
                                                 std::stop_token stop) {
  const std::string_view bucket = request.bucket;
  RequestSpec spec;
  spec.bucket = bucket;
  spec.query = {{"versions", ""}, {"encoding-type", "url"}};
  if (!request.prefix.empty()) spec.query.emplace_back("prefix", request.prefix);
  if (!request.key_marker.empty()) spec.query.emplace_back("key-marker", request.key_marker);
  if (!request.version_id_marker.empty()) {
    spec.query.emplace_back("version-id-marker", request.version_id_marker);
  }
  if (request.max_keys != 1000) {
    spec.query.emplace_back("max-keys", std::to_string(request.max_keys));
  }
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  Result<VersionPage> page = ParseListVersions(reply.body);
  if (!page.ok())
    return page.status().WithContext("listing versions of " + DisplayName(bucket, {}));
  return page;
}

}  // namespace ferry::s3
