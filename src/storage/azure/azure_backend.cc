// AzureBackend (azure_backend.h): listings, reads, whole-object writes, deletes.
// Chunked writes and pending uploads: azure_writer.cc.
#include "storage/azure/azure_backend.h"

#include "checksum/checksum.h"
#include "s3/time_format.h"

namespace ferry::storage::azure {
namespace {

// Range reads up to this size ask for the range's MD5 (x-ms-range-get-content-md5), the most
// the service computes.
constexpr uint64_t kRangeMd5Limit = 4u << 20;

std::string Md5Base64(std::span<const std::byte> data) {
  const checksum::Md5Digest d = checksum::Md5(data);
  return checksum::Base64(d);
}

// The objects under a prefix, one List Blobs page at a time.
class AzureListingCursor : public ListingCursor {
 public:
  AzureListingCursor(AzureBackend& backend, std::string blob_prefix)
      : backend_(backend), blob_prefix_(std::move(blob_prefix)) {}

  Result<const ObjectInfo*> Next() override {
    while (index_ >= page_.blobs.size()) {
      if (done_) return nullptr;
      FERRY_ASSIGN_OR_RETURN(page_, backend_.ListPage(blob_prefix_, marker_, false, {}));
      index_ = 0;
      marker_ = page_.next_marker;
      done_ = marker_.empty();
    }
    const BlobsPage::Entry& e = page_.blobs[index_++];
    current_ = ObjectInfo{};
    current_.key = e.name.substr(backend_.prefix().size());
    current_.size = e.size;
    current_.etag = e.etag;
    current_.mtime = e.mtime;
    return &current_;
  }

 private:
  AzureBackend& backend_;
  std::string blob_prefix_;
  BlobsPage page_;
  size_t index_ = 0;
  std::string marker_;
  bool done_ = false;
  ObjectInfo current_;
};

}  // namespace

AzureBackend::AzureBackend(AzureClient& client, std::string container, std::string prefix)
    : client_(client), container_(std::move(container)), prefix_(std::move(prefix)) {
  features_.chunked_write = true;
  features_.metadata = true;
  features_.max_parts = 50000;
  // Put Block takes any size up to 4000 MiB: the floor only keeps block lists short
  features_.min_part_size = 64u << 10;
  features_.max_part_size = 4000ull << 20;
  features_.max_single_put = 5000ull << 20;
  features_.verifies_content_md5 = true;
  features_.folder_markers = true;
  features_.sorted_listing = true;
  // markers are opaque: a listing cannot start after a key on the server
  features_.start_after = false;
  features_.put_if_absent = true;
}

std::string AzureBackend::Describe() const {
  return client_.Describe() + container_ + "/" + prefix_;
}

Result<std::string> AzureBackend::BlobName(std::string_view key) const {
  std::string name = prefix_ + std::string(key);
  if (name.empty()) {
    return Status::InvalidArgument("an empty key names the container " + Describe() +
                                   " itself, not a blob");
  }
  if (name.find('\\') != std::string::npos) {
    // the service reads '\' as '/': the object would land under another key
    return Status::InvalidArgument("key '" + std::string(key) + "' has a backslash, which " +
                                   Describe() + " would store as '/'");
  }
  if (name.size() > 1024) {
    return Status::InvalidArgument("blob name longer than 1024 characters: " + Describe() +
                                   std::string(key.substr(0, 64)) + "...");
  }
  return name;
}

AzureCall AzureBackend::CallFor(std::string operation, std::string method,
                                std::string blob) const {
  AzureCall call;
  call.operation = std::move(operation);
  call.method = std::move(method);
  call.container = container_;
  call.blob = std::move(blob);
  return call;
}

Result<BlobsPage> AzureBackend::ListPage(const std::string& blob_prefix, const std::string& marker,
                                         bool uncommitted, std::stop_token stop) {
  AzureCall call = CallFor("List Blobs", "GET", "");
  call.query = {{"restype", "container"}, {"comp", "list"},
                {"maxresults", std::to_string(page_size_)}};
  if (!blob_prefix.empty()) call.query.emplace_back("prefix", blob_prefix);
  if (!marker.empty()) call.query.emplace_back("marker", marker);
  if (uncommitted) call.query.emplace_back("include", "uncommittedblobs");
  FERRY_ASSIGN_OR_RETURN(AzureReply reply, client_.Send(call, stop));
  auto page = ParseListBlobs(reply.body);
  if (!page.ok()) return page.status().WithContext("List Blobs " + Describe());
  return page;
}

Status AzureBackend::Check(std::stop_token stop) {
  AzureCall call = CallFor("List Blobs", "GET", "");
  call.query = {{"restype", "container"}, {"comp", "list"}, {"maxresults", "1"}};
  if (!prefix_.empty()) call.query.emplace_back("prefix", prefix_);
  Result<AzureReply> reply = client_.Send(call, stop);
  if (!reply.ok() && reply.status().code() == ErrorCode::kNotFound) {
    return Status::NotFound("container '" + container_ + "' not found on " + client_.Describe())
        .WithSubject(ErrorSubject::kBucket);
  }
  return reply.status();
}

Result<std::unique_ptr<ListingCursor>> AzureBackend::List(std::string_view prefix) {
  return std::unique_ptr<ListingCursor>(
      std::make_unique<AzureListingCursor>(*this, prefix_ + std::string(prefix)));
}

Result<ObjectInfo> AzureBackend::Stat(std::string_view key, bool with_tags,
                                      std::stop_token stop) {
  (void)with_tags;  // no tags (features().tags is false)
  FERRY_ASSIGN_OR_RETURN(std::string blob, BlobName(key));
  FERRY_ASSIGN_OR_RETURN(AzureReply reply,
                         client_.Send(CallFor("Get Blob Properties", "HEAD", blob), stop));
  return InfoFromHeaders(key, reply.headers);
}

Status AzureBackend::ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                            std::string_view etag, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string blob, BlobName(key));
  if (out.empty()) {
    FERRY_ASSIGN_OR_RETURN(ObjectInfo info, Stat(key, false, stop));
    if (!etag.empty() && info.etag != etag) {
      return Status::FailedPrecondition("object " + Describe() + std::string(key) + " changed");
    }
    return Status::Ok();
  }
  AzureCall call = CallFor("Get Blob", "GET", blob);
  call.headers.Set("x-ms-range", "bytes=" + std::to_string(offset) + "-" +
                                     std::to_string(offset + out.size() - 1));
  const bool range_md5 = out.size() <= kRangeMd5Limit;
  if (range_md5) call.headers.Set("x-ms-range-get-content-md5", "true");
  if (!etag.empty()) call.headers.Set("If-Match", "\"" + std::string(etag) + "\"");
  http::SpanSink sink(out);
  call.sink = &sink;
  FERRY_ASSIGN_OR_RETURN(AzureReply reply, client_.Send(call, stop));
  const std::string what = "object " + Describe() + std::string(key);
  if (sink.written() != out.size()) {
    return Status::DataLoss(what + ": " + std::to_string(sink.written()) + " bytes at offset " +
                            std::to_string(offset) + ", expected " + std::to_string(out.size()));
  }
  // the range's own MD5, else the blob's stored one when the read covers the whole blob
  std::string want = range_md5 ? reply.headers.Get("Content-MD5") : std::string();
  if (want.empty() && offset == 0 &&
      InfoFromHeaders(key, reply.headers).size == out.size()) {
    want = reply.headers.Get("x-ms-blob-content-md5");
  }
  if (!want.empty() && Md5Base64(out) != want) {
    return Status::DataLoss(what + ": the bytes read do not match their Content-MD5 " + want);
  }
  return Status::Ok();
}

Result<ObjectInfo> AzureBackend::ReadObject(std::string_view key, std::span<std::byte> out,
                                            std::string_view etag, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string blob, BlobName(key));
  AzureCall call = CallFor("Get Blob", "GET", blob);
  if (!etag.empty()) call.headers.Set("If-Match", "\"" + std::string(etag) + "\"");
  http::SpanSink sink(out);
  call.sink = &sink;
  const std::string what = "object " + Describe() + std::string(key);
  Result<AzureReply> reply = client_.Send(call, stop);
  if (!reply.ok() && reply.status().code() == ErrorCode::kDataLoss) {
    // the sink overflowed (an unranged Get Blob has no other data loss): the blob grew
    return Status::DataLoss(what + " changed size: more than " + std::to_string(out.size()) +
                            " bytes");
  }
  if (!reply.ok()) return reply.status();
  ObjectInfo info = InfoFromHeaders(key, reply->headers);
  if (info.size != out.size() || sink.written() != out.size()) {
    return Status::DataLoss(what + " changed size: it has " + std::to_string(info.size) +
                            " bytes, expected " + std::to_string(out.size()));
  }
  if (std::string want = reply->headers.Get("Content-MD5");
      !want.empty() && Md5Base64(out) != want) {
    return Status::DataLoss(what + ": the bytes read do not match their Content-MD5 " + want);
  }
  return info;
}

Result<WriteResult> AzureBackend::Put(std::string_view key, std::span<const std::byte> data,
                                      const WriteSpec& spec, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string blob, BlobName(key));
  AzureCall call = CallFor("Put Blob", "PUT", blob);
  call.headers.Set("x-ms-blob-type", "BlockBlob");
  // the service refuses a body that does not match (Md5Mismatch) and keeps it as the blob's
  call.headers.Set("Content-MD5", spec.content_md5.empty() ? Md5Base64(data) : spec.content_md5);
  AddWriteHeaders(spec, {}, call.headers);
  if (spec.if_absent) call.headers.Set("If-None-Match", "*");
  call.body = data;
  Result<AzureReply> reply = client_.Send(call, stop);
  if (!reply.ok()) {
    // a create-only write of an existing key: 409 BlobAlreadyExists, or 412 from a proxy
    if (spec.if_absent && (reply.status().code() == ErrorCode::kFailedPrecondition ||
                           reply.status().code() == ErrorCode::kAlreadyExists)) {
      return Status::AlreadyExists(reply.status().message());
    }
    return reply.status();
  }
  return WriteResult{Unquote(reply->headers.Get("ETag")), ""};
}

Status AzureBackend::Delete(std::string_view key, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string blob, BlobName(key));
  AzureCall call = CallFor("Delete Blob", "DELETE", blob);
  call.headers.Set("x-ms-delete-snapshots", "include");
  Result<AzureReply> reply = client_.Send(call, stop);
  if (!reply.ok() && reply.status().code() == ErrorCode::kNotFound &&
      reply.status().subject() != ErrorSubject::kBucket) {
    return Status::Ok();
  }
  return reply.status();
}

Result<std::chrono::system_clock::time_point> AzureBackend::ServerTime(std::stop_token stop) {
  AzureCall call = CallFor("List Blobs", "GET", "");
  call.query = {{"restype", "container"}, {"comp", "list"}, {"maxresults", "1"}};
  FERRY_ASSIGN_OR_RETURN(AzureReply reply, client_.Send(call, stop));
  auto date = s3::ParseHttpDate(reply.headers.Get("Date"));
  if (!date) return Status::Internal(Describe() + ": the reply has no Date");
  return *date;
}

}  // namespace ferry::storage::azure
