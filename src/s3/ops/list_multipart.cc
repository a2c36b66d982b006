// ListParts and ListMultipartUploads, each following pagination to the end.
#include <functional>
#include <map>

#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {
namespace {

// Guards against a server that keeps answering "truncated" without progress.
constexpr int kMaxPages = 100000;

using RunFn = std::function<Result<Reply>(const RequestSpec&)>;

// Every page of an upload's ListParts (sent by `run`), handed to `each` (follows pagination).
Status ForEachPartsPage(const RunFn& run, std::string_view bucket, std::string_view key,
                        std::string_view upload_id, const std::function<void(PartsPage&)>& each);

}  // namespace

Result<std::vector<CompletedPart>> S3Client::ListParts(std::string_view bucket,
                                                       std::string_view key,
                                                       std::string_view upload_id,
                                                       std::stop_token stop) {
  std::vector<CompletedPart> parts;
  const RunFn run = [this, stop](const RequestSpec& spec) { return Call::Run(*this, spec, stop); };
  FERRY_RETURN_IF_ERROR(ForEachPartsPage(run, bucket, key, upload_id, [&](PartsPage& page) {
    for (CompletedPart& p : page.parts) parts.push_back(std::move(p));
  }));
  return parts;
}

Result<std::vector<std::string>> S3Client::ListedPartChecksums(
    std::string_view bucket, std::string_view key, std::string_view upload_id,
    std::span<const CompletedPart> parts, std::stop_token stop) {
  std::map<int, std::string> listed;
  const RunFn run = [this, stop](const RequestSpec& spec) { return Call::Run(*this, spec, stop); };
  FERRY_RETURN_IF_ERROR(ForEachPartsPage(run, bucket, key, upload_id, [&](PartsPage& page) {
    for (CompletedPart& part : page.parts) listed[part.part_number] = std::move(part.checksum);
  }));
  std::vector<std::string> out;
  out.reserve(parts.size());
  for (const CompletedPart& p : parts) {
    auto it = listed.find(p.part_number);
    out.push_back(it == listed.end() ? std::string() : it->second);
  }
  return out;
}

namespace {

Status ForEachPartsPage(const RunFn& run, std::string_view bucket, std::string_view key,
                        std::string_view upload_id, const std::function<void(PartsPage&)>& each) {
  int marker = 0;
  int last_part = 0;
  for (int page_count = 0; page_count < kMaxPages; ++page_count) {
    RequestSpec spec;
    spec.bucket = bucket;
    spec.key = key;
    spec.upload_id = upload_id;
    spec.query = {{"uploadId", std::string(upload_id)}, {"max-parts", "1000"}};
    if (marker > 0) spec.query.emplace_back("part-number-marker", std::to_string(marker));
    FERRY_ASSIGN_OR_RETURN(Reply reply, run(spec));
    FERRY_ASSIGN_OR_RETURN(PartsPage page, ParseListParts(reply.body));
    if (!page.parts.empty()) last_part = page.parts.back().part_number;
    const bool truncated = page.truncated;
    int next = page.next_part_number_marker;
    each(page);
    if (!truncated) return Status::Ok();
    if (next <= marker && last_part > 0) next = last_part;
    if (next <= marker) {
      return Status::Internal("ListParts of " + DisplayName(bucket, key) +
                              ": truncated page without progress");
    }
    marker = next;
  }
  return Status::Internal("ListParts of " + DisplayName(bucket, key) + ": too many pages");
}

}  // namespace

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
