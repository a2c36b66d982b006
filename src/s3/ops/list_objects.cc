// ListObjectsV2 (with encoding-type=url so that any key survives the XML reply).
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

Result<ListPage> S3Client::ListObjectsV2(const ListRequest& request, std::stop_token stop) {
  RequestSpec spec;
  spec.bucket = request.bucket;
  spec.query = {{"list-type", "2"}, {"encoding-type", "url"}};
  if (!request.prefix.empty()) spec.query.emplace_back("prefix", request.prefix);
  if (!request.delimiter.empty()) spec.query.emplace_back("delimiter", request.delimiter);
  if (!request.start_after.empty()) spec.query.emplace_back("start-after", request.start_after);
  if (!request.continuation_token.empty()) {
    spec.query.emplace_back("continuation-token", request.continuation_token);
  }
  if (request.max_keys > 0) spec.query.emplace_back("max-keys", std::to_string(request.max_keys));
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  Result<ListPage> page = ParseListObjectsV2(reply.body);
  if (!page.ok()) return page.status().WithContext("listing " + DisplayName(request.bucket, {}));
  if (page->truncated && page->next_continuation_token.empty()) {
    return Status::Internal("listing " + DisplayName(request.bucket, {}) +
                            ": truncated page without a continuation token");
  }
  return page;
}

}  // namespace ferry::s3
