// S3Backend: the Backend for one bucket and key prefix of an S3-compatible endpoint. Keys seen
// by the engine are relative to the prefix. A thin layer over s3::S3Client: listing pages are
// streamed (1,000 keys a request), whole-object reads return the metadata from the same GET,
// chunked writes are multipart uploads, server-side copies use CopyObject / UploadPartCopy.
//
// Versions: LearnVersions() (not Check: a sync never needs it, and RGW answers it ~45 ms late)
// asks GetBucketVersioning and sets features().versions when versioning is Enabled (a bucket
// whose versioning this user may not read, or a store that refuses the request, counts as
// unversioned). Until then features().versions is false: writes and server-side copies then
// report the version id the store sends, and never ask for one (RGW sends none with CopyObject;
// once versions are known, a HEAD learns it). Version
// listings are ListObjectVersions pages (an unversioned bucket lists version "null"); the
// version calls send versionId; writes return x-amz-version-id. A chunked write is one
// multipart upload and nothing more: one write, one version (its whole-object CRC32C goes
// with the upload where the store keeps one, s3::S3Options::full_object_checksums; multipart.cc).
//
// Directory buckets (S3 Express One Zone: the client's IsDirectoryBucket, by the "--x-s3" name
// suffix or the remote's directory_bucket option): features() say sorted_listing, start_after,
// tags and storage_class false (a write with tags is kNotSupported, so the engine writes
// without them and counts them; a chunked write drops them and says tags_not_kept()), PutTags
// is kNotSupported; LearnVersions says unversioned without asking and
// ListVersions is kNotSupported; listings send neither start-after (skipped on the client) nor
// a prefix past its last '/' (the rest filtered here), and are not checked for order;
// FirstKeyAfter reads the listing whole (Backend's default). Sessions: s3/express.h.
//
// Thread-safety: all methods are thread-safe (the client is); cursors and chunk writers follow
// the Backend contracts. Check(), LearnVersions() and set_list_page_size() change state: call
// them before sharing the backend between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "s3/client.h"
#include "storage/backend.h"

namespace ferry::storage {

// Conversion of the engine's write spec to the S3 client's options (s3/convert.cc): without
// encryption (S3Backend::WriteOptionsFor adds the backend's).
s3::WriteOptions WriteOptionsFromSpec(const WriteSpec& spec);

// How an S3Backend's objects are encrypted (s3/sse.h, docs/design/encryption.md).
struct S3Encryption {
  // Asked of every write to this backend: PutObject, multipart uploads (SSE-C keys on every
  // part and the completion), and server-side copies to it. kNone: the bucket's default.
  s3::Encryption write;
  // The SSE-C key (32 raw bytes) of the objects read from this backend: sent with its GETs
  // and HEADs, and as the copy-source key when it is the source of a server-side copy. ""
  // when its objects are not SSE-C (or are read by someone else's key: then S3 refuses).
  std::string read_key;
};

class S3Backend : public Backend {
 public:
  // `client` must outlive the backend. `prefix` is used as given (callers normalise a
  // folder-like prefix to end with '/').
  S3Backend(s3::S3Client& client, std::string bucket, std::string prefix);

  const Features& features() const override { return features_; }
  std::string Describe() const override;
  Status Check(std::stop_token stop) override;
  // The Date of a HEAD of the bucket.
  Result<std::chrono::system_clock::time_point> ServerTime(std::stop_token stop) override;
  Status LearnVersions(std::stop_token stop) override;

  Result<std::unique_ptr<ListingCursor>> List(std::string_view prefix) override;
  Result<std::unique_ptr<ListingCursor>> ListFrom(std::string_view prefix,
                                                  std::string_view start_after) override;
  Result<std::optional<std::string>> FirstKeyAfter(std::string_view start_after) override;
  Result<std::optional<uint64_t>> FirstPartSize(const ObjectInfo& object,
                                                std::stop_token stop) override;
  Result<ObjectInfo> Stat(std::string_view key, bool with_tags, std::stop_token stop) override;
  Status ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                std::string_view etag, std::stop_token stop) override;
  Result<ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                std::string_view etag, std::stop_token stop) override;
  Result<WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                          const WriteSpec& spec, std::stop_token stop) override;
  Result<std::unique_ptr<ChunkWriter>> OpenChunkWriter(std::string_view key, const WriteSpec& spec,
                                                       uint64_t part_size,
                                                       std::stop_token stop) override;
  // Checks with ListParts that the upload exists for this key (kNotFound otherwise: completed,
  // aborted, expired, or another key's). S3 does not record the object's size, so `spec` and
  // `part_size` are taken on trust; `spec` serves Commit's follow-ups (tags, lock) and says
  // whether the upload was created with a full-object CRC32C, as for OpenChunkWriter. The
  // writer's ListStoredParts is ListParts.
  Result<std::unique_ptr<ChunkWriter>> ResumeChunkWriter(std::string_view key,
                                                         std::string_view upload_id,
                                                         const WriteSpec& spec, uint64_t part_size,
                                                         std::stop_token stop) override;
  // ListMultipartUploads under prefix() + `prefix`; keys relative to prefix(), started =
  // Initiated, in the server's order (key, then initiation time).
  Result<std::vector<PendingUpload>> ListPendingUploads(std::string_view prefix,
                                                        std::stop_token stop) override;
  // AbortMultipartUpload; an upload that no longer exists is OK.
  Status AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) override;
  bool CanCopyFrom(const Backend& source) const override;
  Result<WriteResult> CopyFrom(const Backend& source, const ObjectInfo& object,
                               std::string_view key, std::string_view storage_class,
                               std::stop_token stop) override;
  Result<WriteResult> CopyFromWithSpec(const Backend& source, const ObjectInfo& object,
                                       std::string_view key, const WriteSpec& spec,
                                       std::stop_token stop) override;
  Status Delete(std::string_view key, std::stop_token stop) override;
  Status DeleteMany(std::span<const std::string> keys, std::stop_token stop) override;
  Status PutTags(std::string_view key, const Tags& tags, std::stop_token stop) override;
  // GetObjectLockConfiguration of the bucket (storage/s3/lock.cc).
  Result<bool> HasObjectLock(std::stop_token stop) override;
  // GetObjectAcl of the object (its version when it names a real one) (storage/s3/lock.cc).
  Result<WriteAcl> ReadAcl(const ObjectInfo& object, std::stop_token stop) override;
  // RestoreObject of the object (its version when it names a real one) (storage/s3/restore.cc).
  // kFailedPrecondition when the object is not archived; kNotFound when absent.
  Result<RestoreOutcome> RequestRestore(const ObjectInfo& object, const RestoreSpec& spec,
                                        std::stop_token stop) override;
  Status PutVersionTags(std::string_view key, std::string_view version_id, const Tags& tags,
                        std::stop_token stop) override;

  // Versions (versions.cc; contracts in backend.h). StatVersion/ReadVersionAt of a delete
  // marker's id: RGW answers 404 (kNotFound), AWS 405 MethodNotAllowed (kInvalidArgument).
  Result<std::unique_ptr<ListingCursor>> ListVersions(std::string_view prefix,
                                                      std::string_view key_marker,
                                                      std::string_view version_marker) override;
  Result<ObjectInfo> StatVersion(std::string_view key, std::string_view version_id, bool with_tags,
                                 std::stop_token stop) override;
  Status ReadVersionAt(std::string_view key, std::string_view version_id, uint64_t offset,
                       std::span<std::byte> out, std::stop_token stop) override;
  // One GET with versionId (ranged unless reading a whole version); GetObjectTagging only
  // when `with_tags` and the reply's x-amz-tagging-count is not 0.
  Result<ObjectInfo> ReadVersionWithDetails(std::string_view key, std::string_view version_id,
                                            uint64_t offset, std::span<std::byte> out,
                                            bool with_tags, std::stop_token stop) override;
  Status DeleteVersion(std::string_view key, std::string_view version_id,
                       std::stop_token stop) override;
  Result<WriteResult> AddDeleteMarker(std::string_view key, std::stop_token stop) override;

  // Entries per listing request (List and ListVersions; S3's maximum and default is 1,000).
  // Tests use small pages to exercise paging.
  void set_list_page_size(int n) { list_page_size_ = n; }
  // Sets how objects are written and read encrypted (see S3Encryption). Call before sharing
  // the backend between threads.
  void set_encryption(S3Encryption encryption) { encryption_ = std::move(encryption); }
  const S3Encryption& encryption() const { return encryption_; }
  // The SSE-C key of the objects this backend writes ("" unless SSE-C): what HEADs of its own
  // writes (a copy's version, a completion) send.
  std::string_view written_key() const {
    return encryption_.write.mode == s3::SseMode::kCustomer ? encryption_.write.customer_key
                                                            : std::string_view();
  }
  // WriteOptionsFromSpec with this backend's write encryption.
  s3::WriteOptions WriteOptionsFor(const WriteSpec& spec) const {
    s3::WriteOptions options = WriteOptionsFromSpec(spec);
    options.encryption = encryption_.write;
    return options;
  }

  // The version a CopyObject to `full_key` made: from its reply, or when the bucket is known
  // to be `versioned` (RGW does not send it) from a HEAD when the current object still has
  // the copy's ETag; "" when unknown or unversioned. Used by CopyFrom (versioned: learnt by
  // LearnVersions, so a plain sync never pays the HEAD).
  std::string VersionOfCopy(const std::string& full_key, const s3::WrittenObject& copy,
                            bool versioned, std::stop_token stop);

  // Makes version `version_id` of `full_key` ("" = the current one) hold `lock` where a HEAD
  // shows it does not: PutObjectRetention and PutObjectLegalHold. Ceph RGW 16 ignores the lock
  // headers of CopyObject and CreateMultipartUpload (measured; docs/design/object-lock.md), so
  // server-side and multipart writes that carry a lock end with this (lock.cc). One HEAD when
  // the store took the headers.
  Status ApplyLock(const std::string& full_key, const std::string& version_id,
                   const ObjectLock& lock, std::stop_token stop);

  s3::S3Client& client() const { return client_; }
  // A directory bucket (see above).
  bool directory() const { return directory_; }
  const std::string& bucket() const { return bucket_; }
  const std::string& prefix() const { return prefix_; }
  std::string FullKey(std::string_view key) const { return prefix_ + std::string(key); }

 private:
  s3::S3Client& client_;
  std::string bucket_;
  std::string prefix_;
  // kNotSupported when this is a directory bucket and `spec` has tags (it keeps none: the
  // engine then writes without them and counts them as not kept); OK otherwise.
  Status RefuseTagsOfDirectory(const WriteSpec& spec) const;

  Features features_;
  S3Encryption encryption_;
  int list_page_size_ = 1000;
  bool directory_ = false;
};

// A version id that names one version (not "" and not "null", the unversioned one).
inline bool IsRealVersion(std::string_view id) { return !id.empty() && id != "null"; }

// Conversions between the S3 client's types and the engine's (s3/convert.cc).
ObjectInfo ObjectInfoFromHead(std::string key, const s3::ObjectHead& head);
s3::WriteOptions WriteOptionsFromSpec(const WriteSpec& spec);
// Object lock and ACL between the engine's and the client's forms (retain-until as ISO 8601).
ObjectLock LockFromS3(const s3::ObjectLock& lock);
s3::ObjectLock LockToS3(const ObjectLock& lock);
s3::WriteAcl AclToS3(const WriteAcl& acl);
// Whether a HEAD/GET reply describes an archived object, and its restore (s3/restore.cc):
// archived for GLACIER and DEEP_ARCHIVE and for x-amz-archive-status ARCHIVE_ACCESS or
// DEEP_ARCHIVE_ACCESS (Intelligent-Tiering's archive tiers).
ArchiveState ArchiveFromHead(const s3::ObjectHead& head);

}  // namespace ferry::storage
