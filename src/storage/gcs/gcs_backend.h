// GcsBackend: one bucket (and key prefix) of Google Cloud Storage as a Backend, over the JSON
// API (docs/design/gcs.md). The client (one per endpoint and credentials) is the caller's and
// outlives the backend.
//
// What it does: objects.list (flat, in the store's byte order, paged by pageToken), objects.get
// (Stat: the resource; ReadAt/ReadObject: alt=media with a Range, pinned to the object the
// caller saw by the reply's x-goog-hash MD5 or x-goog-generation, a whole-object read checked
// against the stored CRC32C and MD5), one-request multipart uploads with md5Hash and crc32c in
// the resource (the service refuses bytes that do not match) and ifGenerationMatch=0 for
// create-only writes, chunked writes as one resumable upload session (gcs_writer.cc: the
// session URI is the upload id, so a journal keeps it and a killed upload resumes where the
// service says it stopped), objects.delete, user metadata and content headers. The MD5 (hex)
// of an object is its ETag; its CRC32C its declared checksum. Server-side copies within GCS
// are objects.rewrite (gcs_copy.cc). Not yet: generations as versions, compose, storage
// classes (features say so; the defaults refuse).
//
// Thread-safety: every method may be called from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "storage/backend.h"
#include "storage/gcs/gcs_client.h"
#include "storage/gcs/gcs_format.h"

namespace ferry::storage::gcs {

// Resumable chunks are multiples of this (all but the last), as GCS requires.
inline constexpr uint64_t kGcsChunkGranularity = 256u << 10;

class GcsBackend : public Backend {
 public:
  // `bucket` as GCS names it; `prefix`: "" or ends with '/'.
  GcsBackend(GcsClient& client, std::string bucket, std::string prefix);

  const Features& features() const override { return features_; }
  std::string Describe() const override;
  Status Check(std::stop_token stop) override;

  Result<std::unique_ptr<ListingCursor>> List(std::string_view prefix) override;
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
  // `upload_id` is the session URI an earlier writer's upload_id() gave; one that is not a
  // session of this client's endpoint, or that the service no longer has, is kNotFound.
  Result<std::unique_ptr<ChunkWriter>> ResumeChunkWriter(std::string_view key,
                                                         std::string_view upload_id,
                                                         const WriteSpec& spec, uint64_t part_size,
                                                         std::stop_token stop) override;
  // GCS cannot list resumable sessions (they expire after a week): always empty.
  Result<std::vector<PendingUpload>> ListPendingUploads(std::string_view prefix,
                                                        std::stop_token stop) override;
  // Cancels the session (DELETE of its URI; absent is fine).
  Status AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) override;
  // Server-side copies within GCS (gcs_copy.cc): a source that is a GcsBackend of the same
  // client (one endpoint and credentials), any bucket.
  bool CanCopyFrom(const Backend& source) const override;
  // objects.rewrite, called again with its rewriteToken until done (GCS copies large or
  // cross-location objects over several calls); metadata and content headers are the
  // source's. `storage_class` is not applied (features().storage_class is false). A service
  // that answers 501 (no rewrite) gets the bytes through ferry (CopyThrough). A
  // non-empty object.version_id (a generation) copies that generation. The copy must have the
  // source's ETag (MD5; a generation pins the source instead): kFailedPrecondition when the
  // source changed since it was listed.
  Result<WriteResult> CopyFrom(const Backend& source, const ObjectInfo& object,
                               std::string_view key, std::string_view storage_class,
                               std::stop_token stop) override;
  // Likewise, the new object's metadata and content headers from `spec` (the rewrite's
  // resource replaces the source's).
  Result<WriteResult> CopyFromWithSpec(const Backend& source, const ObjectInfo& object,
                                       std::string_view key, const WriteSpec& spec,
                                       std::stop_token stop) override;
  Status Delete(std::string_view key, std::stop_token stop) override;
  Result<std::chrono::system_clock::time_point> ServerTime(std::stop_token stop) override;

  // Whether Put honours WriteSpec::if_absent (ifGenerationMatch=0; GCS does): an emulator
  // that ignores preconditions (firebase-tools' does) is told so, and create-only writes are
  // then kNotSupported rather than silently overwriting.
  void set_put_if_absent(bool on) { features_.put_if_absent = on; }
  // Entries per objects.list page (1000, the most GCS gives); tests use small pages.
  void set_list_page_size(int n) { page_size_ = n; }

  // --- for the chunk writer (gcs_writer.cc) and the listing cursor ---
  GcsClient& client() { return client_; }
  const std::string& bucket() const { return bucket_; }
  const std::string& prefix() const { return prefix_; }
  // The object name of `key` (the prefix prepended); kInvalidArgument for a name GCS cannot
  // hold (empty, over 1024 bytes, CR or LF, "." or "..").
  Result<std::string> ObjectName(std::string_view key) const;
  // A call about object `name` ("" = the bucket), for messages.
  GcsCall CallFor(std::string operation, std::string method, std::string_view name) const;
  // "/storage/v1/b/BUCKET/o[/NAME]".
  std::string ObjectPath(std::string_view name) const;
  // One objects.list page of names starting with `name_prefix`.
  Result<GcsObjectsPage> ListPage(const std::string& name_prefix, const std::string& token,
                                  int max_results, std::stop_token stop);
  // ReadAt of a non-empty range (const: a chunk writer copying from another GcsBackend of
  // this client reads through it).
  Status ReadRange(std::string_view key, uint64_t offset, std::span<std::byte> out,
                   std::string_view etag, std::stop_token stop) const;
  // objects.rewrite of `object` on `source` (a GcsBackend of this client) to `key`, with
  // `resource` (JSON) as the destination's resource ("{}": the source's metadata).
  Result<WriteResult> Rewrite(const Backend& source, const ObjectInfo& object,
                              std::string_view key, const std::string& resource,
                              std::stop_token stop);
  // CopyFrom (spec null: the source's metadata and content headers) or CopyFromWithSpec where
  // the service answers objects.rewrite 501 Not Implemented (an emulator's old launcher): the
  // object (at most max_single_put bytes) is read whole, checked, and written by Put.
  Result<WriteResult> CopyThrough(const GcsBackend& source, const ObjectInfo& object,
                                  std::string_view key, const WriteSpec* spec,
                                  std::stop_token stop);
  // Cancels a resumable session (Ok when it is gone).
  Status CancelSession(const std::string& session_uri, std::stop_token stop);

 private:
  GcsClient& client_;
  std::string bucket_;
  std::string prefix_;
  int page_size_ = 1000;
  Features features_;
};

}  // namespace ferry::storage::gcs
