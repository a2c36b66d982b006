// ObjectInfo: what the engine knows about one object on one side (an S3 object or a file in a
// local folder). Listings fill the cheap fields; Stat (HEAD) fills the details too.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checksum/additional.h"

namespace ferry::storage {

using Tags = std::vector<std::pair<std::string, std::string>>;

// Metadata ferry itself records in x-amz-meta-* of every object it writes.
inline constexpr const char* kMetaCrc32c = "ferry-crc32c";  // full-object CRC32C, 8 hex digits
inline constexpr const char* kMetaMtime = "ferry-mtime";    // source mtime, unix ns, decimal

struct ContentHeaders {
  std::string content_type;
  std::string content_encoding;
  std::string content_language;
  std::string content_disposition;
  std::string cache_control;
  std::string expires;
  bool operator==(const ContentHeaders&) const = default;
};

// S3 Object Lock state of one object version (docs/design/object-lock.md): a retention (mode
// and the time until which the version cannot be deleted or overwritten) and a legal hold.
// Stores without object lock (local folders, memory) never fill it and ignore it on writes.
struct ObjectLock {
  std::string mode;  // "GOVERNANCE" or "COMPLIANCE"; "" = no retention
  std::chrono::system_clock::time_point retain_until{};  // meaningful only with a mode
  bool legal_hold = false;
  bool any() const { return !mode.empty() || legal_hold; }
  // Whether the version cannot be deleted at `now` (a retention not yet over, or a legal hold).
  bool locked_at(std::chrono::system_clock::time_point now) const {
    return legal_hold || (!mode.empty() && retain_until > now);
  }
  bool operator==(const ObjectLock&) const = default;
};

// The access control a write asks for (S3 canned ACL and x-amz-grant-* grantee lists; parsed
// and checked by storage/acl.h). Empty: the store's default (private). Ignored by stores
// without ACLs (local, memory).
struct WriteAcl {
  std::string canned;
  std::string grant_read;
  std::string grant_read_acp;
  std::string grant_write_acp;
  std::string grant_full_control;
  bool empty() const {
    return canned.empty() && grant_read.empty() && grant_read_acp.empty() &&
           grant_write_acp.empty() && grant_full_control.empty();
  }
  bool operator==(const WriteAcl&) const = default;
};

// Whether an object's bytes can be read now: S3 archive classes (GLACIER: Flexible Retrieval,
// DEEP_ARCHIVE) and Intelligent-Tiering's archive tiers hold objects that must first be
// restored (RestoreObject) into a temporary readable copy. GLACIER_IR is readable.
struct ArchiveState {
  bool archived = false;           // in an archive class or tier (HEAD; or the listed class)
  bool restore_requested = false;  // x-amz-restore present
  bool restore_ongoing = false;    // the restore has not finished
  std::chrono::system_clock::time_point restore_expiry{};  // a finished restore's end
  bool readable() const { return !archived || (restore_requested && !restore_ongoing); }
  bool operator==(const ArchiveState&) const = default;
};

// True for the storage classes whose objects cannot be read before a restore.
bool IsArchiveClass(std::string_view storage_class);

struct ObjectInfo {
  std::string key;  // relative to the backend's root prefix
  uint64_t size = 0;
  // Unquoted. For S3: MD5 hex for single-part uploads, "<hex>-N" for multipart, "" if unknown.
  std::string etag;
  std::chrono::system_clock::time_point mtime;  // S3 LastModified, or the file's mtime
  std::string storage_class;                    // "" = STANDARD / not applicable
  // The version this entry describes: filled by version listings and version-addressed
  // calls (and by S3's HEAD/GET when the bucket is versioned); "" when unknown or unversioned.
  std::string version_id;
  // Version listings only: this entry is a delete marker (no bytes), and/or the key's current
  // version. Plain listings never yield delete markers.
  bool delete_marker = false;
  bool is_latest = false;
  // The ETag is not a digest of the bytes even if it looks like an MD5 (SSE-KMS, SSE-C).
  bool etag_opaque = false;
  // Not "": the listing found this entry but could not read it (local: a dangling symbolic
  // link, a failed stat, a folder that cannot be opened: then the key ends in '/'); the reason.
  // Such an entry is never skipped or deleted: the planner hands it on as a copy, which fails,
  // so the run reports it and deletes nothing.
  std::string unreadable;
  // A folder the listing did not enter (local: a symbolic link to a folder, never followed):
  // the key ends in '/', its keys are unknown, neither listed nor absent. Nothing is copied
  // for it, and nothing under it is deleted or taken for deleted (planner, backup).
  bool not_followed = false;

  // Details: valid only when has_details (filled by Stat, or by List on backends where they
  // are free, such as the local folder for mtime).
  bool has_details = false;
  ContentHeaders content;
  std::map<std::string, std::string> metadata;  // user metadata, names lower-case, no prefix
  std::optional<Tags> tags;                     // nullopt = not fetched
  ObjectLock lock;  // S3 HEAD/GET: the version's retention and legal hold
  // S3 HEAD/GET: the additional checksum the object declares (x-amz-checksum-*).
  std::optional<checksum::Declared> checksum{};
  // The object's own ACL where it was read (Backend::ReadAcl, --preserve-acl); nullopt: not read.
  std::optional<WriteAcl> acl{};
  // S3 HEAD: archived and restore state (listings fill `archived` from the class only).
  ArchiveState archive{};

  // ferry's own checksum from metadata, if recorded.
  std::optional<uint32_t> crc32c() const;
  // The modification time of the original source, as recorded by ferry (x-amz-meta-ferry-mtime)
  // when present, else `mtime`.
  std::chrono::system_clock::time_point source_mtime() const;
  // True when the ETag is a plain MD5 of the content (32 hex digits, no "-N" suffix, not
  // etag_opaque).
  bool etag_is_md5() const;
};

}  // namespace ferry::storage
