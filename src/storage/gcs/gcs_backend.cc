// GcsBackend (gcs_backend.h): listings, reads, one-request writes, deletes.
// Chunked writes (resumable uploads): gcs_writer.cc.
#include "storage/gcs/gcs_backend.h"

#include <random>

#include "checksum/checksum.h"
#include "s3/time_format.h"

namespace ferry::storage::gcs {
namespace {

std::string GcsMd5Base64(std::span<const std::byte> data) {
  const checksum::Md5Digest d = checksum::Md5(data);
  return checksum::Base64(d);
}

std::string GcsHexOfBase64(const std::string& b64) {
  std::optional<std::string> raw = checksum::Base64Decode(b64);
  if (!raw) return {};
  return checksum::Hex({reinterpret_cast<const uint8_t*>(raw->data()), raw->size()});
}

std::vector<std::string> GoogHashValues(const http::Headers& headers) {
  std::vector<std::string> out;
  for (const auto& [name, value] : headers.entries()) {
    if (http::EqualsIgnoreCase(name, "x-goog-hash")) out.push_back(value);
  }
  return out;
}

// The object a media reply is of still is the one `etag` names: its MD5 (hex), or, for an
// object without one, its generation.
bool GcsSameObject(const http::Headers& headers, std::string_view etag) {
  if (etag.empty()) return true;
  const GoogHash hash = ParseGoogHash(GoogHashValues(headers));
  if (!hash.md5.empty() && GcsHexOfBase64(hash.md5) == etag) return true;
  return headers.Get("x-goog-generation") == etag;
}

// The bytes of a whole object against the stored checksums of its reply (x-goog-hash).
Status GcsCheckWhole(const http::Headers& headers, std::span<const std::byte> data,
                     const std::string& what) {
  const GoogHash hash = ParseGoogHash(GoogHashValues(headers));
  if (!hash.crc32c.empty() && Crc32cBase64(checksum::Crc32c(data)) != hash.crc32c) {
    return Status::DataLoss(what + ": the bytes read do not match the object's CRC32C " +
                            hash.crc32c);
  }
  if (!hash.md5.empty() && GcsMd5Base64(data) != hash.md5) {
    return Status::DataLoss(what + ": the bytes read do not match the object's MD5 " + hash.md5);
  }
  return Status::Ok();
}

std::string GcsBoundary() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return "ferry-" + checksum::Hex32(static_cast<uint32_t>(rng())) +
         checksum::Hex32(static_cast<uint32_t>(rng()));
}

// The objects under a prefix, one objects.list page at a time.
class GcsListingCursor : public ListingCursor {
 public:
  GcsListingCursor(GcsBackend& backend, std::string name_prefix, int page_size)
      : backend_(backend), name_prefix_(std::move(name_prefix)), page_size_(page_size) {}

  Result<const ObjectInfo*> Next() override {
    while (index_ >= page_.objects.size()) {
      if (done_) return nullptr;
      FERRY_ASSIGN_OR_RETURN(page_, backend_.ListPage(name_prefix_, token_, page_size_, {}));
      index_ = 0;
      token_ = page_.next_page_token;
      done_ = token_.empty();
    }
    GcsObject& o = page_.objects[index_++];
    current_ = ObjectInfo{};
    current_.key = o.name.substr(backend_.prefix().size());
    current_.size = o.info.size;
    current_.etag = o.info.etag;
    current_.mtime = o.info.mtime;
    current_.checksum = o.info.checksum;
    return &current_;
  }

 private:
  GcsBackend& backend_;
  std::string name_prefix_;
  int page_size_;
  GcsObjectsPage page_;
  size_t index_ = 0;
  std::string token_;
  bool done_ = false;
  ObjectInfo current_;
};

}  // namespace

GcsBackend::GcsBackend(GcsClient& client, std::string bucket, std::string prefix)
    : client_(client), bucket_(std::move(bucket)), prefix_(std::move(prefix)) {
  features_.chunked_write = true;
  features_.metadata = true;
  // one resumable session takes any number of chunks; the engine's own bound stays
  features_.max_parts = 10000;
  features_.min_part_size = kGcsChunkGranularity;
  features_.max_part_size = 5ull << 30;
  // multipart/related bodies are held whole (and the emulator takes 130 MB at most)
  features_.max_single_put = 64ull << 20;
  features_.verifies_content_md5 = true;
  features_.folder_markers = true;
  features_.sorted_listing = true;
  features_.start_after = false;
  features_.put_if_absent = true;
  features_.server_side_copy = true;
}

std::string GcsBackend::Describe() const { return "gs://" + bucket_ + "/" + prefix_; }

Result<std::string> GcsBackend::ObjectName(std::string_view key) const {
  std::string name = prefix_ + std::string(key);
  const std::string what = "key '" + std::string(key.substr(0, 64)) + "' on " + Describe();
  if (name.empty()) {
    return Status::InvalidArgument("an empty key names the bucket " + Describe() +
                                   " itself, not an object");
  }
  if (name.size() > 1024) return Status::InvalidArgument(what + ": over 1024 bytes");
  if (name.find_first_of("\r\n") != std::string::npos) {
    return Status::InvalidArgument(what + ": GCS object names cannot hold CR or LF");
  }
  if (name == "." || name == "..") {
    return Status::InvalidArgument(what + ": GCS has no object named '.' or '..'");
  }
  return name;
}

std::string GcsBackend::ObjectPath(std::string_view name) const {
  std::string path = "/storage/v1/b/" + EncodeObjectName(bucket_) + "/o";
  if (!name.empty()) path += "/" + EncodeObjectName(name);
  return path;
}

GcsCall GcsBackend::CallFor(std::string operation, std::string method,
                            std::string_view name) const {
  GcsCall call;
  call.operation = std::move(operation);
  call.method = std::move(method);
  call.what = "gs://" + bucket_ + "/" + std::string(name);
  call.path = ObjectPath(name);
  return call;
}

Result<GcsObjectsPage> GcsBackend::ListPage(const std::string& name_prefix,
                                            const std::string& token, int max_results,
                                            std::stop_token stop) {
  GcsCall call = CallFor("objects.list", "GET", "");
  call.what += name_prefix;
  call.query = {{"maxResults", std::to_string(max_results)}};
  if (!name_prefix.empty()) call.query.emplace_back("prefix", name_prefix);
  if (!token.empty()) call.query.emplace_back("pageToken", token);
  FERRY_ASSIGN_OR_RETURN(GcsReply reply, client_.Send(call, stop));
  auto page = ParseObjectsPage(reply.body);
  if (!page.ok()) return page.status().WithContext("objects.list " + Describe());
  return page;
}

Status GcsBackend::Check(std::stop_token stop) {
  Result<GcsObjectsPage> page = ListPage(prefix_, "", 1, stop);
  if (!page.ok() && page.status().code() == ErrorCode::kNotFound) {
    return Status::NotFound("bucket '" + bucket_ + "' not found on " + client_.endpoint())
        .WithSubject(ErrorSubject::kBucket);
  }
  return page.status();
}

Result<std::unique_ptr<ListingCursor>> GcsBackend::List(std::string_view prefix) {
  return std::unique_ptr<ListingCursor>(
      std::make_unique<GcsListingCursor>(*this, prefix_ + std::string(prefix), page_size_));
}

Result<ObjectInfo> GcsBackend::Stat(std::string_view key, bool with_tags, std::stop_token stop) {
  (void)with_tags;  // no tags (features().tags is false)
  FERRY_ASSIGN_OR_RETURN(std::string name, ObjectName(key));
  FERRY_ASSIGN_OR_RETURN(GcsReply reply, client_.Send(CallFor("objects.get", "GET", name), stop));
  Result<GcsObject> o = ParseObjectResource(reply.body);
  if (!o.ok()) return o.status().WithContext("objects.get " + Describe() + std::string(key));
  o->info.key = std::string(key);
  return std::move(o->info);
}

Status GcsBackend::ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                          std::string_view etag, std::stop_token stop) {
  const std::string what = "object " + Describe() + std::string(key);
  if (out.empty()) {
    FERRY_ASSIGN_OR_RETURN(ObjectInfo info, Stat(key, false, stop));
    if (!etag.empty() && info.etag != etag) return Status::FailedPrecondition(what + " changed");
    return Status::Ok();
  }
  return ReadRange(key, offset, out, etag, stop);
}

Status GcsBackend::ReadRange(std::string_view key, uint64_t offset, std::span<std::byte> out,
                             std::string_view etag, std::stop_token stop) const {
  const std::string what = "object " + Describe() + std::string(key);
  FERRY_ASSIGN_OR_RETURN(std::string name, ObjectName(key));
  GcsCall call = CallFor("objects.get media", "GET", name);
  call.query = {{"alt", "media"}};
  call.headers.Set("Range", "bytes=" + std::to_string(offset) + "-" +
                                std::to_string(offset + out.size() - 1));
  // the stored bytes, not a gunzipped view of a Content-Encoding: gzip object
  call.headers.Set("Accept-Encoding", "gzip");
  http::SpanSink sink(out);
  call.sink = &sink;
  FERRY_ASSIGN_OR_RETURN(GcsReply reply, client_.Send(call, stop));
  if (!GcsSameObject(reply.headers, etag)) {
    return Status::FailedPrecondition(what + " changed (its MD5 or generation is not " +
                                      std::string(etag) + ")");
  }
  if (sink.written() != out.size()) {
    return Status::DataLoss(what + ": " + std::to_string(sink.written()) + " bytes at offset " +
                            std::to_string(offset) + ", expected " + std::to_string(out.size()));
  }
  // a read of the whole object is checked against its stored checksums; a range has none
  const std::string range = reply.headers.Get("Content-Range");
  const bool whole = offset == 0 && (reply.status == 200 ||
                                     range.ends_with("/" + std::to_string(out.size())));
  return whole ? GcsCheckWhole(reply.headers, out, what) : Status::Ok();
}

Result<ObjectInfo> GcsBackend::ReadObject(std::string_view key, std::span<std::byte> out,
                                          std::string_view etag, std::stop_token stop) {
  // the details come from the resource (the media reply carries too few of them); the read is
  // pinned to what that resource says, so both describe one object
  FERRY_ASSIGN_OR_RETURN(ObjectInfo info, Stat(key, true, stop));
  const std::string what = "object " + Describe() + std::string(key);
  if (!etag.empty() && info.etag != etag) return Status::FailedPrecondition(what + " changed");
  if (info.size != out.size()) {
    return Status::DataLoss(what + " changed size: it has " + std::to_string(info.size) +
                            " bytes, expected " + std::to_string(out.size()));
  }
  if (!out.empty()) FERRY_RETURN_IF_ERROR(ReadAt(key, 0, out, info.etag, stop));
  return info;
}

Result<WriteResult> GcsBackend::Put(std::string_view key, std::span<const std::byte> data,
                                    const WriteSpec& spec, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string name, ObjectName(key));
  if (spec.if_absent && !features_.put_if_absent) {
    return Status::NotSupported("create-only writes on " + Describe());
  }
  GcsCall call = CallFor("objects.insert", "POST", name);
  call.path = "/upload" + ObjectPath("");
  call.query = {{"uploadType", "multipart"}};
  if (spec.if_absent) call.query.emplace_back("ifGenerationMatch", "0");
  // the service refuses bytes that do not match either checksum, and keeps them as the object's
  const std::string md5 = spec.content_md5.empty() ? GcsMd5Base64(data) : spec.content_md5;
  const std::string resource =
      UploadResource(name, spec, {}, md5, Crc32cBase64(checksum::Crc32c(data)));
  const std::string boundary = GcsBoundary();
  const std::string body = MultipartBody(boundary, resource, data);
  call.headers.Set("Content-Type", "multipart/related; boundary=" + boundary);
  call.body = checksum::AsBytes(body);
  Result<GcsReply> reply = client_.Send(call, stop);
  if (!reply.ok()) {
    if (spec.if_absent && reply.status().code() == ErrorCode::kFailedPrecondition) {
      return Status::AlreadyExists(reply.status().message());
    }
    return reply.status();
  }
  FERRY_ASSIGN_OR_RETURN(GcsObject o, ParseObjectResource(reply->body));
  // a store that kept other bytes than were sent (the emulator checks no md5Hash it is given)
  if (!o.md5_base64.empty() && o.md5_base64 != md5) {
    return Status::DataLoss("objects.insert " + Describe() + std::string(key) +
                            ": the service stored MD5 " + o.md5_base64 + ", not " + md5);
  }
  return WriteResult{o.info.etag, ""};
}

Status GcsBackend::Delete(std::string_view key, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string name, ObjectName(key));
  Result<GcsReply> reply = client_.Send(CallFor("objects.delete", "DELETE", name), stop);
  if (!reply.ok() && reply.status().code() == ErrorCode::kNotFound &&
      reply.status().subject() != ErrorSubject::kBucket) {
    return Status::Ok();
  }
  return reply.status();
}

Result<std::chrono::system_clock::time_point> GcsBackend::ServerTime(std::stop_token stop) {
  GcsCall call = CallFor("objects.list", "GET", "");
  call.query = {{"maxResults", "1"}};
  FERRY_ASSIGN_OR_RETURN(GcsReply reply, client_.Send(call, stop));
  auto date = s3::ParseHttpDate(reply.headers.Get("Date"));
  if (!date) return Status::Internal(Describe() + ": the reply has no Date");
  return *date;
}

Result<std::vector<Backend::PendingUpload>> GcsBackend::ListPendingUploads(std::string_view prefix,
                                                                           std::stop_token stop) {
  (void)prefix, (void)stop;
  return std::vector<PendingUpload>();
}

Status GcsBackend::AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) {
  return CancelSession(upload.upload_id, stop);
}

}  // namespace ferry::storage::gcs
