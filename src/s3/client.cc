// S3Client's shared call path: build -> sign -> send under the retry policy -> map errors.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <random>
#include <string>
#include <utility>

#include "checksum/checksum.h"
#include "http/throttle.h"
#include "retry/policy.h"
#include "s3/client_internal.h"
#include "s3/express.h"
#include "s3/restore.h"
#include "s3/sigv2.h"
#include "s3/sigv4.h"
#include "s3/time_format.h"
#include "s3/xml.h"

namespace ferry::s3 {
namespace {

constexpr size_t kMaxReplyBytes = 64u << 20;  // XML replies and error bodies

// Routes a reply body: 2xx bodies to the operation's sink (when it has one), anything else
// (XML results, error documents) into a string.
class ReplySink : public http::BodySink {
 public:
  explicit ReplySink(http::BodySink* target) : target_(target), collected_(kMaxReplyBytes) {}

  Status Begin(int status, const http::Headers& headers) override {
    to_target_ = target_ != nullptr && status >= 200 && status < 300;
    if (!to_target_) return Status::Ok();
    target_begun_ = true;
    return target_->Begin(status, headers);
  }
  Status Write(std::span<const std::byte> data) override {
    bytes_ += data.size();
    return to_target_ ? target_->Write(data) : collected_.Write(data);
  }
  // Reply body bytes received (what the store bills as data out).
  uint64_t bytes() const { return bytes_; }
  // The target saw this attempt's response and must be rewound before another attempt.
  bool target_begun() const { return target_begun_; }
  std::string& body() { return collected_.body(); }

 private:
  http::BodySink* target_;
  http::StringSink collected_;
  bool to_target_ = false;
  bool target_begun_ = false;
  uint64_t bytes_ = 0;
};

uint64_t RandomBits() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

bool HasQuery(const QueryParams& query, std::string_view name) {
  for (const auto& [k, v] : query) {
    if (k == name) return true;
  }
  return false;
}

}  // namespace

// The client's metric families (docs/design/observability.md), looked up once per client.
struct S3Client::Metrics {
  explicit Metrics(obs::Registry& r)
      : requests(r.AddCounter("ferry_s3_requests_total",
                              "S3 requests sent (every attempt), by operation and HTTP status "
                              "(\"error\" when no reply came: network faults, timeouts).",
                              {"operation", "status"})),
        seconds(r.AddHistogram("ferry_s3_request_seconds",
                               "Time from sending an S3 request to the end of its reply.",
                               {"operation"}, obs::LatencyBuckets())),
        throttles(r.AddCounter("ferry_s3_throttles_total",
                               "S3 replies asking to slow down (503 SlowDown, 429).",
                               {"operation"})),
        retries(r.AddCounter("ferry_s3_retries_total",
                             "S3 requests sent again after a transient failure.")
                    .Get()),
        ops(r.AddCounter("ferry_requests_total",
                         "Requests the store answered, by remote and op class as bills count "
                         "them (PUT, COPY, LIST, GET, HEAD, DELETE, OTHER).",
                         {"remote", "op"})),
        bytes_out(r.AddCounter("ferry_bytes_out_total",
                               "Reply bytes read out of the store, by remote.", {"remote"})) {}
  obs::FamilyRef<obs::Counter> requests;
  obs::FamilyRef<obs::Histogram> seconds;
  obs::FamilyRef<obs::Counter> throttles;
  obs::Counter& retries;
  obs::FamilyRef<obs::Counter> ops;
  obs::FamilyRef<obs::Counter> bytes_out;
};

std::string_view OperationName(const RequestSpec& spec) {
  if (!spec.operation.empty()) return spec.operation;
  const std::string& m = spec.method;
  const QueryParams& q = spec.query;
  if (spec.bucket.empty()) return "ListBuckets";
  if (spec.key.empty()) {
    if (m == "HEAD") return "HeadBucket";
    if (m == "POST" && HasQuery(q, "delete")) return "DeleteObjects";
    if (m == "GET" && HasQuery(q, "list-type")) return "ListObjectsV2";
    if (m == "GET" && HasQuery(q, "versions")) return "ListObjectVersions";
    if (m == "GET" && HasQuery(q, "uploads")) return "ListMultipartUploads";
    if (m == "GET" && HasQuery(q, "versioning")) return "GetBucketVersioning";
    if (m == "GET" && HasQuery(q, "session")) return "CreateSession";
    if (m == "GET") return "ListObjects";
    if (m == "PUT" && HasQuery(q, "versioning")) return "PutBucketVersioning";
    if (m == "PUT") return "CreateBucket";
    if (m == "DELETE") return "DeleteBucket";
    return "BucketRequest";
  }
  const bool copy = spec.headers.Find("x-amz-copy-source") != nullptr;
  if (HasQuery(q, "tagging")) {
    if (m == "GET") return "GetObjectTagging";
    if (m == "PUT") return "PutObjectTagging";
    return "DeleteObjectTagging";
  }
  if (HasQuery(q, "uploadId")) {
    if (m == "PUT") return copy ? "UploadPartCopy" : "UploadPart";
    if (m == "POST") return "CompleteMultipartUpload";
    if (m == "GET") return "ListParts";
    if (m == "DELETE") return "AbortMultipartUpload";
  }
  if (m == "POST" && HasQuery(q, "uploads")) return "CreateMultipartUpload";
  if (m == "GET") return "GetObject";
  if (m == "HEAD") return "HeadObject";
  if (m == "PUT") return copy ? "CopyObject" : "PutObject";
  if (m == "DELETE") return "DeleteObject";
  return "ObjectRequest";
}

std::string_view RequestOpClass(std::string_view op) {
  if (op == "CopyObject" || op == "UploadPartCopy") return "COPY";
  if (op.starts_with("List")) return "LIST";
  if (op == "HeadObject" || op == "HeadBucket") return "HEAD";
  if (op.starts_with("Delete") || op == "AbortMultipartUpload") return "DELETE";
  if (op == "CreateSession") return "OTHER";
  if (op.starts_with("Get")) return "GET";
  return "PUT";  // PutObject, UploadPart, Create/CompleteMultipartUpload, other PUT and POST
}

S3Client::S3Client(S3Options options, http::HttpTransport& http, CredentialsProvider& creds,
                   Clock& clock)
    : options_(std::move(options)),
      http_(http),
      creds_(creds),
      clock_(clock),
      metrics_(std::make_shared<const Metrics>(
          options_.metrics != nullptr ? *options_.metrics : obs::DefaultRegistry())) {
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/')
    options_.endpoint.pop_back();
  // SigV4 needs a region; S3's historical default is us-east-1.
  if (options_.region.empty()) options_.region = "us-east-1";
}

Status S3Client::Call::Backoff(S3Client& client, int attempt, std::chrono::milliseconds at_least,
                               std::stop_token stop) {
  client.retries_->fetch_add(1, std::memory_order_relaxed);
  client.metrics_->retries.Add();
  client.clock_.SleepFor(
      std::max(at_least, retry::BackoffDelay(client.options_.retry, attempt, RandomBits())),
      stop);
  if (stop.stop_requested()) return Status::Cancelled("cancelled while waiting to retry");
  return Status::Ok();
}

void S3Client::Call::CountReply(S3Client& client, std::string_view operation, int http_status,
                                std::string_view error_body, uint64_t reply_bytes) {
  const Metrics& m = *client.metrics_;
  if (http_status == 0) {
    m.requests.WithLabels({operation, "error"}).Add();
    return;
  }
  // A request the store answered is one it bills (what a run cost: docs/design/cost.md).
  const std::string_view remote = client.options_.metrics_remote.empty()
                                      ? std::string_view("s3")
                                      : std::string_view(client.options_.metrics_remote);
  m.ops.WithLabels({remote, RequestOpClass(operation)}).Add();
  if (reply_bytes > 0) m.bytes_out.WithLabels({remote}).Add(reply_bytes);
  char status[16];
  const auto end = std::to_chars(status, status + sizeof status, http_status).ptr;
  m.requests.WithLabels({operation, std::string_view(status, static_cast<size_t>(end - status))})
      .Add();
  if (http_status == 429 || (http_status == 503 && ParseError(error_body).code == "SlowDown")) {
    m.throttles.WithLabels({operation}).Add();
  }
}

std::chrono::milliseconds RetryAfter(const http::Headers& headers,
                                     std::chrono::system_clock::time_point now) {
  const std::string* value = headers.Find("Retry-After");
  if (value == nullptr || value->empty()) return std::chrono::milliseconds(0);
  std::chrono::milliseconds pause{0};
  uint64_t seconds = 0;
  const char* end = value->data() + value->size();
  if (const auto r = std::from_chars(value->data(), end, seconds);
      r.ec == std::errc() && r.ptr == end) {
    pause = std::chrono::seconds(std::min<uint64_t>(seconds, kMaxRetryAfterSeconds));
  } else if (const auto when = ParseHttpDate(*value); when && *when > now) {
    pause = std::chrono::duration_cast<std::chrono::milliseconds>(*when - now);
  }
  return std::min<std::chrono::milliseconds>(pause, std::chrono::seconds(kMaxRetryAfterSeconds));
}

bool S3Client::IsDirectoryBucket(std::string_view bucket) const {
  if (bucket.empty()) return false;
  if (options_.directory_buckets) return *options_.directory_buckets;
  return HasDirectoryBucketSuffix(bucket);
}

namespace {

// Requests to a directory bucket that are signed with the account's keys, not the session's.
bool AccountSigned(std::string_view operation) {
  return operation == "CreateSession" || operation == "CopyObject" || operation == "HeadBucket";
}

// A reply that says the session's credentials are no longer good: worth one new session.
bool SessionRefused(int http_status, std::string_view body) {
  if (http_status == 403) return true;
  const std::string code = ParseError(body).code;
  return code == "ExpiredToken" || code == "InvalidToken";
}

// A refusal of temporary credentials (they carry a session token) as expired or unknown:
// worth asking the provider for new ones once. A HEAD's error has no body: its 400/403 is
// taken for one only when the credentials are temporary (fetching again is cheap next to
// failing a run). Fixed credentials are never fetched again.
bool CredentialsRefused(const Credentials& used, int http_status, std::string_view body) {
  if (used.session_token.empty()) return false;
  if (body.empty()) return http_status == 400 || http_status == 403;
  const std::string code = ParseError(body).code;
  return code == "ExpiredToken" || code == "InvalidToken" || code == "TokenRefreshRequired" ||
         code == "ExpiredTokenException" || code == "InvalidAccessKeyId";
}

}  // namespace

// What stays the same across the attempts of one call.
struct S3Client::Call::Plan {
  std::string url;
  std::string payload_hash;
  SigningScope scope;
  int max_attempts = 1;
  std::string_view operation;
  bool express = false;
  bool session_signed = false;  // with a directory bucket's session, not the account's keys
};

struct S3Client::Call::Attempt {
  http::HttpRequest request;
  Credentials creds;
  std::string session_token;  // a directory bucket's session (sent in its own header)
};

S3Client::Call::Plan S3Client::Call::PlanOf(S3Client& client, const RequestSpec& spec) {
  const S3Options& o = client.options_;
  // Directory buckets: zonal endpoints are virtual-hosted only, requests are signed for
  // s3express, and most carry the bucket's session (s3/express.h).
  const bool express = client.IsDirectoryBucket(spec.bucket);
  std::string url = BuildUrl(o.endpoint, express ? Addressing::kVirtualHost : o.addressing,
                             spec.bucket, spec.key, spec.query);
  const bool https = url.starts_with("https://");
  // Hashed once per call, not per attempt: bodies can be large.
  std::string payload_hash = https && o.unsigned_payload_over_https
                                 ? std::string("UNSIGNED-PAYLOAD")
                                 : checksum::Hex(checksum::Sha256(spec.body));
  const std::string_view service = !spec.signing_service.empty() ? spec.signing_service
                                   : express                      ? kExpressService
                                                                  : std::string_view("s3");
  const std::string_view operation = OperationName(spec);
  return Plan{
      .url = std::move(url),
      .payload_hash = std::move(payload_hash),
      .scope = SigningScope{o.region, std::string(service), /*double_encode_path=*/false},
      .max_attempts =
          spec.max_attempts > 0 ? spec.max_attempts : std::max(1, o.retry.max_attempts),
      .operation = operation,
      .express = express,
      .session_signed = express && !AccountSigned(operation)};
}

Status S3Client::Call::Prepare(S3Client& client, const RequestSpec& spec, const Plan& plan,
                               std::stop_token stop, Attempt& out) {
  const S3Options& o = client.options_;
  http::HttpRequest& request = out.request;
  request.method = spec.method;
  request.url = plan.url;
  request.headers = spec.headers;
  request.body = spec.body;
  request.tls = o.tls ? &*o.tls : nullptr;  // every request of the client, whatever its kind
  request.headers.Set("x-amz-content-sha256", plan.payload_hash);
  if (o.requester_pays) request.headers.Set("x-amz-request-payer", "requester");
  Credentials& creds = out.creds;
  if (plan.session_signed) {
    // Reads ask for a ReadOnly session (or use the bucket's ReadWrite one), the rest for a
    // ReadWrite one.
    FERRY_ASSIGN_OR_RETURN(
        creds, client.sessions_->Get(spec.bucket, SessionModeFor(plan.operation),
                                     [&client, stop](std::string_view bucket, SessionMode mode) {
                                       return client.CreateSession(bucket, stop, mode);
                                     }));
    // The session's token goes in its own header, not x-amz-security-token.
    out.session_token = std::move(creds.session_token);
    creds.session_token.clear();
    request.headers.Set(std::string(kSessionTokenHeader), out.session_token);
  } else {
    FERRY_ASSIGN_OR_RETURN(creds, client.creds_.Get());
  }
  if (!creds.anonymous()) {
    if (o.signature_v2 && !plan.express) {
      SignV2(request, spec.bucket, o.addressing == Addressing::kVirtualHost, creds,
             client.clock_.Now());
    } else {
      SignV4(request, plan.payload_hash, creds, plan.scope, client.clock_.Now());
    }
  }
  return Status::Ok();
}

std::chrono::milliseconds S3Client::Call::PauseAsked(S3Client& client, const Plan& plan,
                                                     const Result<http::HttpResponse>& sent) {
  std::chrono::milliseconds pause{0};
  if (sent.ok() && (sent->status_code == 429 || sent->status_code == 503)) {
    pause = RetryAfter(sent->headers, client.clock_.Now());
    if (http::Throttle* t = client.http_.throttle(); t != nullptr && pause.count() > 0) {
      std::string storage;
      t->PauseEndpoint(http::EndpointOf(plan.url, storage), pause);
    }
  }
  return pause;
}

namespace {

// After a transient failure that may have done the write anyway (no reply, or a 5xx other than
// 503), the request's own check of whether it was done (RequestSpec::done_despite_failure):
// its reply when it was; an error when that cannot be told; nullopt to go on as a failure.
std::optional<Result<Reply>> CheckDoneDespiteFailure(const RequestSpec& spec,
                                                     const Result<http::HttpResponse>& sent,
                                                     const Status& failure,
                                                     const std::stop_token& stop) {
  const bool maybe_done =
      !sent.ok() || (sent->status_code >= 500 && sent->status_code != 503);
  if (!failure.transient() || !maybe_done || !spec.done_despite_failure ||
      stop.stop_requested()) {
    return std::nullopt;
  }
  Result<std::optional<Reply>> done = spec.done_despite_failure();
  if (done.ok() && done->has_value()) return Result<Reply>(std::move(**done));
  if (!done.ok()) {
    // Whether it was done cannot be told: sent again, it could be done twice. The caller
    // decides (a replication looks for its replica before writing again).
    return Result<Reply>(Status(failure.code(), failure.message() + " (whether the write was "
                                                                    "done is unknown: " +
                                                    done.status().message() + ")")
                             .WithSubject(failure.subject()));
  }
  return std::nullopt;
}

// The last attempt's failure; a transient one says how many attempts were made.
Status FailureOfLastAttempt(const Status& failure, int attempt) {
  if (failure.transient() && attempt > 1) {
    return Status(failure.code(),
                  failure.message() + " [after " + std::to_string(attempt) + " attempts]")
        .WithSubject(failure.subject());
  }
  return failure;
}

}  // namespace

Result<Reply> S3Client::Call::Run(S3Client& client, const RequestSpec& spec, std::stop_token stop) {
  const Plan plan = PlanOf(client, spec);
  obs::Histogram& latency = client.metrics_->seconds.WithLabels({plan.operation});
  bool session_renewed = false;  // after a refusal, once per request
  bool credentials_renewed = false;  // likewise for temporary credentials

  for (int attempt = 1;; ++attempt) {
    Attempt a;
    FERRY_RETURN_IF_ERROR(Prepare(client, spec, plan, stop, a));
    ReplySink sink(spec.sink);
    const auto started = client.clock_.MonoNow();
    Result<http::HttpResponse> sent = client.http_.Send(a.request, sink, stop);
    latency.Observe(std::chrono::duration<double>(client.clock_.MonoNow() - started).count());
    CountReply(client, plan.operation, sent.ok() ? sent->status_code : 0, sink.body(),
               sink.bytes());
    // A throttling reply that says how long to stay away: every request of this process to the
    // endpoint waits that long (limits.h), this one too.
    const std::chrono::milliseconds pause = PauseAsked(client, plan, sent);
    const ErrorTarget target{client.options_.endpoint, spec.bucket, spec.key, spec.upload_id,
                             a.creds.access_key_id};
    Status failure;
    if (!sent.ok()) {
      failure = sent.status();
    } else if (sent->status_code >= 200 && sent->status_code < 300) {
      if (!(spec.error_in_200 && IsErrorDocument(sink.body()))) {
        return Reply{sent->status_code, std::move(sent->headers), std::move(sink.body())};
      }
      failure = StatusFromReply(sent->status_code, sink.body(), target);
    } else {
      failure = StatusFromReply(sent->status_code, sink.body(), target);
      if (!plan.session_signed && !credentials_renewed &&
          CredentialsRefused(a.creds, sent->status_code, sink.body())) {
        // Temporary credentials the store no longer takes (expired early, clocks apart, or
        // revoked): the provider fetches new ones, the same attempt again.
        client.creds_.Expired(a.creds);
        credentials_renewed = true;
        --attempt;
        continue;
      }
      if (plan.session_signed && !session_renewed &&
          SessionRefused(sent->status_code, sink.body())) {
        // The session expired early or was revoked: one new session, the same attempt again.
        client.sessions_->Invalidate(spec.bucket, a.session_token);
        session_renewed = true;
        --attempt;
        continue;
      }
    }
    if (auto done = CheckDoneDespiteFailure(spec, sent, failure, stop)) return std::move(*done);
    if (!failure.transient() || attempt >= plan.max_attempts || stop.stop_requested()) {
      return FailureOfLastAttempt(failure, attempt);
    }
    // The operation's sink saw part of this attempt's body: start it over, or give up here.
    if (sink.target_begun() && !spec.sink->Rewind()) return failure;
    FERRY_RETURN_IF_ERROR(Backoff(client, attempt, pause, stop));
  }
}

bool S3Client::Call::SignsPayload(S3Client& client) {
  const S3Options& o = client.options_;
  if (o.unsigned_payload_over_https && o.endpoint.starts_with("https://")) return false;
  Result<Credentials> creds = client.creds_.Get();
  return creds.ok() && !creds->anonymous();
}

bool SentMetadataFound(const std::map<std::string, std::string>& found,
                       const std::map<std::string, std::string>& sent) {
  if (found.size() != sent.size()) return false;
  for (const auto& [name, value] : sent) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = found.find(lower);
    if (it == found.end() || (name.starts_with("ferry-") && it->second != value)) return false;
  }
  return true;
}

std::string Quoted(std::string_view etag) {
  if (etag.empty() || etag.front() == '"') return std::string(etag);
  return "\"" + std::string(etag) + "\"";
}

std::string ContentMd5(std::span<const std::byte> body) {
  return checksum::Base64(checksum::Md5(body));
}

std::string TaggingHeaderValue(const Tags& tags) {
  std::string out;
  for (const auto& [key, value] : tags) {
    if (!out.empty()) out.push_back('&');
    AppendUriEncoded(out, key);
    out.push_back('=');
    AppendUriEncoded(out, value);
  }
  return out;
}

void AddWriteHeaders(const WriteOptions& options, http::Headers& headers) {
  const ContentHeaders& c = options.content;
  if (!c.content_type.empty()) headers.Set("Content-Type", c.content_type);
  if (!c.content_encoding.empty()) headers.Set("Content-Encoding", c.content_encoding);
  if (!c.content_language.empty()) headers.Set("Content-Language", c.content_language);
  if (!c.content_disposition.empty()) headers.Set("Content-Disposition", c.content_disposition);
  if (!c.cache_control.empty()) headers.Set("Cache-Control", c.cache_control);
  if (!c.expires.empty()) headers.Set("Expires", c.expires);
  for (const auto& [name, value] : options.metadata) headers.Set("x-amz-meta-" + name, value);
  if (options.tags && !options.tags->empty()) {
    headers.Set("x-amz-tagging", TaggingHeaderValue(*options.tags));
  }
  if (!options.storage_class.empty()) headers.Set("x-amz-storage-class", options.storage_class);
  AddLockHeaders(options.lock, headers);
  AddAclHeaders(options.acl, headers);
}

void AddLockHeaders(const ObjectLock& lock, http::Headers& headers) {
  if (!lock.mode.empty()) {
    headers.Set("x-amz-object-lock-mode", lock.mode);
    headers.Set("x-amz-object-lock-retain-until-date", lock.retain_until);
  }
  if (lock.legal_hold) headers.Set("x-amz-object-lock-legal-hold", "ON");
}

void AddAclHeaders(const WriteAcl& acl, http::Headers& headers) {
  if (!acl.canned.empty()) headers.Set("x-amz-acl", acl.canned);
  if (!acl.grant_read.empty()) headers.Set("x-amz-grant-read", acl.grant_read);
  if (!acl.grant_read_acp.empty()) headers.Set("x-amz-grant-read-acp", acl.grant_read_acp);
  if (!acl.grant_write_acp.empty()) headers.Set("x-amz-grant-write-acp", acl.grant_write_acp);
  if (!acl.grant_full_control.empty()) {
    headers.Set("x-amz-grant-full-control", acl.grant_full_control);
  }
}

ObjectHead ParseObjectHead(const http::Headers& headers) {
  ObjectHead head;
  auto to_u64 = [](std::string_view s) {
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') break;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
  };
  head.size = to_u64(headers.Get("Content-Length"));
  if (const std::string* range = headers.Find("Content-Range")) {
    const size_t slash = range->rfind('/');
    if (slash != std::string::npos && range->compare(slash + 1, 1, "*") != 0) {
      head.size = to_u64(std::string_view(*range).substr(slash + 1));
    }
  }
  head.etag = UnquoteEtag(headers.Get("ETag"));
  if (auto t = ParseHttpDate(headers.Get("Last-Modified"))) head.last_modified = *t;
  head.storage_class = headers.Get("x-amz-storage-class");
  head.version_id = headers.Get("x-amz-version-id");
  head.delete_marker = headers.Get("x-amz-delete-marker") == "true";
  head.content.content_type = headers.Get("Content-Type");
  head.content.content_encoding = headers.Get("Content-Encoding");
  head.content.content_language = headers.Get("Content-Language");
  head.content.content_disposition = headers.Get("Content-Disposition");
  head.content.cache_control = headers.Get("Cache-Control");
  head.content.expires = headers.Get("Expires");
  head.tag_count = static_cast<int>(to_u64(headers.Get("x-amz-tagging-count")));
  head.parts_count = static_cast<int>(to_u64(headers.Get("x-amz-mp-parts-count")));
  head.encryption = headers.Get("x-amz-server-side-encryption");
  head.lock.mode = headers.Get("x-amz-object-lock-mode");
  if (!head.lock.mode.empty()) {
    head.lock.retain_until = headers.Get("x-amz-object-lock-retain-until-date");
  }
  head.lock.legal_hold = headers.Get("x-amz-object-lock-legal-hold") == "ON";
  ParseArchiveHeaders(headers, head);  // x-amz-restore, x-amz-archive-status (s3/restore.h)
  if (!headers.Get("x-amz-server-side-encryption-customer-algorithm").empty()) {
    head.encryption = "SSE-C";
  }
  head.checksum = ParseChecksumHeaders(headers);
  constexpr std::string_view kMeta = "x-amz-meta-";
  for (const auto& [name, value] : headers.entries()) {
    if (name.size() <= kMeta.size()) continue;
    std::string lower = name;
    for (char& ch : lower) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
    if (lower.starts_with(kMeta)) head.metadata[lower.substr(kMeta.size())] = value;
  }
  return head;
}

std::string ExpectedMultipartEtag(std::span<const CompletedPart> parts) {
  std::string digests;
  digests.reserve(parts.size() * 16);
  for (const CompletedPart& p : parts) {
    if (p.etag.size() != 32) return {};
    for (size_t i = 0; i < 32; i += 2) {
      auto hex = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      const int hi = hex(p.etag[i]), lo = hex(p.etag[i + 1]);
      if (hi < 0 || lo < 0) return {};
      digests.push_back(static_cast<char>(hi * 16 + lo));
    }
  }
  return checksum::Hex(checksum::Md5(checksum::AsBytes(digests))) + "-" +
         std::to_string(parts.size());
}

}  // namespace ferry::s3
