// Plain data exchanged with the S3 client: credentials, object descriptions, listing pages,
// multipart parts. No behaviour here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "checksum/additional.h"
#include "s3/sse.h"

namespace ferry::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty when none
  bool anonymous() const { return access_key_id.empty(); }
};

// What CreateSession (S3 Express directory buckets, s3/express.h) handed out.
struct SessionCredentials {
  Credentials credentials;  // access key id, secret, session token
  std::chrono::system_clock::time_point expiration;
};

enum class Addressing { kPath, kVirtualHost };

// Standard headers S3 stores with an object and returns on GET/HEAD.
struct ContentHeaders {
  std::string content_type;
  std::string content_encoding;
  std::string content_language;
  std::string content_disposition;
  std::string cache_control;
  std::string expires;  // kept verbatim (HTTP-date)
};

// S3 Object Lock state of one object version: x-amz-object-lock-mode,
// x-amz-object-lock-retain-until-date and x-amz-object-lock-legal-hold on HEAD/GET replies and on
// writes (PutObject, CreateMultipartUpload, CopyObject); docs/design/object-lock.md.
struct ObjectLock {
  std::string mode;          // "GOVERNANCE" or "COMPLIANCE"; "" = no retention
  std::string retain_until;  // ISO 8601 as the store says it; "" exactly when mode is ""
  bool legal_hold = false;
  bool any() const { return !mode.empty() || legal_hold; }
  bool operator==(const ObjectLock&) const = default;
};

// The access control a write asks for: a canned ACL (x-amz-acl) and/or explicit grants
// (x-amz-grant-*, each value a comma-separated grantee list such as `id="ID"` or
// `uri="http://acs.amazonaws.com/groups/global/AllUsers"`). Empty: the store's default (private).
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

// x-amz-restore of an archived object (S3 Glacier Flexible Retrieval, Deep Archive, or an
// Intelligent-Tiering archive tier): a restore asked for, still running or done until
// `expiry` (ongoing-request="false", expiry-date="...").
struct RestoreState {
  bool requested = false;  // the header was present
  bool ongoing = false;    // ongoing-request="true": the copy is not readable yet
  std::chrono::system_clock::time_point expiry{};  // when a finished restore expires
  bool operator==(const RestoreState&) const = default;
};

// What HEAD (or GET) says about one object.
struct ObjectHead {
  uint64_t size = 0;
  std::string etag;  // unquoted
  std::chrono::system_clock::time_point last_modified;
  std::string storage_class;  // "" means STANDARD
  std::string version_id;
  bool delete_marker = false;
  ContentHeaders content;
  // User metadata without the "x-amz-meta-" prefix, names lower-cased.
  std::map<std::string, std::string> metadata;
  int tag_count = 0;  // x-amz-tagging-count
  // x-amz-mp-parts-count: parts of a multipart object (HEAD/GET with partNumber), else 0.
  int parts_count = 0;
  // Server-side encryption the reply reports: x-amz-server-side-encryption ("AES256",
  // "aws:kms", ...), or "SSE-C" when a customer key was used; "" when none was reported.
  std::string encryption;
  ObjectLock lock;  // x-amz-object-lock-* (only sent to callers allowed to read them)
  // True when the ETag of this object is not the MD5 of its bytes although it may look like
  // one (SSE-KMS and SSE-C objects on AWS).
  bool etag_not_md5() const { return encryption.starts_with("aws:kms") || encryption == "SSE-C"; }
  // x-amz-checksum-<algorithm> (with x-amz-checksum-type), sent when the request asked with
  // x-amz-checksum-mode: ENABLED and the object has one (not on range reads).
  std::optional<checksum::Declared> checksum{};
  RestoreState restore{};      // x-amz-restore
  std::string archive_status;  // x-amz-archive-status (Intelligent-Tiering archive tiers)
};

// One entry of ListObjectsV2 (keys already url-decoded when encoding-type=url was used).
struct ListEntry {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // unquoted
  std::chrono::system_clock::time_point last_modified;
  std::string storage_class;
};

struct ListRequest {
  std::string bucket;
  std::string prefix;
  std::string delimiter;
  std::string start_after;
  std::string continuation_token;
  int max_keys = 1000;
};

struct ListPage {
  std::vector<ListEntry> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;
};

// One version or delete marker from ListObjectVersions.
struct VersionEntry {
  std::string key;
  std::string version_id;
  bool is_latest = false;
  bool delete_marker = false;
  uint64_t size = 0;
  std::string etag;
  std::chrono::system_clock::time_point last_modified;
  std::string storage_class;
};

struct ListVersionsRequest {
  std::string bucket;
  std::string prefix;
  std::string key_marker;         // "" = from the start
  std::string version_id_marker;  // only with key_marker: resume after this version of it
  int max_keys = 1000;            // entries (versions and delete markers) per page
};

struct VersionPage {
  std::vector<VersionEntry> versions;  // versions and delete markers, in key then newest order
  bool truncated = false;
  std::string next_key_marker;
  std::string next_version_id_marker;
};

using Tags = std::vector<std::pair<std::string, std::string>>;

// Options for PutObject, CreateMultipartUpload and CopyObject (when replacing metadata).
struct WriteOptions {
  ContentHeaders content;
  std::map<std::string, std::string> metadata;  // without "x-amz-meta-"
  std::optional<Tags> tags;                     // sent as x-amz-tagging when set
  std::string storage_class;                    // "" = server default
  // PutObject's Content-MD5 (base64): the MD5 the body must have, e.g. the source's own MD5
  // ETag, so that the destination refuses a body corrupted on the way (BadDigest). When
  // empty, PutObject computes it from the body if `compute_md5` is true and the payload is not
  // signed (the signed SHA-256 payload hash checks the body then).
  std::string content_md5;
  bool compute_md5 = true;
  // PutObject only: sends If-None-Match: * (signed with the other headers), so that the server
  // creates the key only if it is absent; a 412 (kFailedPrecondition, never retried) means
  // it exists.
  bool if_none_match_any = false;
  // Server-side encryption asked of PutObject and CreateMultipartUpload (s3/sse.h); their
  // reply must confirm it (CheckSseConfirmed), else the write fails with kNotSupported.
  Encryption encryption;
  // Retention and legal hold of the new object (x-amz-object-lock-*; the bucket must have
  // object lock). PutObject then always sends a Content-MD5, which S3 requires with them.
  ObjectLock lock;
  // x-amz-acl and x-amz-grant-* of the new object.
  WriteAcl acl;
  // An additional checksum for the new object (x-amz-checksum-<algorithm>): PutObject sends
  // `checksum_value` (base64, the whole body's: e.g. the source's, already checked) or else
  // computes it from the body, and the store refuses a body that does not match it;
  // CreateMultipartUpload names the algorithm (x-amz-checksum-algorithm; FULL_OBJECT type for
  // CRC64NVME, which has no composite form), and every part then carries its own.
  std::optional<checksum::Algorithm> checksum_algorithm{};
  std::string checksum_value{};
  // CreateMultipartUpload only: the store is to keep one checksum of the whole object
  // (x-amz-checksum-type: FULL_OBJECT, for CRC32, CRC32C and CRC64NVME) combined from the
  // parts' instead of the composite checksum of their checksums; the completion may then name
  // the whole object's value (CompleteRequest::full_object_checksum), which the store checks.
  bool full_object_checksum = false;
};

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;  // bytes; length 0 means "to the end"
};

struct GetObjectRequest {
  std::string bucket;
  std::string key;
  ByteRange range;  // {0, 0}: the whole object
  // When not empty, sends If-Match (unquoted ETag here) so that a concurrent overwrite fails
  // with kFailedPrecondition instead of mixing versions.
  std::string if_match;
  std::string version_id;  // "" = the current version
  // The SSE-C key (32 raw bytes) the object was written with; "" when it is not SSE-C.
  std::string customer_key;
};

// What a write (CopyObject, CompleteMultipartUpload) created.
struct WrittenObject {
  std::string etag;        // unquoted
  std::string version_id;  // x-amz-version-id; "" when the bucket is not versioned
};

// What DeleteObject's reply headers say.
struct DeleteReply {
  // x-amz-version-id: the delete marker created (no version given), or the version removed.
  std::string version_id;
  bool delete_marker = false;  // x-amz-delete-marker: a marker was created or removed
};

// A bucket's versioning state (GetBucketVersioning). kOff: never enabled.
enum class BucketVersioning { kOff, kEnabled, kSuspended };

// The source of a server-side copy (CopyObject, UploadPartCopy).
struct CopySourceSpec {
  std::string bucket;
  std::string key;
  std::string version_id;  // "" = the current version
  // When not empty, the copy fails with kFailedPrecondition unless the source still has this
  // ETag (unquoted): a source overwritten meanwhile is never mixed into the copy.
  std::string if_match;
  // The SSE-C key (32 raw bytes) of the source object (x-amz-copy-source-...-customer-*);
  // "" when the source is not SSE-C encrypted.
  std::string customer_key;
};

struct CopyObjectRequest {
  CopySourceSpec source;
  std::string bucket;  // destination
  std::string key;
  // When set, metadata, content headers, tags and storage class come from it
  // (x-amz-metadata-directive: REPLACE); otherwise they are copied from the source.
  const WriteOptions* replace = nullptr;
  // With COPY: the destination's storage class ("" = the server's default, which on AWS is
  // STANDARD, not the source's: callers pass the source's class to keep it).
  std::string storage_class;
  // How the copy is encrypted at the destination (it is not inherited from the source: S3
  // writes a copy as the request says). The reply must confirm it.
  Encryption encryption;
  // With COPY: the new object's retention and legal hold (S3 does not copy the source's) and
  // ACL (S3 never copies it). With REPLACE these come from `replace`.
  ObjectLock lock;
  WriteAcl acl;
  // x-amz-checksum-algorithm: the store computes this checksum for the copy (else it keeps
  // the source's, where it has one).
  std::optional<checksum::Algorithm> checksum_algorithm{};
};

// A bucket's default retention (PutObjectLockConfiguration's Rule/DefaultRetention).
struct DefaultRetention {
  std::string mode;  // "GOVERNANCE" or "COMPLIANCE"
  int days = 0;      // > 0
};

// GetObjectLockConfiguration's answer. `enabled` false: the bucket has no object lock
// (ObjectLockConfigurationNotFoundError, or no ObjectLockEnabled element).
struct ObjectLockConfiguration {
  bool enabled = false;
  std::optional<DefaultRetention> default_retention;
};

// What CreateBucket asks for besides the bucket.
struct CreateBucketOptions {
  // x-amz-bucket-object-lock-enabled: true (the store enables versioning with it).
  bool object_lock = false;
  // x-amz-acl of the bucket ("" = private).
  std::string canned_acl;
};

struct UploadPartRequest {
  std::string bucket;
  std::string key;
  std::string upload_id;
  int part_number = 0;              // 1..10000
  std::span<const std::byte> body;  // the part's bytes; not owned
  // The upload's encryption: SSE-C parts carry the customer key (s3/sse.h); SSE-S3/SSE-KMS
  // send nothing with parts.
  Encryption encryption;
  // The upload's additional checksum algorithm (WriteOptions::checksum_algorithm at its
  // creation): the part carries its checksum, which the completion names again.
  std::optional<checksum::Algorithm> checksum_algorithm{};
};

struct UploadPartCopyRequest {
  CopySourceSpec source;
  std::string bucket;  // destination
  std::string key;
  std::string upload_id;
  int part_number = 0;
  ByteRange range;  // length 0: the whole source object
  Encryption encryption;  // the upload's (as UploadPartRequest::encryption)
  std::optional<checksum::Algorithm> checksum_algorithm{};  // the upload's
};

struct CompletedPart {
  int part_number = 0;
  std::string etag;  // unquoted
  uint64_t size = 0;
  // ListParts: the part's additional checksum (base64) where the upload has an algorithm.
  std::string checksum{};
};

// CompleteMultipartUpload with what the plain form does not say.
struct CompleteRequest {
  std::string bucket;
  std::string key;
  std::string upload_id;
  std::span<const CompletedPart> parts{};
  std::string customer_key{};  // the upload's SSE-C key; "" when it is not SSE-C
  // The upload's additional checksum algorithm: every part's checksum is named (those this
  // client did not send from ListParts).
  std::optional<checksum::Algorithm> checksum_algorithm{};
  // An upload created with WriteOptions::full_object_checksum: the whole object's checksum of
  // that algorithm (base64), sent as x-amz-checksum-<algorithm> with x-amz-checksum-type
  // FULL_OBJECT. AWS refuses a completion whose parts do not combine to it (BadDigest: kDataLoss)
  // and keeps it as the object's checksum. "" = not known: the store combines the parts' alone.
  std::string full_object_checksum{};
};

// RestoreObject: a temporary readable copy of an archived object for `days` days.
struct RestoreObjectRequest {
  std::string bucket;
  std::string key;
  std::string version_id{};  // "" = the current version
  int days = 1;
  std::string tier = "Standard";  // "Standard", "Bulk" or "Expedited"
};

enum class RestoreReply {
  kStarted,            // 202 Accepted: a restore began
  kAlreadyRestored,    // 200: a restored copy exists (its expiry was moved)
  kAlreadyInProgress,  // 409 RestoreAlreadyInProgress
};

struct UploadInfo {  // one entry of ListMultipartUploads
  std::string key;
  std::string upload_id;
  std::chrono::system_clock::time_point initiated;
};


}  // namespace ferry::s3
