// S3Client: one method per S3 operation, each implemented in s3/ops/<operation>.cc as
//   build the request (pure) -> sign (SigV4) -> send through HttpTransport under the retry
//   policy -> parse the reply (pure).
//
// Errors are mapped once (s3/errors.cc) from HTTP status + the XML <Code>:
//   404 / NoSuchKey / NoSuchBucket / NoSuchUpload -> kNotFound (message names the bucket/key)
//   403 / AccessDenied / SignatureDoesNotMatch / InvalidAccessKeyId -> kPermissionDenied
//   412 PreconditionFailed -> kFailedPrecondition;  400 and other 4xx -> kInvalidArgument
//   500, 502, 503, 504, 429, SlowDown, RequestTimeout, InternalError, network faults
//     -> kUnavailable
//   409 BucketAlreadyExists / BucketAlreadyOwnedByYou -> kAlreadyExists; 501 -> kNotSupported
//   (the full table is in s3/errors.h)
// Every attempt is counted in S3Options::metrics: requests by operation and HTTP status, their
// latency by operation, retries, and throttling replies (503 SlowDown, 429); and, for what a run
// cost (docs/design/cost.md), every request answered by the store by its op class
// (ferry_requests_total{remote,op}, RequestOpClass) and the reply bytes read out of the store
// (ferry_bytes_out_total{remote}), under S3Options::metrics_remote.
// kUnavailable replies are retried inside the client with jittered exponential backoff up to
// `retry.max_attempts`; only the final failure is returned. Messages never contain secrets.
//
// Thread-safety: all methods may be called concurrently. Bodies passed as spans must stay valid
// for the duration of the call.
#pragma once


#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "http/transport.h"
#include "obs/metrics.h"
#include "retry/policy.h"
#include "s3/express.h"
#include "s3/topics.h"
#include "s3/types.h"

namespace ferry::s3 {

// Where a client's requests get the credentials they are signed with: fetched for every
// attempt, so that a provider of temporary credentials (credentials/refreshing.h) can hand out
// new ones before the old expire. Implementations are thread-safe and never log a secret.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<Credentials> Get() = 0;
  // The store refused `used` as expired or unknown (ExpiredToken, InvalidToken,
  // TokenRefreshRequired; InvalidAccessKeyId for temporary credentials) although the provider
  // still held them for valid: the next Get fetches new ones. The client asks this at most
  // once per request, and sends the request again. Default: nothing (fixed credentials).
  virtual void Expired(const Credentials& used) { (void)used; }
};

// Fixed credentials (from the environment, a profile or a remote definition).
class StaticCredentials : public CredentialsProvider {
 public:
  explicit StaticCredentials(Credentials c) : creds_(std::move(c)) {}
  Result<Credentials> Get() override { return creds_; }

 private:
  Credentials creds_;
};

struct S3Options {
  // scheme://host[:port], no trailing slash. Example: "http://127.0.0.1:7480".
  std::string endpoint;
  std::string region = "us-east-1";
  Addressing addressing = Addressing::kPath;
  retry::Policy retry;
  // Send x-amz-content-sha256: UNSIGNED-PAYLOAD instead of hashing bodies. Honoured only for
  // https endpoints; over http the payload is always signed.
  bool unsigned_payload_over_https = true;
  // S3 Express directory buckets (s3/express.h): nullopt treats buckets named "*--x-s3" as
  // directory buckets; true every bucket of this client; false none. Requests to a directory
  // bucket are signed for "s3express", always virtual-hosted, and (but CreateSession,
  // CopyObject and HeadBucket) authorized by the bucket's session.
  std::optional<bool> directory_buckets;
  // How every request of this client checks the endpoint's TLS certificate (a remote's
  // ca_bundle, insecure_skip_verify, and the hint of a refusal); nullopt: the transport's own.
  std::optional<http::TlsSettings> tls;
  // Requester-pays buckets: every request carries x-amz-request-payer: requester (signed), the
  // requester's agreement to pay for the request and the bytes.
  bool requester_pays = false;
  // Old S3-compatible stores (a remote's `signature = "v2"`): requests signed with Signature
  // Version 2 (s3/sigv2.h) instead of 4. Not for directory buckets.
  bool signature_v2 = false;
  // Stores without ListObjectsV2: ListObjectsV2 sends the version 1 request (marker, NextMarker
  // or the page's last key) and answers the same page.
  bool list_objects_v1 = false;
  // The store keeps a full-object CRC32C of a multipart upload created with one
  // (WriteOptions::full_object_checksum: x-amz-checksum-type FULL_OBJECT) and checks the
  // completion's value against its parts: AWS S3 does (the wiring sets it for provider "aws",
  // named or implied by the absence of an endpoint). Ceph RGW 16 accepts the headers and keeps
  // nothing (it completes an upload whose stated whole-object CRC32C is wrong): false there.
  // storage/s3's chunked writes read it (docs/design/s3-client.md, "Checksums of large writes").
  bool full_object_checksums = false;
  // Where the client counts its requests (docs/design/observability.md: ferry_s3_*); null means
  // obs::DefaultRegistry(). Must outlive the client.
  obs::Registry* metrics = nullptr;
  // The store's name in ferry_requests_total{remote} and ferry_bytes_out_total{remote}: the
  // config's remote, or "" for a location without one (counted as "s3").
  std::string metrics_remote;
};

// The op class a bill counts `operation` (OperationName's names: "PutObject") in: "PUT"
// (PutObject, UploadPart, Create/CompleteMultipartUpload, other PUT and POST requests), "COPY"
// (CopyObject, UploadPartCopy), "LIST" (ListObjects*, ListBuckets, ListParts,
// ListMultipartUploads), "GET" (GetObject and other GETs), "HEAD", "DELETE" (DeleteObject(s),
// AbortMultipartUpload, DeleteBucket, DeleteObjectTagging), "OTHER" (CreateSession).
std::string_view RequestOpClass(std::string_view operation);

class S3Client {
 public:
  S3Client(S3Options options, http::HttpTransport& http, CredentialsProvider& creds,
           Clock& clock);

  const S3Options& options() const { return options_; }
  // Requests sent again after a transient failure, so far (for the run's summary).
  uint64_t retries() const { return retries_->load(std::memory_order_relaxed); }

  // Whether requests to `bucket` take the directory-bucket path (S3Options::directory_buckets).
  bool IsDirectoryBucket(std::string_view bucket) const;
  // Directory buckets' sessions created so far (CreateSession requests that succeeded).
  uint64_t sessions_created() const { return sessions_->created(); }

  // Buckets.
  Status HeadBucket(std::string_view bucket, std::stop_token stop = {});
  // HeadBucket that returns the server's clock: the reply's Date (whole seconds).
  Result<std::chrono::system_clock::time_point> ServerDate(std::string_view bucket,
                                                           std::stop_token stop = {});
  // With options.object_lock the bucket is created with S3 Object Lock (and versioning).
  Status CreateBucket(std::string_view bucket, std::stop_token stop = {},
                      const CreateBucketOptions& options = {});
  Status DeleteBucket(std::string_view bucket, std::stop_token stop = {});
  Status PutBucketVersioning(std::string_view bucket, bool enabled, std::stop_token stop = {});
  Result<BucketVersioning> GetBucketVersioning(std::string_view bucket, std::stop_token stop = {});

  // CreateSession (GET /?session) on a directory bucket, signed with the account's keys,
  // asking for a session of `mode` (x-amz-create-session-mode). Callers need not call it:
  // requests to a directory bucket get their session through the client's ExpressSessions,
  // which calls it.
  Result<SessionCredentials> CreateSession(std::string_view bucket, std::stop_token stop = {},
                                           SessionMode mode = SessionMode::kReadWrite);

  // Bucket notifications (s3/ops/notification.cc; s3/notification.h reads and edits the
  // document). The bucket's <NotificationConfiguration> as the store sends it (may be empty
  // when it has none); a missing bucket is kNotFound.
  Result<std::string> GetBucketNotificationConfiguration(std::string_view bucket,
                                                         std::stop_token stop = {});
  // PUT ?notification with `xml`. AWS S3 replaces the whole configuration with it; Ceph RGW 16
  // adds (or replaces, by Id) the configurations it holds and keeps the others, and refuses an
  // empty one (MalformedXML): send the whole edited document, it is right for both.
  Status PutBucketNotificationConfiguration(std::string_view bucket, std::string_view xml,
                                            std::stop_token stop = {});
  // Ceph RGW's DELETE ?notification=ID: removes that one configuration (how one is removed
  // from a store that adds on PUT). Not an AWS S3 operation: call it only on a store seen to
  // keep a configuration that a PUT left out.
  Status DeleteBucketNotification(std::string_view bucket, std::string_view id,
                                  std::stop_token stop = {});

  // Topics: the SNS-compatible topic API that Ceph RGW serves on this same endpoint (POST /,
  // form-encoded, signed for "sns"; s3/topics.h, s3/ops/topics.cc). CreateTopic creates the
  // topic or, when it exists, sets its attributes; returns the topic ARN the store answered.
  Result<std::string> CreateTopic(const CreateTopicRequest& request, std::stop_token stop = {});
  // kNotFound (NoSuchEntity) for an unknown topic.
  Result<TopicAttributes> GetTopicAttributes(std::string_view topic_arn,
                                             std::stop_token stop = {});
  // Deleting a topic that does not exist succeeds (RGW).
  Status DeleteTopic(std::string_view topic_arn, std::stop_token stop = {});

  // Listing.
  Result<ListPage> ListObjectsV2(const ListRequest& request, std::stop_token stop = {});
  // One page (encoding-type=url; keys come decoded).
  Result<VersionPage> ListObjectVersions(const ListVersionsRequest& request,
                                         std::stop_token stop = {});

  // Objects. `version_id` may be empty (latest). `customer_key`: the SSE-C key (32 raw bytes)
  // of an SSE-C object (without it S3 answers 400), "" for others.
  Result<ObjectHead> HeadObject(std::string_view bucket, std::string_view key,
                                std::string_view version_id = {}, std::stop_token stop = {},
                                std::string_view customer_key = {});
  // Writes the bytes of request.range (the whole object when it is {0, 0}) to `out` (see
  // GetObjectRequest). Returns the head from the reply headers.
  Result<ObjectHead> GetObject(const GetObjectRequest& request, http::BodySink& out,
                               std::stop_token stop = {});
  // Content-MD5: WriteOptions::content_md5 when given (the MD5 the body must have); else the
  // body's MD5 when compute_md5 and the payload is not signed (a signed SHA-256 payload hash
  // already makes the server refuse another body).
  // Returns the ETag (unquoted). `reply` (optional) receives what the reply headers say
  // (encryption, version id): an SSE-KMS or SSE-C ETag is not an MD5 of the body.
  Result<std::string> PutObject(std::string_view bucket, std::string_view key,
                                std::span<const std::byte> body, const WriteOptions& options,
                                std::stop_token stop = {}, ObjectHead* reply = nullptr);
  // HEAD of one part of a multipart object (partNumber): its Content-Length is the part's
  // size and parts_count the object's part count, where the server supports it (AWS). A
  // server that ignores partNumber (RGW) answers with the whole object and parts_count 0.
  Result<ObjectHead> HeadObjectPart(std::string_view bucket, std::string_view key,
                                    int part_number, std::stop_token stop = {},
                                    std::string_view customer_key = {});
  // Without `version_id`: deletes the object (a versioned bucket adds a delete marker, whose id
  // the reply gives); with it: removes that version for good.
  Result<DeleteReply> DeleteObject(std::string_view bucket, std::string_view key,
                                   std::string_view version_id = {}, std::stop_token stop = {});
  // Deletes up to 1000 keys in one request. Per-key failures are returned as a non-OK status
  // naming the first failed key.
  Status DeleteObjects(std::string_view bucket, std::span<const std::string> keys,
                       std::stop_token stop = {});

  // Server-side copy within one endpoint (see CopyObjectRequest). Returns the new ETag
  // (unquoted) and version id. A source whose ETag is no longer `source.if_match`:
  // kFailedPrecondition.
  Result<WrittenObject> CopyObject(const CopyObjectRequest& request, std::stop_token stop = {});

  // Tags.
  Result<Tags> GetObjectTagging(std::string_view bucket, std::string_view key,
                                std::string_view version_id = {}, std::stop_token stop = {});
  // `version_id` not empty: the tags of that version (else of the current one).
  Status PutObjectTagging(std::string_view bucket, std::string_view key, const Tags& tags,
                          std::stop_token stop = {}, std::string_view version_id = {});

  // Object Lock (s3/ops/object_lock.cc; docs/design/object-lock.md). `version_id` empty: the
  // current version. GetObjectRetention of a version without retention answers an empty lock
  // (the store's NoSuchObjectLockConfiguration), not an error.
  Result<ObjectLock> GetObjectRetention(std::string_view bucket, std::string_view key,
                                        std::string_view version_id = {},
                                        std::stop_token stop = {});
  // Sets lock.mode and lock.retain_until (both set) of a version; `bypass_governance` sends
  // x-amz-bypass-governance-retention: true (shortening a GOVERNANCE retention). The legal
  // hold is PutObjectLegalHold's.
  Status PutObjectRetention(std::string_view bucket, std::string_view key,
                            std::string_view version_id, const ObjectLock& lock,
                            bool bypass_governance = false, std::stop_token stop = {});
  Result<bool> GetObjectLegalHold(std::string_view bucket, std::string_view key,
                                  std::string_view version_id = {}, std::stop_token stop = {});
  Status PutObjectLegalHold(std::string_view bucket, std::string_view key,
                            std::string_view version_id, bool on, std::stop_token stop = {});
  // The bucket's object lock; a bucket without it answers enabled = false (not an error).
  Result<ObjectLockConfiguration> GetObjectLockConfiguration(std::string_view bucket,
                                                             std::stop_token stop = {});
  // Sets ObjectLockEnabled and, when given, the default retention rule.
  Status PutObjectLockConfiguration(std::string_view bucket,
                                    const std::optional<DefaultRetention>& rule,
                                    std::stop_token stop = {});
  // DeleteObject of one version with x-amz-bypass-governance-retention: true: removes a
  // version under GOVERNANCE retention (needs s3:BypassGovernanceRetention). Like DeleteObject.
  Result<DeleteReply> DeleteObjectBypassingGovernance(std::string_view bucket,
                                                      std::string_view key,
                                                      std::string_view version_id,
                                                      std::stop_token stop = {});
  // GetObjectAcl of the current version (or `version_id`): its grants as the x-amz-grant-*
  // lists a write would send (the owner's FULL_CONTROL among them; WRITE, which objects do not
  // take, left out).
  Result<WriteAcl> GetObjectAcl(std::string_view bucket, std::string_view key,
                                std::string_view version_id, std::stop_token stop = {});
  // PutObjectAcl of the current version (or `version_id`) with canned ACL or grant headers.
  Status PutObjectAcl(std::string_view bucket, std::string_view key, std::string_view version_id,
                      const WriteAcl& acl, std::stop_token stop = {});

  // Asks for a readable copy of an archived object (POST ?restore). Errors: kNotFound,
  // kFailedPrecondition (InvalidObjectState: the object is not archived).
  Result<RestoreReply> RestoreObject(const RestoreObjectRequest& request,
                                     std::stop_token stop = {});

  // Multipart.
  Result<std::string> CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                            const WriteOptions& options,
                                            std::stop_token stop = {});
  // Uploads `request.body` as part `request.part_number`. The server checks the part against
  // one hash: the signed payload hash (SHA-256) where the payload is signed, else Content-MD5
  // (computed here: UNSIGNED-PAYLOAD over https, anonymous requests). Returns the part ETag
  // (the MD5 of the bytes received, unless `reply` says the part is encrypted with
  // SSE-KMS/SSE-C); `reply` (optional) receives what the reply says.
  Result<std::string> UploadPart(const UploadPartRequest& request, std::stop_token stop = {},
                                 ObjectHead* reply = nullptr);
  // Copies `range` of the source object into part `part_number`. Returns the part ETag.
  // The source is pinned by `source.if_match` under both header names servers read
  // (x-amz-copy-source-if-match, and RGW's x-amz-copy-if-match), where the server honours
  // them: RGW 16 ignores both on UploadPartCopy (callers check the source before completing).
  Result<std::string> UploadPartCopy(const UploadPartCopyRequest& request,
                                     std::stop_token stop = {});
  // Parts must be in ascending part order. Retried safely: after a transient failure the
  // client checks with HeadObject/ListParts whether the upload already completed.
  // Returns the final ETag (from HEAD when the reply's ETag is empty, as RGW's is) and the
  // version id (x-amz-version-id; from that HEAD when the completion was found by it).
  // `customer_key`: the upload's SSE-C key (sent with the completion and the HEADs that
  // follow it), "" when it is not SSE-C.
  Result<WrittenObject> CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                                std::string_view upload_id,
                                                std::span<const CompletedPart> parts,
                                                std::stop_token stop = {},
                                                std::string_view customer_key = {});
  // The same, naming the parts' additional checksums where the upload has an algorithm.
  Result<WrittenObject> CompleteMultipartUpload(const CompleteRequest& request,
                                                std::stop_token stop = {});
  // Idempotent: an upload that no longer exists (NoSuchUpload) counts as aborted.
  Status AbortMultipartUpload(std::string_view bucket, std::string_view key,
                              std::string_view upload_id, std::stop_token stop = {});
  // All parts of an upload (follows pagination).
  Result<std::vector<CompletedPart>> ListParts(std::string_view bucket, std::string_view key,
                                               std::string_view upload_id,
                                               std::stop_token stop = {});
  // All in-progress uploads under `prefix` (follows pagination).
  Result<std::vector<UploadInfo>> ListMultipartUploads(std::string_view bucket,
                                                       std::string_view prefix,
                                                       std::stop_token stop = {});

 private:
  struct Call;  // internal: see s3/client.cc
  struct Metrics;
  S3Options options_;
  http::HttpTransport& http_;
  CredentialsProvider& creds_;
  Clock& clock_;
  std::unique_ptr<std::atomic<uint64_t>> retries_ = std::make_unique<std::atomic<uint64_t>>(0);
  std::shared_ptr<const Metrics> metrics_;  // families in options_.metrics (client.cc)
  std::unique_ptr<ExpressSessions> sessions_ = std::make_unique<ExpressSessions>(clock_);
  // The additional checksums of the parts sent (CRC32Cs to directory buckets, s3/express.h;
  // the algorithm asked of an upload elsewhere), for their completion.
  std::unique_ptr<PartChecksums> part_checksums_ = std::make_unique<PartChecksums>();
  // CompleteMultipartUpload's XML: each part with its additional checksum when `algorithm` is
  // set (sent ones from part_checksums_, the rest by ListParts).
  Result<std::string> CompleteBody(const CompleteRequest& request,
                                   std::optional<checksum::Algorithm> algorithm,
                                   std::stop_token stop);
  // Each part's additional checksum of an upload by ListParts (in the order of `parts`; ""
  // when the store names none): the parts this client did not send itself.
  Result<std::vector<std::string>> ListedPartChecksums(std::string_view bucket,
                                                       std::string_view key,
                                                       std::string_view upload_id,
                                                       std::span<const CompletedPart> parts,
                                                       std::stop_token stop);
};

}  // namespace ferry::s3
