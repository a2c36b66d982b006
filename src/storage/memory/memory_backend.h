// MemoryBackend: a Backend held in memory (a sorted map of key -> object), the fake that engine
// and planner unit tests use instead of S3. It behaves like S3 where the engine can tell: byte-
// ordered listings, MD5 ETags for single writes and "md5-of-md5s-N" ETags for chunked ones,
// part-size limits (features(), S3's by default), metadata, content headers, tags (at most 10)
// and storage classes ("STANDARD" reads back as ""), If-Match style `etag` checks on reads and
// copies, and server-side copies between MemoryBackends that share an `endpoint`.
//
// It is stricter than S3 where that catches engine bugs: every part but the last must be
// exactly `part_size` bytes at offset (part_number - 1) * part_size, and Commit requires the
// parts to cover exactly spec.size bytes.
//
// Uploads live in the backend, by id, as S3's do: a chunk writer ended by Detach leaves its
// upload (and parts) for ResumeChunkWriter, and ListPendingUploads lists it with its start
// time from the Clock. As with S3, Commit completes only the parts this writer wrote or
// adopted (AdoptPart), and an adopted part must be on the store with the size (and, when
// given, the ETag: the part's MD5 hex) that AdoptPart said.
//
// Versions: created with Options::versioned, it keeps every write of a key as a version with a
// fresh id ("m1", "m2", ... in write order across the backend), Delete adds a delete marker,
// DeleteVersion removes one version, and a key whose current version is a delete marker is
// absent to List/Stat/reads, as on a versioned S3 bucket; features().versions is then true.
// Unversioned (the default) it behaves as it always did, and its version listings show each
// object once as version "null", which the version calls also accept, like an unversioned
// S3 bucket.
//
// Create-only writes (WriteSpec::if_absent): refused with kAlreadyExists when the key has a
// current object, checked and stored under one lock.
//
// Test hooks: FailNext/FailNextWrites inject failures, counts() counts calls, Contents/Keys/
// open_writers inspect the state without counting as calls.
//
// Thread-safety: all methods are thread-safe (one mutex). Cursors and chunk writers refer to
// the backend, which must outlive them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "storage/backend.h"

namespace ferry::storage {

// S3's limits and capabilities: everything supported, parts of 5 MiB..5 GiB, 10,000 parts,
// single writes up to 5 GiB; cheap_reads false.
Features MemoryBackendDefaultFeatures();

class MemoryBackend : public Backend {
 public:
  struct Options {
    Features features = MemoryBackendDefaultFeatures();
    // Backends with the same endpoint can copy from each other on the "server".
    std::string endpoint = "memory";
    // Describe() is "memory://<name>/".
    std::string name = "mem";
    // Source of object mtimes (S3's LastModified is the time of the write). nullptr: the system
    // clock. Must outlive the backend.
    Clock* clock = nullptr;
    // Keep versions (sets features.versions).
    bool versioned = false;
    // S3 Object Lock (HasObjectLock answers it): writes keep WriteSpec::lock, which Stat and
    // ReadObject report (details), and a server-side copy does not copy (as S3's COPY). A
    // write with a lock to a backend without it is refused (kInvalidArgument, as S3's 400).
    bool object_lock = false;
  };

  // Operations that FailNext can make fail.
  enum Op : unsigned {
    kPut = 1u << 0,
    kWriteChunk = 1u << 1,
    kCopyChunk = 1u << 2,
    kCommit = 1u << 3,
    kCopyFrom = 1u << 4,
    kRead = 1u << 5,    // ReadAt, ReadObject and ReadVersionAt
    kStat = 1u << 6,    // Stat and StatVersion
    kList = 1u << 7,    // List, ListFrom and ListVersions
    kDelete = 1u << 8,  // Delete, each key of DeleteMany, DeleteVersion, AddDeleteMarker
    kPutTags = 1u << 9,
    kOpenChunkWriter = 1u << 10,
    kResumeChunkWriter = 1u << 11,
    kListStoredParts = 1u << 12,
  };
  // The requests that carry data to the store.
  static constexpr unsigned kWrites = kPut | kWriteChunk | kCopyChunk | kCopyFrom;

  // Calls made so far (failed ones included) and bytes moved by successful ones.
  struct Counts {
    int puts = 0;
    int parts = 0;        // WriteChunk
    int part_copies = 0;  // CopyChunk
    int commits = 0;
    int aborts = 0;  // ChunkWriter::Abort of an open writer, and AbortPendingUpload
    int copies = 0;  // CopyFrom
    int reads = 0;   // ReadAt and ReadObject
    int lists = 0;
    int stats = 0;
    int deletes = 0;
    int tag_puts = 0;
    int writers_opened = 0;
    int writers_resumed = 0;
    int part_lists = 0;          // ChunkWriter::ListStoredParts
    int parts_adopted = 0;       // ChunkWriter::AdoptPart
    uint64_t bytes_written = 0;  // by Put and WriteChunk
    uint64_t bytes_read = 0;     // by ReadAt and ReadObject
  };

  MemoryBackend();
  explicit MemoryBackend(Options options);
  ~MemoryBackend() override;

  const Features& features() const override { return options_.features; }
  std::string Describe() const override;
  Status Check(std::stop_token stop) override;  // always OK

  // Lists lazily: each Next looks up the key after the previous one, so objects written or
  // deleted during a listing show up or not as with S3's paged listings. Entries carry key,
  // size, etag, mtime and storage class; has_details = false.
  Result<std::unique_ptr<ListingCursor>> List(std::string_view prefix) override;
  Result<std::unique_ptr<ListingCursor>> ListFrom(std::string_view prefix,
                                                  std::string_view start_after) override;
  // kNotFound when absent. Tags (possibly empty) only when `with_tags`.
  Result<ObjectInfo> Stat(std::string_view key, bool with_tags, std::stop_token stop) override;
  // kNotFound when absent; kFailedPrecondition when `etag` is given and differs; kDataLoss
  // when the range goes past the end.
  Status ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                std::string_view etag, std::stop_token stop) override;
  // Atomic: content and details from the same version. Tags when the object has any.
  Result<ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                std::string_view etag, std::stop_token stop) override;
  // Returns the MD5 hex ETag (and the version id when versioned). kInvalidArgument for an empty
  // key, a key over 1024 bytes, more than features().max_single_put bytes or more than 10 tags.
  Result<WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                          const WriteSpec& spec, std::stop_token stop) override;
  // kInvalidArgument when `part_size` breaks features() limits for spec.size (the part size
  // must be at least min_part_size unless the object is a single part, at most max_part_size,
  // and at most max_parts parts). Commit returns "<md5 of part md5s>-<parts>" and stores the
  // metadata given to ChunkWriter::AddMetadataOnCommit (overriding spec.metadata entries).
  Result<std::unique_ptr<ChunkWriter>> OpenChunkWriter(std::string_view key, const WriteSpec& spec,
                                                       uint64_t part_size,
                                                       std::stop_token stop) override;
  // kNotFound when no upload `upload_id` of `key` exists (never opened, committed, aborted),
  // and when spec.size or `part_size` differ from those it was opened with: like the local
  // backend (whose file has the size), the upload is then removed. The object's details
  // (metadata, content headers, tags, storage class) are those given at open, as S3 recorded
  // them then. Limits as for OpenChunkWriter.
  Result<std::unique_ptr<ChunkWriter>> ResumeChunkWriter(std::string_view key,
                                                         std::string_view upload_id,
                                                         const WriteSpec& spec, uint64_t part_size,
                                                         std::stop_token stop) override;
  // Uploads opened and neither committed nor aborted (detached ones and those of live
  // writers), by key, then start time.
  Result<std::vector<PendingUpload>> ListPendingUploads(std::string_view prefix,
                                                        std::stop_token stop) override;
  // Removes the upload when its id and key match; a live writer of it then fails with
  // kNotFound. Absent is OK.
  Status AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) override;
  // True for a MemoryBackend with the same endpoint (this one included) when
  // features().server_side_copy.
  bool CanCopyFrom(const Backend& source) const override;
  // Copies data, content headers, metadata and tags; `storage_class` overrides when not empty.
  // kNotFound when the source object is absent, kFailedPrecondition when its ETag differs from
  // object.etag (if given); object.version_id (if given) copies that version (kNotFound when
  // it is not there). Returns the MD5 ETag of the copy.
  Result<WriteResult> CopyFrom(const Backend& source, const ObjectInfo& object,
                               std::string_view key, std::string_view storage_class,
                               std::stop_token stop) override;
  // Versioned: adds a delete marker (even for an absent key, as S3 does).
  Status Delete(std::string_view key, std::stop_token stop) override;
  // Version calls (memory_versions.cc); contracts in backend.h. The version listing is lazy
  // per key (a key's versions are read together, then the next key is looked up).
  Result<std::unique_ptr<ListingCursor>> ListVersions(std::string_view prefix,
                                                      std::string_view key_marker,
                                                      std::string_view version_marker) override;
  Result<ObjectInfo> StatVersion(std::string_view key, std::string_view version_id, bool with_tags,
                                 std::stop_token stop) override;
  Status ReadVersionAt(std::string_view key, std::string_view version_id, uint64_t offset,
                       std::span<std::byte> out, std::stop_token stop) override;
  // One read (Counts::reads), as S3's GET: content and details from the same version; tags
  // when `with_tags` and the version has any.
  Result<ObjectInfo> ReadVersionWithDetails(std::string_view key, std::string_view version_id,
                                            uint64_t offset, std::span<std::byte> out,
                                            bool with_tags, std::stop_token stop) override;
  Status DeleteVersion(std::string_view key, std::string_view version_id,
                       std::stop_token stop) override;
  Result<WriteResult> AddDeleteMarker(std::string_view key, std::stop_token stop) override;
  // kNotFound when absent; replaces all tags (of the current version).
  Status PutTags(std::string_view key, const Tags& tags, std::stop_token stop) override;
  // The Clock's time (mtimes come from it too).
  Result<std::chrono::system_clock::time_point> ServerTime(std::stop_token stop) override;
  Result<bool> HasObjectLock(std::stop_token stop) override;
  // Counts a tag put; the current object's tags too when the version is the current one.
  Status PutVersionTags(std::string_view key, std::string_view version_id, const Tags& tags,
                        std::stop_token stop) override;

  // --- Test hooks ---------------------------------------------------------------------------
  // The next `n` calls of any operation in `ops` (a mask of Op) fail with `status` (not OK)
  // without changing anything. Rules queue: an earlier rule is used up first.
  void FailNext(unsigned ops, int n, Status status);
  void FailNextWrites(int n, Status status) { FailNext(kWrites, n, std::move(status)); }
  Counts counts() const;
  void ResetCounts();
  // Chunk writers opened or resumed and not yet ended (by Commit, Abort or Detach).
  int open_writers() const;
  // The content of `key`, or nullopt; not counted as a read.
  std::optional<std::string> Contents(std::string_view key) const;
  // Every key, in order; not counted as a listing.
  std::vector<std::string> Keys() const;

 private:
  friend class MemoryChunkWriter;
  friend class MemoryListingCursor;
  friend class MemoryVersionCursor;

  struct StoredObject {
    std::string data;
    std::string etag;
    std::chrono::system_clock::time_point mtime;
    std::string storage_class;
    ContentHeaders content;
    std::map<std::string, std::string> metadata;
    Tags tags;
    std::string version_id;  // versioned: this version's id (set by StoreLocked)
    ObjectLock lock{};       // Options::object_lock: as written
  };
  struct StoredVersion {  // one entry of a versioned key's history
    std::string id;
    bool delete_marker = false;
    StoredObject object;  // a delete marker: only mtime
  };
  struct Upload {  // one multipart upload
    std::string key;
    uint64_t size = 0;
    uint64_t part_size = 0;
    StoredObject details;              // from the spec at open: all but data, etag and mtime
    std::map<int, std::string> parts;  // part number -> bytes
    std::chrono::system_clock::time_point started;
  };
  struct FaultRule {
    unsigned ops;
    int remaining;
    Status status;
  };

  // Counts one call of `op` and returns the injected failure for it, if any.
  // REQUIRES: mu_ held.
  Status BeginLocked(Op op, int Counts::*counter);
  // Stores `object` under `key` with mtime = now; versioned, also as a new version. Returns
  // what the write created. REQUIRES: mu_ held.
  WriteResult StoreLocked(std::string_view key, StoredObject object);
  // Versioned: appends a delete marker to `key`'s history and removes the current object;
  // returns the marker's id. REQUIRES: mu_ held.
  std::string AddDeleteMarkerLocked(std::string_view key);
  // The stored object of version `version_id` of `key` ("" or "null" on an unversioned
  // backend: the current one); kNotFound when absent or a delete marker. REQUIRES: mu_ held.
  Result<const StoredObject*> FindVersionLocked(std::string_view key,
                                                std::string_view version_id) const;
  // kInvalidArgument when `part_size` breaks features() limits for an object of `size` bytes.
  Status CheckPartSize(uint64_t size, uint64_t part_size) const;
  // Copies bytes [offset, offset + length) of `key`, checking `etag` when not empty.
  // A non-empty `version_id` reads that version.
  Result<std::string> CopyOut(std::string_view key, std::string_view etag, uint64_t offset,
                              uint64_t length, std::string_view version_id = {}) const;
  ObjectInfo InfoLocked(const std::string& key, const StoredObject& object, bool details) const;
  std::chrono::system_clock::time_point Now() const;
  // kInvalidArgument when `spec` asks for a lock this backend cannot keep (no object_lock).
  Status CheckLock(const WriteSpec& spec) const;

  const Options options_;
  mutable std::mutex mu_;
  // The current version of every key (what List/Stat/reads see), versioned or not.
  std::map<std::string, StoredObject, std::less<>> objects_;  // GUARDED_BY(mu_)
  // Versioned only: every key's history, oldest first (the last entry is current).
  std::map<std::string, std::vector<StoredVersion>, std::less<>> versions_;  // GUARDED_BY(mu_)
  uint64_t next_version_ = 1;                                                // GUARDED_BY(mu_)
  std::vector<FaultRule> faults_;                             // GUARDED_BY(mu_)
  Counts counts_;                                             // GUARDED_BY(mu_)
  std::map<std::string, Upload, std::less<>> uploads_;        // GUARDED_BY(mu_): by upload id
  int open_writers_ = 0;                                      // GUARDED_BY(mu_)
  uint64_t next_upload_ = 1;                                  // GUARDED_BY(mu_)
};

}  // namespace ferry::storage
