// GcsBackend's server-side copies (gcs_backend.h): objects.rewrite within one client; a
// service without it (501: an emulator) gets the bytes through ferry instead.
#include <vector>

#include "checksum/checksum.h"
#include "storage/gcs/gcs_backend.h"

namespace ferry::storage::gcs {
namespace {

// Whether an ETag is a generation (a composite object's; digits only) rather than an MD5.
bool GcsEtagIsGeneration(std::string_view etag) {
  return !etag.empty() && etag.size() != 32 &&
         etag.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

bool GcsBackend::CanCopyFrom(const Backend& source) const {
  // one client means one endpoint and one set of credentials (app/wiring.cc shares clients)
  const auto* gcs = dynamic_cast<const GcsBackend*>(&source);
  return gcs != nullptr && &gcs->client_ == &client_;
}

Result<WriteResult> GcsBackend::CopyFrom(const Backend& source, const ObjectInfo& object,
                                         std::string_view key, std::string_view storage_class,
                                         std::stop_token stop) {
  (void)storage_class;  // features().storage_class is false: as Put, no class is sent
  Result<WriteResult> copied = Rewrite(source, object, key, "{}", stop);
  if (copied.status().code() != ErrorCode::kNotSupported || !CanCopyFrom(source)) return copied;
  return CopyThrough(static_cast<const GcsBackend&>(source), object, key, nullptr, stop);
}

Result<WriteResult> GcsBackend::CopyFromWithSpec(const Backend& source, const ObjectInfo& object,
                                                 std::string_view key, const WriteSpec& spec,
                                                 std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string name, ObjectName(key));
  Result<WriteResult> copied =
      Rewrite(source, object, key, UploadResource(name, spec, {}, "", ""), stop);
  if (copied.status().code() != ErrorCode::kNotSupported || !CanCopyFrom(source)) return copied;
  return CopyThrough(static_cast<const GcsBackend&>(source), object, key, &spec, stop);
}

Result<WriteResult> GcsBackend::CopyThrough(const GcsBackend& source, const ObjectInfo& object,
                                            std::string_view key, const WriteSpec* spec,
                                            std::stop_token stop) {
  // the engine asks CopyFrom of objects up to features().max_single_put only
  if (object.size > features_.max_single_put) {
    return Status::NotSupported("objects.rewrite on " + client_.endpoint() + " and " +
                                std::to_string(object.size) + " bytes to copy through ferry");
  }
  GcsBackend reader(client_, source.bucket_, source.prefix_);  // the same client
  std::vector<std::byte> bytes(object.size);
  // pinned to the listed ETag; a whole read is checked against the stored CRC32C and MD5
  FERRY_ASSIGN_OR_RETURN(ObjectInfo info, reader.ReadObject(object.key, bytes, object.etag, stop));
  WriteSpec write;
  if (spec != nullptr) {
    write = *spec;
  } else {
    write.content = info.content;
    write.metadata = info.metadata;
  }
  write.size = bytes.size();
  write.content_md5.clear();
  write.if_absent = false;
  return Put(key, bytes, write, stop);
}

Result<WriteResult> GcsBackend::Rewrite(const Backend& source, const ObjectInfo& object,
                                        std::string_view key, const std::string& resource,
                                        std::stop_token stop) {
  const auto* src = dynamic_cast<const GcsBackend*>(&source);
  if (src == nullptr || !CanCopyFrom(source)) {
    return Status::NotSupported("server-side copy from " + source.Describe() + " to " +
                                Describe());
  }
  FERRY_ASSIGN_OR_RETURN(std::string src_name, src->ObjectName(object.key));
  FERRY_ASSIGN_OR_RETURN(std::string name, ObjectName(key));
  GcsCall call = CallFor("objects.rewrite", "POST", name);
  call.what = "gs://" + src->bucket() + "/" + src_name + " to " + call.what;
  call.path = src->ObjectPath(src_name) + "/rewriteTo/b/" + EncodeObjectName(bucket_) + "/o/" +
              EncodeObjectName(name);
  if (!object.version_id.empty()) call.query.emplace_back("sourceGeneration", object.version_id);
  if (GcsEtagIsGeneration(object.etag)) {
    call.query.emplace_back("ifSourceGenerationMatch", object.etag);
  }
  call.headers.Set("Content-Type", "application/json; charset=UTF-8");
  call.body = checksum::AsBytes(resource);
  const size_t fixed_params = call.query.size();
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(GcsReply reply, client_.Send(call, stop));
    Result<GcsRewrite> r = ParseRewriteReply(reply.body);
    if (!r.ok()) return r.status().WithContext("objects.rewrite " + call.what);
    if (r->done) {
      const GcsObject& o = *r->object;
      // the MD5 of what was copied is the source's, unless the source changed since listed
      if (!object.etag.empty() && !GcsEtagIsGeneration(object.etag) &&
          o.info.etag != object.etag) {
        return Status::FailedPrecondition("objects.rewrite " + call.what +
                                          ": the source changed (" + o.info.etag + ", not " +
                                          object.etag + ")");
      }
      return WriteResult{o.info.etag, ""};
    }
    if (stop.stop_requested()) return Status::Cancelled("cancelled during objects.rewrite");
    call.query.resize(fixed_params);
    call.query.emplace_back("rewriteToken", r->token);
  }
}

}  // namespace ferry::storage::gcs
