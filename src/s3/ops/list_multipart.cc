// ListParts and ListMultipartUploads, each following pagination to the end.
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {
namespace {

// Guards against a server that keeps answering "truncated" without progress.
constexpr int kMaxPages = 100000;

}  // namespace

Result<std::vector<CompletedPart>> S3Client::ListParts(std::string_view bucket,
                                                       std::string_view key,
                                                       std::string_view upload_id,
                                                       std::stop_token stop) {
  std::vector<CompletedPart> parts;
  int marker = 0;
  for (int page_count = 0; page_count < kMaxPages; ++page_count) {
    RequestSpec spec;
    spec.bucket = bucket;
    spec.key = key;
    spec.upload_id = upload_id;
    spec.query = {{"uploadId", std::string(upload_id)}, {"max-parts", "1000"}};
    if (marker > 0) spec.query.emplace_back("part-number-marker", std::to_string(marker));
    FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
    FERRY_ASSIGN_OR_RETURN(PartsPage page, ParseListParts(reply.body));
    for (CompletedPart& p : page.parts) parts.push_back(std::move(p));
    if (!page.truncated) return parts;
    int next = page.next_part_number_marker;
    if (next <= marker && !parts.empty()) next = parts.back().part_number;
    if (next <= marker) {
      return Status::Internal("ListParts of " + DisplayName(bucket, key) +
                              ": truncated page without progress");
    }
    marker = next;
  }
  return Status::Internal("ListParts of " + DisplayName(bucket, key) + ": too many pages");
}

Result<std::vector<UploadInfo>> S3Client::ListMultipartUploads(std::string_view bucket,
                                                               std::string_view prefix,
                                                               std::stop_token stop) {
  std::vector<UploadInfo> uploads;
  std::string key_marker, upload_id_marker;
  for (int page_count = 0; page_count < kMaxPages; ++page_count) {
    RequestSpec spec;
    spec.bucket = bucket;
    // No encoding-type=url here: RGW then encodes <Key> but neither echoes <EncodingType> nor
    // encodes NextKeyMarker, so the reply could not be decoded reliably.
    spec.query = {{"uploads", ""}};
    if (!prefix.empty()) spec.query.emplace_back("prefix", std::string(prefix));
    if (!key_marker.empty()) spec.query.emplace_back("key-marker", key_marker);
    if (!upload_id_marker.empty()) spec.query.emplace_back("upload-id-marker", upload_id_marker);
    FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
    FERRY_ASSIGN_OR_RETURN(UploadsPage page, ParseListMultipartUploads(reply.body));
    for (UploadInfo& u : page.uploads) uploads.push_back(std::move(u));
    if (!page.truncated) return uploads;
    if (page.next_key_marker.empty() && page.next_upload_id_marker.empty() && !uploads.empty()) {
      page.next_key_marker = uploads.back().key;
      page.next_upload_id_marker = uploads.back().upload_id;
    }
    if (page.next_key_marker == key_marker && page.next_upload_id_marker == upload_id_marker) {
      return Status::Internal("ListMultipartUploads of " + DisplayName(bucket, {}) +
                              ": truncated page without progress");
    }
    key_marker = std::move(page.next_key_marker);
    upload_id_marker = std::move(page.next_upload_id_marker);
  }
  return Status::Internal("ListMultipartUploads of " + DisplayName(bucket, {}) +
                          ": too many pages");
}

}  // namespace ferry::s3
