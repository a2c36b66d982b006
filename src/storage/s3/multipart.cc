// S3Backend::OpenChunkWriter and ResumeChunkWriter: one multipart upload. Parts are recorded
// as they finish (or adopted from ListParts after a crash); Commit completes them in part
// order; a writer dropped without Commit or Detach aborts the upload so that no orphaned parts
// keep costing storage.
//
// The whole object's CRC32C (ferry's, known before the upload or learnt while streaming):
// where the store keeps a full-object checksum (S3Options::full_object_checksums: AWS), the
// upload is created with CRC32C of type FULL_OBJECT, every part carries its CRC32C, and the
// completion names the whole object's, which the store checks and keeps. Elsewhere (RGW 16)
// a CRC32C learnt while streaming is not recorded: the object is written once, never copied
// onto itself to stamp an x-amz-meta-ferry-crc32c (docs/design/s3-client.md, "Checksums of
// large writes", has the measurement that decided it).
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "checksum/additional.h"
#include "checksum/checksum.h"
#include "storage/s3/s3_backend.h"

namespace ferry::storage {
namespace {

// Whether a chunked write of `spec` to `backend` asks the store for a full-object CRC32C: the
// store keeps one, and the write asks for no other algorithm (CRC32C asked for is made full-
// object). Directory buckets keep their composite CRC32C (s3-express.md).
bool AsksFullObjectCrc32c(const S3Backend& backend, const WriteSpec& spec) {
  if (!backend.client().options().full_object_checksums || backend.directory()) return false;
  return !spec.checksum_algorithm || *spec.checksum_algorithm == checksum::Algorithm::kCrc32c;
}

class S3ChunkWriter : public ChunkWriter {
 public:
  // `full_object_crc32c`: the upload was created with a full-object CRC32C
  // (AsksFullObjectCrc32c); its parts then carry CRC32Cs.
  S3ChunkWriter(S3Backend& backend, std::string key, std::string upload_id, WriteSpec spec,
                bool full_object_crc32c)
      : backend_(backend),
        key_(std::move(key)),
        upload_id_(std::move(upload_id)),
        spec_(std::move(spec)),
        full_object_crc32c_(full_object_crc32c) {
    if (full_object_crc32c_) spec_.checksum_algorithm = checksum::Algorithm::kCrc32c;
  }

  ~S3ChunkWriter() override {
    if (!finished_ && !detached_) (void)Abort();
  }

  const std::string& upload_id() const override { return upload_id_; }

  Status WriteChunk(int part_number, uint64_t offset, std::span<const std::byte> data,
                    std::stop_token stop) override {
    (void)offset;
    s3::ObjectHead reply;
    FERRY_ASSIGN_OR_RETURN(std::string etag,
                           backend_.client().UploadPart({.bucket = backend_.bucket(),
                                                         .key = key_,
                                                         .upload_id = upload_id_,
                                                         .part_number = part_number,
                                                         .body = data,
                                                         .encryption = backend_.encryption().write,
                                                         .checksum_algorithm =
                                                             spec_.checksum_algorithm},
                                                        stop, &reply));
    Record(part_number, std::move(etag), data.size(), !reply.etag_not_md5());
    return Status::Ok();
  }

  // UploadPart made the server check the body (signed SHA-256 or Content-MD5), so the ETag it
  // returned is the MD5 of exactly the bytes sent, unless the part is encrypted (SSE-KMS/C).
  std::string WrittenPartMd5(int part_number) const override {
    std::lock_guard lock(mu_);
    auto it = parts_.find(part_number);
    if (it == parts_.end() || !it->second.md5) return {};
    const std::string& etag = it->second.part.etag;
    const bool hex = etag.size() == 32 && etag.find_first_not_of("0123456789abcdefABCDEF") ==
                                              std::string::npos;
    return hex ? etag : std::string();
  }

  Status CopyChunk(int part_number, const Backend& source, const ObjectInfo& object,
                   uint64_t offset, uint64_t length, std::stop_token stop) override {
    const auto* src = dynamic_cast<const S3Backend*>(&source);
    if (src == nullptr || !backend_.CanCopyFrom(source)) {
      return Status::NotSupported("server-side part copy from " + source.Describe());
    }
    s3::UploadPartCopyRequest request;
    request.source = {src->bucket(), src->FullKey(object.key), object.version_id, object.etag,
                      src->encryption().read_key};
    request.encryption = backend_.encryption().write;
    request.bucket = backend_.bucket();
    request.key = key_;
    request.upload_id = upload_id_;
    request.part_number = part_number;
    request.range = {offset, length};
    request.checksum_algorithm = spec_.checksum_algorithm;
    FERRY_ASSIGN_OR_RETURN(std::string etag, backend_.client().UploadPartCopy(request, stop));
    Record(part_number, std::move(etag), length, false);
    copied_on_server_ = true;
    return Status::Ok();
  }

  Result<WriteResult> Commit(std::stop_token stop) override {
    std::vector<s3::CompletedPart> parts;  // ascending part order (the map's)
    {
      std::lock_guard lock(mu_);
      for (const auto& [number, written] : parts_) parts.push_back(written.part);
    }
    FERRY_ASSIGN_OR_RETURN(
        s3::WrittenObject done,
        backend_.client().CompleteMultipartUpload(
            s3::CompleteRequest{.bucket = backend_.bucket(),
                                .key = key_,
                                .upload_id = upload_id_,
                                .parts = parts,
                                .customer_key = std::string(backend_.written_key()),
                                .checksum_algorithm = spec_.checksum_algorithm,
                                .full_object_checksum = FullObjectCrc32c()},
            stop));
    finished_ = true;
    if (spec_.tags && !spec_.tags->empty() && backend_.directory()) {
      tags_not_kept_ = true;  // a directory bucket keeps no object tags: none were sent
    } else if (spec_.tags && !spec_.tags->empty()) {
      // RGW ignores x-amz-tagging on CreateMultipartUpload: set the tags explicitly.
      Status tagged =
          backend_.client().PutObjectTagging(backend_.bucket(), key_, *spec_.tags, stop);
      if (tagged.code() == ErrorCode::kNotSupported) {
        tags_not_kept_ = true;  // a store without tags (Swift): the object itself is complete
      } else if (!tagged.ok()) {
        return tagged.WithContext("tagging " + key_);
      }
    }
    // RGW 16 ignores the lock headers of CreateMultipartUpload.
    FERRY_RETURN_IF_ERROR(backend_.ApplyLock(key_, done.version_id, spec_.lock, stop));
    return WriteResult{std::move(done.etag), std::move(done.version_id)};
  }

  bool tags_not_kept() const override { return tags_not_kept_; }

  // Only the CRC32C is kept (the one entry callers give), as the full-object checksum the
  // completion names where the store keeps one; nothing else is recorded.
  void AddMetadataOnCommit(std::map<std::string, std::string> extra) override {
    extra_ = std::move(extra);
  }

  Status Abort() override {
    if (detached_) return Status::Ok();  // the upload was handed over: not ours to abort
    finished_ = true;
    Status s = backend_.client().AbortMultipartUpload(backend_.bucket(), key_, upload_id_, {});
    return s.code() == ErrorCode::kNotFound ? Status::Ok() : s;
  }

  Result<std::optional<std::vector<StoredPart>>> ListStoredParts(std::stop_token stop) override {
    FERRY_ASSIGN_OR_RETURN(std::vector<s3::CompletedPart> listed,
                           backend_.client().ListParts(backend_.bucket(), key_, upload_id_, stop));
    std::vector<StoredPart> parts;
    parts.reserve(listed.size());
    for (s3::CompletedPart& p : listed) {
      parts.push_back(StoredPart{p.part_number, std::move(p.etag), p.size});
    }
    return std::optional<std::vector<StoredPart>>(std::move(parts));
  }

  void AdoptPart(const StoredPart& part) override {
    Record(part.part_number, part.etag, part.size, false);
  }

  void Detach() override { detached_ = true; }

 private:
  // The whole object's CRC32C (base64) for a completion that asks the store to keep it: learnt
  // while streaming (AddMetadataOnCommit), else the spec's ferry-crc32c (known before the
  // upload and compared with the bytes streamed by the caller). "" when the upload is not
  // full-object, or when a part was copied on the server: those bytes were never read here,
  // and the source's claimed CRC32C is not to become the store's checksum unchecked.
  std::string FullObjectCrc32c() const {
    if (!full_object_crc32c_ || copied_on_server_.load()) return {};
    const std::map<std::string, std::string>& from =
        extra_.count(kMetaCrc32c) != 0 ? extra_ : spec_.metadata;
    auto known = from.find(kMetaCrc32c);
    if (known == from.end()) return {};
    const std::optional<uint32_t> crc = checksum::ParseHex32(known->second);
    return crc ? checksum::EncodeCrc(checksum::Algorithm::kCrc32c, *crc) : std::string();
  }

  // A part written again (a retry) replaces the earlier record: S3 keeps the last upload.
  // `md5`: the ETag is the MD5 of the bytes this writer sent (WrittenPartMd5).
  void Record(int part_number, std::string etag, uint64_t size, bool md5) {
    std::lock_guard lock(mu_);
    parts_[part_number] = Written{s3::CompletedPart{part_number, std::move(etag), size}, md5};
  }

  struct Written {
    s3::CompletedPart part;
    bool md5 = false;
  };

  S3Backend& backend_;
  std::string key_;
  std::string upload_id_;
  WriteSpec spec_;
  std::map<std::string, std::string> extra_;
  mutable std::mutex mu_;
  std::map<int, Written> parts_;  // GUARDED_BY(mu_): by part number
  // Set by Commit/Abort and Detach; read by the destructor. One thread (the ChunkWriter rule).
  bool finished_ = false;
  bool detached_ = false;
  bool tags_not_kept_ = false;
  const bool full_object_crc32c_;
  std::atomic<bool> copied_on_server_{false};  // a CopyChunk succeeded (parts' threads set it)
};

}  // namespace

Result<std::unique_ptr<ChunkWriter>> S3Backend::OpenChunkWriter(std::string_view key,
                                                                const WriteSpec& spec,
                                                                uint64_t part_size,
                                                                std::stop_token stop) {
  (void)part_size;
  if (spec.if_absent) return Status::NotSupported("create-only chunked writes");
  std::string full = FullKey(key);
  s3::WriteOptions options = WriteOptionsFor(spec);
  if (directory_) options.tags.reset();  // not kept: Commit reports tags_not_kept()
  const bool full_object = AsksFullObjectCrc32c(*this, spec);
  if (full_object) {
    options.checksum_algorithm = checksum::Algorithm::kCrc32c;
    options.full_object_checksum = true;
  }
  FERRY_ASSIGN_OR_RETURN(std::string upload_id,
                         client_.CreateMultipartUpload(bucket_, full, options, stop));
  return std::unique_ptr<ChunkWriter>(std::make_unique<S3ChunkWriter>(
      *this, std::move(full), std::move(upload_id), spec, full_object));
}

Result<std::unique_ptr<ChunkWriter>> S3Backend::ResumeChunkWriter(std::string_view key,
                                                                  std::string_view upload_id,
                                                                  const WriteSpec& spec,
                                                                  uint64_t part_size,
                                                                  std::stop_token stop) {
  (void)part_size;
  if (upload_id.empty()) return Status::NotFound("no upload with an empty id");
  std::string full = FullKey(key);
  // ListParts is the cheapest request that fails (NoSuchUpload -> kNotFound) for an upload
  // that was completed, aborted or expired, or that belongs to another key.
  auto parts = client_.ListParts(bucket_, full, upload_id, stop);
  if (!parts.ok()) {
    return parts.status().WithContext("resume upload " + std::string(upload_id) + " of " + full);
  }
  // Created by OpenChunkWriter with the same options and spec: full-object the same way.
  return std::unique_ptr<ChunkWriter>(std::make_unique<S3ChunkWriter>(
      *this, std::move(full), std::string(upload_id), spec, AsksFullObjectCrc32c(*this, spec)));
}

}  // namespace ferry::storage
