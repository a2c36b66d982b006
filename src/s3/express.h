// S3 Express One Zone directory buckets: their naming, their zonal endpoints, and the session
// credentials that authorize requests to them.
//
// A directory bucket is named "BASE--ZONEID--x-s3" (e.g. "cache--usw2-az1--x-s3") and served
// by a zonal endpoint, virtual-hosted only: https://BUCKET.s3express-ZONEID.REGION.amazonaws.com.
// Requests to it are signed for the service "s3express". Object requests carry short-lived
// session credentials that CreateSession (GET /?session on the bucket, signed with the
// account's keys) hands out, about five minutes at a time: signed with the session's keys, the
// session token in x-amz-s3session-token (not x-amz-security-token). CreateSession itself,
// CopyObject and HeadBucket are signed with the account's keys.
//
// A session has a mode, asked for in CreateSession's x-amz-create-session-mode: ReadOnly
// sessions authorize only GetObject, HeadObject, ListObjectsV2, GetObjectAttributes, ListParts
// and ListMultipartUploads; ReadWrite sessions everything. The client asks for ReadOnly for
// those reads and ReadWrite for the rest, so a bucket that is only read (a source) never asks
// for write access; a read to a bucket that already has a ReadWrite session uses it.
//
// ExpressSessions keeps one session per bucket and mode for an S3Client (s3/client.cc uses it
// for every request to a directory bucket): created on first use, created again once 80% of
// its life has passed (a 5-minute session at 4 minutes: a minute before it expires), and
// dropped when the store answers that it expired (the client then retries that request once
// with a new one).
//
// Directory buckets do not take Content-MD5: writes carry x-amz-checksum-crc32c instead (the
// base64 of the big-endian CRC32C of the body), which the store verifies and echoes; a
// multipart upload declares the algorithm when created, and its completion names each part's
// CRC32C (PartChecksums remembers those the client sent).
//
// Thread-safety: ExpressSessions and PartChecksums are thread-safe; concurrent requests for a
// bucket whose session is missing or due wait for one CreateSession instead of each sending
// one. The functions are pure.
#pragma once

#include <chrono>
#include <functional>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <optional>
#include <string_view>
#include <utility>

#include "base/clock.h"
#include "base/status.h"
#include "s3/types.h"

namespace ferry::s3 {

inline constexpr std::string_view kDirectoryBucketSuffix = "--x-s3";
// The signing service of every request to a directory bucket's zonal endpoint.
inline constexpr std::string_view kExpressService = "s3express";
// The header that carries a session token.
inline constexpr std::string_view kSessionTokenHeader = "x-amz-s3session-token";

// CreateSession's header naming the session mode.
inline constexpr std::string_view kSessionModeHeader = "x-amz-create-session-mode";
// The algorithm header of CreateMultipartUpload (the values travel as s3/checksums.h writes
// them: a directory bucket's writes carry x-amz-checksum-crc32c).
inline constexpr std::string_view kChecksumAlgorithmHeader = "x-amz-checksum-algorithm";
// COMPOSITE or FULL_OBJECT: how an upload's parts' checksums make the object's.
inline constexpr std::string_view kChecksumTypeHeader = "x-amz-checksum-type";

enum class SessionMode { kReadOnly, kReadWrite };
// "ReadOnly" | "ReadWrite" (the header's values).
std::string_view SessionModeName(SessionMode mode);
// The mode an operation (s3/client.cc's operation names) needs: kReadOnly for GetObject,
// HeadObject, ListObjectsV2, GetObjectAttributes, ListParts and ListMultipartUploads.
SessionMode SessionModeFor(std::string_view operation);

// True when `bucket` ends with "--x-s3" (AWS refuses that suffix for other buckets).
bool HasDirectoryBucketSuffix(std::string_view bucket);
// The zone id of "BASE--ZONEID--x-s3" ("usw2-az1"); "" when `bucket` is not of that shape.
std::string DirectoryBucketZone(std::string_view bucket);
// "https://s3express-ZONEID.REGION.amazonaws.com": the endpoint a client addresses the bucket
// through as a virtual host (BUCKET.s3express-ZONEID.REGION.amazonaws.com).
std::string ZonalEndpoint(std::string_view zone, std::string_view region);

class ExpressSessions {
 public:
  // Sends CreateSession for a bucket, asking for `mode`.
  using CreateFn =
      std::function<Result<SessionCredentials>(std::string_view bucket, SessionMode mode)>;

  // `clock` (not owned) tells when a session is due; must outlive this.
  explicit ExpressSessions(Clock& clock) : clock_(clock) {}

  // The session credentials for `bucket` good for `mode`: for kReadOnly a ReadWrite session
  // of the bucket that is not due yet, if there is one; else the cached session of that mode
  // while it is not due, else a new one from `create` (called by one thread at a time per
  // bucket and mode; the others wait and use its result). Errors: those of `create` (nothing
  // is cached then).
  Result<Credentials> Get(std::string_view bucket, SessionMode mode, const CreateFn& create);
  // Forgets `bucket`'s session (of either mode) whose token is still `token` (the store said
  // it expired), so that the next Get creates one; a session created meanwhile is kept.
  void Invalidate(std::string_view bucket, std::string_view token);
  // Sessions created so far (for tests and logs).
  uint64_t created() const;

 private:
  struct Entry {
    std::mutex mu;  // held while a CreateSession for the bucket and mode is in flight
    bool valid = false;
    Credentials credentials;
    std::chrono::system_clock::time_point refresh_at;  // GUARDED_BY(mu)
  };
  std::shared_ptr<Entry> EntryFor(std::string_view bucket, SessionMode mode);

  Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, SessionMode>, std::shared_ptr<Entry>>
      entries_;            // GUARDED_BY(mu_)
  uint64_t created_ = 0;  // GUARDED_BY(mu_)
};

// The CRC32C checksums of the parts a client uploaded to directory buckets, per upload, for
// CompleteMultipartUpload (which must name them). Parts sent by another process (a resumed
// upload) are not here: the client asks ListParts for them. At most kMaxParts are kept: the
// uploads that neither completed nor aborted here (kept for a resume elsewhere, abandoned) must
// not pile up in a process that runs for months; past the bound the oldest upload's are
// dropped, and its completion asks ListParts for them.
class PartChecksums {
 public:
  static constexpr size_t kMaxParts = 100000;

  void Put(std::string_view upload_id, int part_number, std::string checksum);
  std::optional<std::string> Get(std::string_view upload_id, int part_number) const;
  // Drops an upload's parts (completed or aborted).
  void Forget(std::string_view upload_id);
  size_t size() const;

 private:
  void ForgetLocked(std::string_view upload_id);

  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::string, std::less<>> parts_;  // GUARDED_BY(mu_)
  // Uploads in the order their first part came (some may be forgotten since).
  std::deque<std::string> order_;  // GUARDED_BY(mu_)
};

// When a session received at `now` that expires at `expiration` is to be replaced: after 80%
// of its life. A session that looks expired already (clocks apart) is used for a minute at
// most, or until the store refuses it. Pure.
std::chrono::system_clock::time_point SessionRefreshTime(
    std::chrono::system_clock::time_point now, std::chrono::system_clock::time_point expiration);

}  // namespace ferry::s3
