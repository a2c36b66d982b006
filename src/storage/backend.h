// Backend: the only thing the engine knows about a store. Implemented by storage/s3 (one bucket
// and prefix of an S3-compatible endpoint), storage/local (a folder) and storage/memory (tests).
// Every implementation passes tests/conformance/backend_conformance_test.cc.
//
// Keys are relative to the backend's root (S3: the prefix given in the location; local: the
// folder). A key is any UTF-8 string of up to 1024 bytes; backends that cannot store a key
// (local: "../", absolute, NUL, "." or empty path segments) refuse it with kInvalidArgument.
//
// Versions (features().versions): a versioned store keeps every write of a key as a version
// with an id the store chooses. The plain methods (List, Stat, ReadAt, ReadObject) see only
// the current version; a key whose current version is a delete marker is absent to them.
// The version methods (ListVersions, StatVersion, ReadVersionAt, DeleteVersion,
// AddDeleteMarker) address versions by id. Writes report the id of the version they created
// (WriteResult). Reading a version needs no ETag check: a version never changes.
// Version-addressed operations are separate methods, not a version parameter on the existing
// ones, so that the many callers and test doubles of ReadAt/Stat stay as they are, and a
// backend without versions says kNotSupported in one place (the defaults below).
//
// Thread-safety: every method may be called from many threads at once; cursors and chunk
// writers are used by one thread at a time except ChunkWriter::WriteChunk (concurrent).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/object_info.h"

namespace ferry::storage {

struct Features {
  bool chunked_write = false;     // OpenChunkWriter works (S3 multipart, local pwrite)
  bool server_side_copy = false;  // CopyFrom works for some sources (see CanCopyFrom)
  bool tags = false;              // GetTags/PutTags work
  bool storage_class = false;     // storage classes are meaningful
  bool metadata = false;          // user metadata and content headers are stored
  bool acl = false;               // WriteSpec::acl is honoured (S3 ACLs)
  // Reads are cheap enough (a local disk) that reading an object twice beats not knowing its
  // checksum before writing it: the engine then computes the checksum in a pre-pass.
  bool cheap_reads = false;
  // Largest part count and size limits for chunked writes.
  int max_parts = 10000;
  uint64_t min_part_size = 5u << 20;  // all but the last part
  uint64_t max_part_size = 5ull << 30;
  // The largest object a single Put or server-side CopyFrom may write.
  uint64_t max_single_put = 5ull << 30;
  // Put refuses (kDataLoss) a body whose MD5 differs from WriteSpec::content_md5 (S3's
  // Content-MD5), so the engine need not hash a body whose MD5 the source already declared.
  bool verifies_content_md5 = false;
  // Keys ending in '/' (the empty "folder" objects the S3 console writes) and the empty key
  // (an object named like the location's prefix itself) can be stored as objects. True for
  // object stores; false for a local folder, where such keys can only be folders: the planner
  // skips them as sources when empty (counted in Stats::markers_skipped) and a non-empty one
  // fails to write (kInvalidArgument naming it).
  bool folder_markers = true;
  // Every write creates a new version and Delete adds a delete marker (see the header
  // comment). S3: known only after Check(), which asks GetBucketVersioning: true when the
  // bucket's versioning is Enabled (a Suspended bucket says false, though ListVersions still
  // lists the versions it kept); false before Check. Memory: when created versioned. Local:
  // never.
  bool versions = false;
  // List yields keys in ascending byte order. False for an S3 Express directory bucket, whose
  // ListObjectsV2 answers in no particular order: such a listing is never merge-joined as it
  // comes; every caller that needs order reads it through storage::ListSorted
  // (sorted_listing.h), which sorts it with bounded memory, or asks per key.
  bool sorted_listing = true;
  // The store itself starts a listing after a key (S3 start-after), so ListFrom and
  // FirstKeyAfter cost what they skip nothing of. False (directory buckets): ListFrom lists
  // from the start and skips on the client, and FirstKeyAfter of an unsorted listing reads it
  // whole; callers that would probe often (scan splits) do not probe such a source.
  bool start_after = true;
  // Put honours WriteSpec::if_absent: a create-only write that fails with kAlreadyExists when
  // the key exists, atomically (of several creators of one key exactly one succeeds). Memory
  // and local: true. S3: true (sends If-None-Match: *; RGW 16 honours it) except directory
  // buckets, and false once LearnVersions found the bucket versioned (RGW 16.2 ignores the
  // header there); a store that answers 501 (OpenStack Swift's s3api) fails such a Put with
  // kNotSupported, and one that ignores the header cannot be told from here: callers that
  // depend on it probe the store once (transport::ProbeCreateOnly).
  bool put_if_absent = false;
};

// What a write (Put, ChunkWriter::Commit, CopyFrom) created.
struct WriteResult {
  std::string etag;        // unquoted; "" where the store has none (local) or it is opaque
  std::string version_id;  // the new version; "" when the store keeps no versions
};

// Streams ObjectInfo in ascending byte order of key (version listings: then newest first), or
// in the store's order where the backend's features().sorted_listing is false.
// One thread at a time.
class ListingCursor {
 public:
  virtual ~ListingCursor() = default;
  // The next object, or nullptr at the end. The pointer stays valid until the next call.
  virtual Result<const ObjectInfo*> Next() = 0;
};

// What a write records besides the bytes.
struct WriteSpec {
  uint64_t size = 0;
  ContentHeaders content;
  std::map<std::string, std::string> metadata;  // user metadata incl. ferry-* entries
  std::optional<Tags> tags;                     // nullopt = none
  std::string storage_class;                    // "" = default
  std::chrono::system_clock::time_point mtime{};  // local: set as the file's mtime when != epoch
  // Put only: base64 MD5 the body must have ("" = none given). Backends whose features say
  // verifies_content_md5 refuse a body that does not match; others ignore it.
  std::string content_md5;
  // Put only: create the key only if it holds no object (a versioned store: no current
  // version); otherwise fail with kAlreadyExists and change nothing. Atomic: of concurrent
  // creators exactly one succeeds. Only where features().put_if_absent (else kNotSupported);
  // never retried on a refusal. Chunked writes do not take it (kNotSupported).
  bool if_absent = false;
  // The write may return before it is durable: its caller calls Backend::Sync before it records
  // the object done anywhere (a journal, a job's outcome, a run's summary). Stores whose write
  // is durable when it returns ignore it; a local folder then skips the per-file flushes and
  // makes the batch durable at once in Sync (the temporary file and rename stay: readers never
  // see a half-written file). False: durable on return, as ever.
  bool defer_durability = false;
  // Retention and legal hold of the new object (S3 Object Lock; the bucket must have it, see
  // Backend::HasObjectLock). Ignored by stores without object lock.
  ObjectLock lock{};
  // ACL of the new object (S3). Ignored by stores without ACLs.
  WriteAcl acl{};
  // An additional checksum the store is to keep with the object and check the bytes against
  // (S3 x-amz-checksum-*; ignored elsewhere). `checksum_value`: the whole object's, when
  // known (a source's, checked); else the store's client computes it (Put) or sends each
  // part's (chunked writes).
  std::optional<checksum::Algorithm> checksum_algorithm{};
  std::string checksum_value{};
};

// A restore of an archived object (Backend::RequestRestore).
struct RestoreSpec {
  int days = 1;                   // how long the restored copy stays readable
  std::string tier = "Standard";  // S3: Standard, Bulk or Expedited
};

enum class RestoreOutcome {
  kStarted,        // asked now
  kInProgress,     // asked before, still running
  kAlreadyRestored,  // readable (the restored copy's life was extended)
};

// One chunked (multipart) write. Parts are numbered from 1; every part but the last has the
// same size (`part_size` given at open). WriteChunk may be called concurrently for different
// parts and in any order. Exactly one of Commit or Abort ends the writer; Abort may also follow
// a failed Commit. A writer destroyed without Commit aborts.
class Backend;

// One part of an unfinished upload as the store reports it.
struct StoredPart {
  int part_number = 0;
  std::string etag;  // unquoted; "" where the store has none (local)
  uint64_t size = 0;
};

class ChunkWriter {
 public:
  virtual ~ChunkWriter() = default;
  // An id that identifies the write on the store (S3 upload id; local temp path).
  virtual const std::string& upload_id() const = 0;
  virtual Status WriteChunk(int part_number, uint64_t offset, std::span<const std::byte> data,
                            std::stop_token stop) = 0;
  // The MD5 (32 hex digits) the store computed of the bytes it received for part
  // `part_number` in this writer's last successful WriteChunk of it, where the store reports
  // one and the store checked that it received what was sent (S3: the UploadPart ETag of a
  // signed payload or of one sent with Content-MD5, not SSE-KMS/SSE-C). "" otherwise (local,
  // memory, parts not written by this writer): the caller hashes the bytes itself.
  // Call after that WriteChunk returned, from the same thread.
  virtual std::string WrittenPartMd5(int part_number) const {
    (void)part_number;
    return {};
  }
  // Server-side copy of [offset, offset+length) of `object` on `source` into this part; only
  // when the owning backend's CanCopyFrom(source). Default: kNotSupported.
  virtual Status CopyChunk(int part_number, const Backend& source, const ObjectInfo& object,
                           uint64_t offset, uint64_t length, std::stop_token stop) {
    (void)part_number, (void)source, (void)object, (void)offset, (void)length, (void)stop;
    return Status::NotSupported("server-side part copy");
  }
  // Metadata known only once every part was read (ferry's full-object checksum of a source that
  // did not declare one), to be recorded by Commit where that costs no second write: local
  // files (an xattr), memory. S3 keeps only the CRC32C, as the store's own full-object checksum
  // where the store keeps one (s3::S3Options::full_object_checksums: AWS); elsewhere (RGW) it
  // is not recorded: the object is never copied onto itself for it (docs/design/s3-client.md).
  // Default: ignored. Call before Commit.
  virtual void AddMetadataOnCommit(std::map<std::string, std::string> extra) { (void)extra; }
  // Returns the final ETag (S3; "" for local) and the new version id (versioned stores).
  // Tags the store cannot hold (it refused them as kNotSupported after the bytes were
  // committed) do not fail Commit: tags_not_kept() then says so.
  virtual Result<WriteResult> Commit(std::stop_token stop) = 0;
  virtual bool tags_not_kept() const { return false; }
  virtual Status Abort() = 0;

  // --- Resume after a crash (see Backend::ResumeChunkWriter) ---
  // What the store holds of this upload: S3 ListParts (the truth), in ascending part order.
  // nullopt when the store cannot tell (local: the caller's checkpoints are the truth).
  virtual Result<std::optional<std::vector<StoredPart>>> ListStoredParts(std::stop_token stop) = 0;
  // Counts a part already on the store (from ListStoredParts or a checkpoint) as written, so
  // that Commit includes it without sending it again.
  virtual void AdoptPart(const StoredPart& part) = 0;
  // AdoptPart for a part whose CRC32C was checkpointed when it was written. Returns false, and
  // adopts nothing, when the store can tell that the part no longer holds those bytes (local:
  // the range is read back; after a power loss it may hold zeros): the caller sends it again.
  // Default: AdoptPart, then true (S3's ListParts is the truth).
  virtual bool AdoptPartChecked(const StoredPart& part, uint32_t crc32c) {
    (void)crc32c;
    AdoptPart(part);
    return true;
  }
  // Ends this writer without Commit or Abort: the upload stays on the store for a later
  // ResumeChunkWriter (a transient failure of a run that will be retried). The destructor
  // then does nothing.
  virtual void Detach() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual const Features& features() const = 0;
  // "s3://bucket/prefix", "/abs/folder": for messages. Never contains secrets.
  virtual std::string Describe() const = 0;

  // Checks that the root exists and is reachable with the given credentials, so that a bad
  // bucket or key fails once with one clear error instead of once per object.
  virtual Status Check(std::stop_token stop) = 0;

  // Makes every write that returned OK on this backend before the call durable (it survives a
  // crash or power loss), including those made with WriteSpec::defer_durability. The contract
  // of the engine: writes, then Sync, then the record that says the objects are done; a crash
  // before Sync returned OK leaves them not recorded (a resumed run copies them again). An
  // error means some of those writes may be lost: record none of them done. Thread-safe; writes
  // that run concurrently with Sync may or may not be covered. Default OK: stores whose answer
  // to a write means durable (S3, Azure, memory).
  virtual Status Sync(std::stop_token stop) {
    (void)stop;
    return Status::Ok();
  }
  // Asks the store whether it keeps versions and sets features().versions accordingly. Until
  // then features().versions is what the backend knows without asking (S3: false; a memory
  // backend: how it was made). Callers of the version methods that need to know (replication,
  // delete markers) call it once, after Check and before sharing the backend between threads.
  // Not part of Check: most runs never use versions, and the question costs a request.
  // Errors: only a store that cannot be reached; a store that refuses the question (403, 501)
  // counts as unversioned.
  virtual Status LearnVersions(std::stop_token stop) {
    (void)stop;
    return Status::Ok();
  }

  // All objects whose key starts with `prefix`, in ascending byte order of key when
  // features().sorted_listing, else in the store's order (each key once).
  virtual Result<std::unique_ptr<ListingCursor>> List(std::string_view prefix) = 0;
  // Like List, but only keys strictly greater than `start_after` (a scan resuming at a key),
  // in the same order as List. The default skips on the client; S3 asks the server
  // (start-after) when features().start_after.
  virtual Result<std::unique_ptr<ListingCursor>> ListFrom(std::string_view prefix,
                                                          std::string_view start_after);
  // The smallest key strictly greater than `start_after`, or nullopt when there is none: a
  // probe that splits a listing into ranges. The default takes the first entry of ListFrom
  // (sorted listings) or the smallest of all its entries (unsorted ones: a whole listing); S3
  // asks for one key (max-keys=1) where it can.
  virtual Result<std::optional<std::string>> FirstKeyAfter(std::string_view start_after);
  // The size of part 1 of a multipart object whose ETag is "<md5>-N", where the store can
  // tell (AWS: HEAD with partNumber=1); nullopt where it cannot (RGW, local). The engine
  // reproduces the source's part layout so that the multipart ETag proves the bytes.
  virtual Result<std::optional<uint64_t>> FirstPartSize(const ObjectInfo& object,
                                                        std::stop_token stop) {
    (void)object, (void)stop;
    return std::optional<uint64_t>();
  }
  // Full details (content headers, metadata; tags when `with_tags`). kNotFound when absent.
  virtual Result<ObjectInfo> Stat(std::string_view key, bool with_tags, std::stop_token stop) = 0;

  // Reads exactly out.size() bytes at `offset`. When `etag` is not empty the read fails with
  // kFailedPrecondition if the object changed (S3: If-Match). A short object is kDataLoss.
  virtual Status ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                        std::string_view etag, std::stop_token stop) = 0;

  // Reads a whole object (out.size() must equal its size) and returns its details as they
  // were when read (has_details = true; tags fetched when the object has any). S3 does this in
  // one GET; the default is Stat + ReadAt. `etag` as for ReadAt.
  virtual Result<ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                        std::string_view etag, std::stop_token stop);

  // Writes a whole object in one request. Returns the new ETag ("" where none) and version id.
  virtual Result<WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                                  const WriteSpec& spec, std::stop_token stop) = 0;

  // Only when features().chunked_write; otherwise kNotSupported.
  virtual Result<std::unique_ptr<ChunkWriter>> OpenChunkWriter(std::string_view key,
                                                               const WriteSpec& spec,
                                                               uint64_t part_size,
                                                               std::stop_token stop) = 0;

  // Reopens the unfinished chunked write `upload_id` (from ChunkWriter::upload_id() of an
  // earlier process) of `key`, with the same spec and part size it was opened with.
  // kNotFound when the store no longer has it (aborted or expired): start a new one.
  // Only when features().chunked_write; otherwise kNotSupported.
  virtual Result<std::unique_ptr<ChunkWriter>> ResumeChunkWriter(std::string_view key,
                                                                 std::string_view upload_id,
                                                                 const WriteSpec& spec,
                                                                 uint64_t part_size,
                                                                 std::stop_token stop) = 0;
  // Uploads under `prefix` that were started and never finished (S3: ListMultipartUploads;
  // local: ferry's temp files), with their start time, for cleanup of abandoned work.
  struct PendingUpload {
    std::string key;
    std::string upload_id;
    std::chrono::system_clock::time_point started;
    // The store's own naming proves ferry started it (local: ferry's temporary files, also
    // those of whole-object writes, which no journal records). S3 uploads cannot tell.
    bool ferry_named = false;
  };
  virtual Result<std::vector<PendingUpload>> ListPendingUploads(std::string_view prefix,
                                                                std::stop_token stop) = 0;
  // Aborts one pending upload (absent is not an error).
  virtual Status AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) = 0;

  // True when CopyFrom(source, ...) can copy on the server (same endpoint and credentials).
  virtual bool CanCopyFrom(const Backend& source) const {
    (void)source;
    return false;
  }
  // Server-side copy of `object` (at most features().max_single_put bytes) from `source` to
  // `key` in one request. Metadata, content headers and tags are kept; `storage_class` (if not
  // empty) overrides. Larger objects: OpenChunkWriter + ChunkWriter::CopyChunk, driven by the
  // engine. A non-empty object.version_id copies that version (where the source has
  // versions). Returns the new ETag and version id.
  virtual Result<WriteResult> CopyFrom(const Backend& source, const ObjectInfo& object,
                                       std::string_view key, std::string_view storage_class,
                                       std::stop_token stop) {
    (void)source, (void)object, (void)key, (void)storage_class, (void)stop;
    return Status::NotSupported("server-side copy not supported by " + Describe());
  }

  // Like CopyFrom, but what the new object records (user metadata, content headers, tags,
  // storage class) comes from `spec`, not from the source (S3: metadata directive REPLACE);
  // `spec.size` and `spec.content_md5` are ignored. Same size limit and version rule as
  // CopyFrom. Default: kNotSupported (the caller then reads and writes the bytes).
  virtual Result<WriteResult> CopyFromWithSpec(const Backend& source, const ObjectInfo& object,
                                               std::string_view key, const WriteSpec& spec,
                                               std::stop_token stop) {
    (void)source, (void)object, (void)key, (void)spec, (void)stop;
    return Status::NotSupported("server-side copy with new metadata not supported by " +
                                Describe());
  }

  // kNotFound is not an error for Delete: deleting an absent key succeeds. On a versioned
  // store Delete removes nothing: it adds a delete marker, as AddDeleteMarker does.
  virtual Status Delete(std::string_view key, std::stop_token stop) = 0;
  // Deletes many keys; backends batch (S3 DeleteObjects, 1000 a request).
  virtual Status DeleteMany(std::span<const std::string> keys, std::stop_token stop);
  // After `deleted` keys were deleted: removes the folders they left empty, deepest first, up
  // to (never) the location's root, whatever this backend's own policy for its deletes (a
  // durable move's --delete-empty-src-dirs, on a source opened to keep its folders). Only a
  // folder has folders: the default does nothing.
  virtual void RemoveEmptiedFolders(std::span<const std::string> deleted) { (void)deleted; }

  // --- Versions (see the header comment). The defaults say kNotSupported. ---

  // Every version and delete marker of the keys under `prefix`, in S3's order: keys
  // ascending, within a key newest first. Entries carry key, version_id, is_latest,
  // delete_marker, and for versions size, etag, mtime and storage class (has_details false).
  // Resumes like S3's key-marker / version-id-marker: with `key_marker` alone it starts after
  // every version of that key; with both, after that version of `key_marker` (a version
  // marker no longer there: memory resumes at the next key; an S3 server may refuse it). A store
  // that supports version listings but keeps no versions (an unversioned S3 bucket, an unversioned
  // memory backend) lists each current object once as version "null". Local folders: kNotSupported.
  virtual Result<std::unique_ptr<ListingCursor>> ListVersions(std::string_view prefix,
                                                              std::string_view key_marker,
                                                              std::string_view version_marker);
  // Like Stat, for one version (is_latest is not filled). kNotFound when there is no such
  // version, and for a delete marker's id (memory, RGW; AWS answers 405: kInvalidArgument).
  virtual Result<ObjectInfo> StatVersion(std::string_view key, std::string_view version_id,
                                         bool with_tags, std::stop_token stop);
  // Like ReadAt, for one version: exactly out.size() bytes at `offset`; kNotFound when there
  // is no such version; kDataLoss past its end.
  virtual Status ReadVersionAt(std::string_view key, std::string_view version_id, uint64_t offset,
                               std::span<std::byte> out, std::stop_token stop);
  // ReadVersionAt that also returns the version's details as the read's reply describes them
  // (size, ETag, content headers, metadata, storage class; has_details), so that a reader
  // need not ask for them first: S3 takes them from the GET's headers (a ranged GET carries
  // the same ones), and reads the tags (GetObjectTagging) only when `with_tags` and the reply
  // counts some. `out` may be empty with offset 0 (an empty version: one whole-object GET).
  // Errors as ReadVersionAt. Default: StatVersion, then ReadVersionAt.
  virtual Result<ObjectInfo> ReadVersionWithDetails(std::string_view key,
                                                    std::string_view version_id, uint64_t offset,
                                                    std::span<std::byte> out, bool with_tags,
                                                    std::stop_token stop);
  // Removes one version (or delete marker) for good. When it was the current one, the newest
  // remaining entry becomes current (deleting a delete marker brings the key back).
  // An absent version is not an error.
  virtual Status DeleteVersion(std::string_view key, std::string_view version_id,
                               std::stop_token stop);
  // Delete on a versioned store, returning the new delete marker's id (WriteResult::etag "").
  // kFailedPrecondition when !features().versions (a plain delete would remove the object).
  virtual Result<WriteResult> AddDeleteMarker(std::string_view key, std::stop_token stop);

  // The store's clock as its reply to a cheap request says it (S3: the Date of a HEAD of the
  // bucket, whole seconds, rounded down; memory: its Clock; local: the system clock), to be
  // compared with the mtimes (Last-Modified) the same store gives objects: leases that must
  // not trust the clocks of several clients against each other. Default: kNotSupported.
  virtual Result<std::chrono::system_clock::time_point> ServerTime(std::stop_token stop) {
    (void)stop;
    return Status::NotSupported("server time not known for " + Describe());
  }

  // Asks the store to make an archived object (ObjectInfo::archive) readable for a while (S3
  // RestoreObject of its version where it has one). Stores without archives: kNotSupported.
  virtual Result<RestoreOutcome> RequestRestore(const ObjectInfo& object, const RestoreSpec& spec,
                                                std::stop_token stop) {
    (void)object, (void)spec, (void)stop;
    return Status::NotSupported("restoring archived objects");
  }

  // The object's ACL as grants a write can carry (S3 GetObjectAcl of its version where it has
  // one), for --preserve-acl. Stores without ACLs: kNotSupported.
  virtual Result<WriteAcl> ReadAcl(const ObjectInfo& object, std::stop_token stop) {
    (void)object, (void)stop;
    return Status::NotSupported("reading ACLs");
  }

  // Whether the store's bucket has S3 Object Lock enabled (S3: GetObjectLockConfiguration),
  // i.e. whether writes may carry WriteSpec::lock. Default: false (no object lock).
  virtual Result<bool> HasObjectLock(std::stop_token stop) {
    (void)stop;
    return false;
  }

  // Tags (features().tags). Stat(with_tags) also returns them.
  virtual Status PutTags(std::string_view key, const Tags& tags, std::stop_token stop) {
    (void)key, (void)tags, (void)stop;
    return Status::NotSupported("tags not supported by " + Describe());
  }
  // Replaces the tags of one version (S3 PutObjectTagging with versionId); kNotFound when there
  // is no such version. An empty or "null" id: PutTags. Default: kNotSupported for real ids.
  virtual Status PutVersionTags(std::string_view key, std::string_view version_id,
                                const Tags& tags, std::stop_token stop) {
    if (version_id.empty() || version_id == "null") return PutTags(key, tags, stop);
    return Status::NotSupported("version tags not supported by " + Describe());
  }
};

// The smallest key `cursor` yields (reads it to its end); nullopt when it yields none. What
// FirstKeyAfter answers for a listing in no particular order.
Result<std::optional<std::string>> SmallestKey(ListingCursor& cursor);

}  // namespace ferry::storage
