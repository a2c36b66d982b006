// ListObjectsV2 (with encoding-type=url so that any key survives the XML reply).
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

namespace {

// ListObjects (version 1) for stores without version 2 (S3Options::list_objects_v1): the
// marker is where the last page ended (a continuation token of ferry's making: a key) or the
// request's start-after. Keys are url-encoded in the reply (encoding-type=url).
RequestSpec ListObjectsV1Spec(const ListRequest& request, const std::string& marker) {
  RequestSpec spec;
  spec.bucket = request.bucket;
  spec.operation = "ListObjects";
  spec.query = {{"encoding-type", "url"}};
  if (!request.prefix.empty()) spec.query.emplace_back("prefix", request.prefix);
  if (!request.delimiter.empty()) spec.query.emplace_back("delimiter", request.delimiter);
  if (!marker.empty()) spec.query.emplace_back("marker", marker);
  if (request.max_keys > 0) spec.query.emplace_back("max-keys", std::to_string(request.max_keys));
  return spec;
}

// The page of a version 1 reply, its continuation token the key to start after next.
Result<ListPage> ListObjectsV1Page(const ListRequest& request, const std::string& marker,
                                   std::string_view body) {
  Result<ListPage> page = ParseListObjectsV2(body);
  if (!page.ok()) return page.status().WithContext("listing " + DisplayName(request.bucket, {}));
  if (page->truncated) {
    // NextMarker (sent with a delimiter), else the page's last key or common prefix
    std::string next = ParseListV1NextMarker(body);
    if (next.empty() && !page->objects.empty()) next = page->objects.back().key;
    if (!page->common_prefixes.empty() && page->common_prefixes.back() > next) {
      next = page->common_prefixes.back();
    }
    if (next.empty() || next <= marker) {
      return Status::Internal("listing " + DisplayName(request.bucket, {}) +
                              ": truncated version 1 page that does not move past its marker");
    }
    page->next_continuation_token = std::move(next);
  }
  return page;
}

}  // namespace

Result<ListPage> S3Client::ListObjectsV2(const ListRequest& request, std::stop_token stop) {
  if (options_.list_objects_v1) {
    const std::string& marker =
        !request.continuation_token.empty() ? request.continuation_token : request.start_after;
    FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, ListObjectsV1Spec(request, marker), stop));
    return ListObjectsV1Page(request, marker, reply.body);
  }
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
