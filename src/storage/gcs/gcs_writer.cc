// GcsBackend's chunked writes: one resumable upload session per object (docs/design/gcs.md
// §4). Its URI is the upload id, so a journal that records the id can resume the upload in
// another process. GCS appends chunks in order only: a part is sent (on the caller's thread:
// the client owns none) once every part before it was; one that comes earlier is copied and
// held until then. The engine queues an object's parts in order on a FIFO, so what is held is
// at most the parts in flight at once; the sends of one object are one stream.
// All but the last chunk must be multiples of 256 KiB: a part's unaligned tail is held in
// memory and sent ahead of the next part; the service may also keep fewer bytes than it was
// sent (its Range says how many), and the rest is held likewise.
#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <mutex>

#include "checksum/checksum.h"
#include "retry/policy.h"
#include "storage/gcs/gcs_backend.h"
#include "storage/rest/rest_client.h"

namespace ferry::storage::gcs {
namespace {

// "bytes=0-N" of a 308 reply: N+1 bytes are kept; no Range header: none.
Result<uint64_t> GcsPersisted(const http::Headers& headers) {
  const std::string range = headers.Get("Range");
  if (range.empty()) return uint64_t{0};
  const size_t dash = range.find('-');
  uint64_t last = 0;
  if (!range.starts_with("bytes=0-") || dash == std::string::npos ||
      std::from_chars(range.data() + dash + 1, range.data() + range.size(), last).ec !=
          std::errc()) {
    return Status::Internal("resumable upload: unreadable Range '" + range + "'");
  }
  return last + 1;
}

// Whether `session` is a session URI of object `name` at `endpoint`: GCS's and the emulator's
// are ENDPOINT/upload/storage/v1/b/BUCKET/o?...name=NAME...&upload_id=...
bool SessionOf(const std::string& session, const std::string& endpoint,
               const std::string& objects_path, const std::string& name) {
  if (!session.starts_with(endpoint + "/upload" + objects_path + "?")) return false;
  const std::string want = "name=" + EncodeObjectName(name);
  std::string_view query = std::string_view(session).substr(session.find('?') + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    // the emulator encodes a space as '+' (URLSearchParams)
    std::string norm;
    for (char c : param) norm += c == '+' ? std::string("%20") : std::string(1, c);
    if (norm == want || param == want) return true;
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return false;
}

class GcsChunkWriter : public ChunkWriter {
 public:
  GcsChunkWriter(GcsBackend& backend, std::string name, const WriteSpec& spec,
                 uint64_t part_size, std::string session)
      : backend_(backend), name_(std::move(name)), size_(spec.size), part_size_(part_size),
        session_(std::move(session)) {}
  ~GcsChunkWriter() override {
    if (state_ == State::kOpen) (void)Abort();
  }

  const std::string& upload_id() const override { return session_; }

  // Where the service stands (a resumed session): `persisted` bytes kept.
  void StartAt(uint64_t persisted, std::optional<WriteResult> finished) {
    persisted_ = persisted;
    finished_ = std::move(finished);
  }

  Status WriteChunk(int part_number, uint64_t offset, std::span<const std::byte> data,
                    std::stop_token stop) override {
    (void)part_number;  // the offset orders the parts
    std::lock_guard lock(mu_);
    if (!failed_.ok()) return failed_;
    if (offset != next_) {
      // ahead of a part not handed on yet: kept until it is (the caller may not wait for it)
      early_[offset].assign(data.begin(), data.end());
      return Status::Ok();
    }
    FERRY_RETURN_IF_ERROR(HandOn(offset, data, stop));
    for (auto it = early_.find(next_); it != early_.end(); it = early_.find(next_)) {
      const std::vector<std::byte> part = std::move(it->second);
      early_.erase(it);
      FERRY_RETURN_IF_ERROR(HandOn(next_, part, stop));
    }
    return Status::Ok();
  }

  Result<WriteResult> Commit(std::stop_token stop) override {
    std::lock_guard lock(mu_);
    FERRY_RETURN_IF_ERROR(failed_);
    if (!early_.empty()) {
      return Status::FailedPrecondition("resumable upload of " + name_ + ": the part at " +
                                        std::to_string(next_) + " was never written");
    }
    if (!finished_) {
      if (next_ != size_ || persisted_ + tail_.size() != size_) {
        return Status::FailedPrecondition("resumable upload of " + name_ + ": " +
                                          std::to_string(next_) + " of " +
                                          std::to_string(size_) + " bytes were written");
      }
      // everything is there but the session was never told it ended (an empty object, or a
      // resume after the last part): finalize it
      FERRY_RETURN_IF_ERROR(SendFinal(stop));
    }
    state_ = State::kDone;
    return *finished_;
  }

  Status Abort() override {
    if (state_ == State::kAborted) return Status::Ok();
    state_ = State::kAborted;
    return backend_.CancelSession(session_, {});
  }

  // The parts the session holds: those wholly below the bytes it kept.
  Result<std::optional<std::vector<StoredPart>>> ListStoredParts(std::stop_token stop) override {
    (void)stop;
    std::lock_guard lock(mu_);
    std::vector<StoredPart> parts;
    const uint64_t kept = finished_ ? size_ : persisted_;
    for (uint64_t start = 0; part_size_ > 0 && start + part_size_ <= kept; start += part_size_) {
      parts.push_back({static_cast<int>(start / part_size_) + 1, "", part_size_});
    }
    if (finished_ && size_ % part_size_ != 0) {
      parts.push_back({static_cast<int>(size_ / part_size_) + 1, "", size_ % part_size_});
    }
    return std::optional(std::move(parts));
  }

  void AdoptPart(const StoredPart& part) override { Adopt(part, std::nullopt); }
  bool AdoptPartChecked(const StoredPart& part, uint32_t crc32c) override {
    Adopt(part, crc32c);
    return true;
  }

  void Detach() override { state_ = State::kDetached; }

  // GCS cannot copy a range into a session on the server: the range is read through this
  // client (pinned to the object's ETag) and written as a part. The last chunk then names the
  // source's CRC32C, so that GCS (and Finished) refuse a copy whose bytes differ from it.
  Status CopyChunk(int part_number, const Backend& source, const ObjectInfo& object,
                   uint64_t offset, uint64_t length, std::stop_token stop) override {
    const auto* src = dynamic_cast<const GcsBackend*>(&source);
    if (src == nullptr || !backend_.CanCopyFrom(source)) {
      return Status::NotSupported("part copy from " + source.Describe() + " to " +
                                  backend_.Describe());
    }
    if (object.checksum && object.checksum->algorithm == checksum::Algorithm::kCrc32c &&
        object.checksum->full_object()) {
      std::lock_guard lock(mu_);
      source_crc_ = object.checksum->value;
    }
    std::vector<std::byte> bytes(length);
    if (length > 0) {
      FERRY_RETURN_IF_ERROR(src->ReadRange(object.key, offset, bytes, object.etag, stop));
    }
    return WriteChunk(part_number, offset, bytes, stop);
  }

 private:
  enum class State { kOpen, kDone, kAborted, kDetached };

  // Adopted parts are a prefix of the object (the session keeps bytes in order only).
  void Adopt(const StoredPart& part, std::optional<uint32_t> crc) {
    std::lock_guard lock(mu_);
    const uint64_t start = static_cast<uint64_t>(part.part_number - 1) * part_size_;
    if (start != next_) {
      crc_known_ = false;
    } else if (crc) {
      crc_ = checksum::Crc32cCombine(crc_, *crc, part.size);
    } else {
      crc_known_ = false;
    }
    next_ = std::max(next_, start + part.size);
  }

  // Called with mu_ held: the part at `offset` == next_ sent (as far as the service takes
  // chunks); the first failure ends the upload.
  Status HandOn(uint64_t offset, std::span<const std::byte> data, std::stop_token stop) {
    Status s = SendInOrder(offset, data, stop);
    if (!s.ok()) {
      failed_ = s.WithContext("resumable upload of gs://" + backend_.bucket() + "/" + name_);
      early_.clear();
      return failed_;
    }
    next_ = offset + data.size();
    crc_ = checksum::Crc32cCombine(crc_, checksum::Crc32c(data), data.size());
    return Status::Ok();
  }

  // Called with mu_ held, for the part at `offset` once every earlier part was handed on.
  Status SendInOrder(uint64_t offset, std::span<const std::byte> data, std::stop_token stop) {
    if (finished_) return Status::Ok();  // a resumed session that already ended
    // bytes the session already keeps (a resumed part that was partly sent) are not sent again
    const uint64_t held_from = persisted_;
    if (offset + data.size() <= held_from + tail_.size()) return Status::Ok();
    const uint64_t skip = held_from + tail_.size() > offset ? held_from + tail_.size() - offset : 0;
    tail_.insert(tail_.end(), data.begin() + static_cast<ptrdiff_t>(skip), data.end());
    const bool last = offset + data.size() == size_;
    if (last) return SendFinal(stop);
    const uint64_t aligned = tail_.size() / kGcsChunkGranularity * kGcsChunkGranularity;
    if (aligned == 0) return Status::Ok();
    return SendChunk(aligned, false, stop);
  }

  Status SendFinal(std::stop_token stop) { return SendChunk(tail_.size(), true, stop); }

  // Sends tail_'s first `length` bytes at persisted_ (`final`: with the total size, which ends
  // the session) and keeps what the service did not (tail_ from its Range on). A request that
  // failed in a way worth retrying may still have been kept, whole or in part (a reply cut
  // after the service took the chunk): the session is asked where it stands and only the rest
  // is sent again, as GCS refuses a chunk that does not continue where the session ends.
  Status SendChunk(uint64_t length, bool final, std::stop_token stop) {
    GcsClient& client = backend_.client();
    const retry::Policy& policy = client.retry_policy();
    const uint64_t end = persisted_ + length;
    // the whole object's CRC32C (base64), when this chunk ends it: a copied object's source's,
    // else ferry's of the parts (computed while tail_ holds the last part)
    std::optional<std::string> crc;
    if (final && !source_crc_.empty()) {
      crc = source_crc_;
    } else if (final && crc_known_) {
      crc = Crc32cBase64(FinalCrc(std::span<const std::byte>(tail_.data(), length)));
    }
    for (int n = 1;; ++n) {
      const std::span<const std::byte> bytes(tail_.data(), end - persisted_);
      Result<GcsReply> reply = SendChunkOnce(bytes, final, crc, stop);
      if (reply.ok()) {
        if (reply->status != 308) return Finished(*reply, crc);
        FERRY_RETURN_IF_ERROR(Kept(*reply, end));
        if (final) return Status::DataLoss("resumable upload: the service did not finish it");
        return Status::Ok();
      }
      if (!reply.status().transient() || n >= std::max(1, policy.max_attempts) ||
          stop.stop_requested()) {
        return reply.status();
      }
      client.CountRetry();
      client.clock().SleepFor(retry::BackoffDelay(policy, n, rest::RandomBits()), stop);
      if (stop.stop_requested()) return Status::Cancelled("cancelled while waiting to retry");
      FERRY_ASSIGN_OR_RETURN(GcsReply state, AskSession(stop));
      if (state.status != 308) return Finished(state, crc);
      FERRY_RETURN_IF_ERROR(Kept(state, end));
      // a chunk kept whole needs no resend; a final one still has to name the total
      if (!final && persisted_ == end) return Status::Ok();
    }
  }

  // One PUT of `bytes` at persisted_, no retries (SendChunk recovers); `crc`: the whole
  // object's, for the service to check it against.
  Result<GcsReply> SendChunkOnce(std::span<const std::byte> bytes, bool final,
                                 const std::optional<std::string>& crc,
                                 std::stop_token stop) {
    GcsCall call = backend_.CallFor("resumable upload", "PUT", name_);
    call.url = session_;
    call.also_ok = 308;
    call.single_attempt = true;
    const std::string total = final ? std::to_string(size_) : "*";
    call.headers.Set("Content-Range",
                     bytes.empty() ? "bytes */" + total
                                   : "bytes " + std::to_string(persisted_) + "-" +
                                         std::to_string(persisted_ + bytes.size() - 1) + "/" +
                                         total);
    // the service checks the whole object against ferry's CRC32C of the bytes it was given
    if (crc) call.headers.Set("X-Goog-Hash", "crc32c=" + *crc);
    call.body = bytes;
    return backend_.client().Send(call, stop);
  }

  // Where the session stands (`Content-Range: bytes */*`): 308 with the bytes kept, or the
  // object once it is finished.
  Result<GcsReply> AskSession(std::stop_token stop) {
    GcsCall call = backend_.CallFor("resumable upload status", "PUT", name_);
    call.url = session_;
    call.also_ok = 308;
    call.headers.Set("Content-Range", "bytes */*");
    return backend_.client().Send(call, stop);
  }

  // A 308's Range: the bytes kept, at least persisted_ and at most `end`; tail_ loses them.
  Status Kept(const GcsReply& reply, uint64_t end) {
    FERRY_ASSIGN_OR_RETURN(uint64_t kept, GcsPersisted(reply.headers));
    if (kept < persisted_ || kept > end) {
      return Status::Internal("resumable upload: the service keeps " + std::to_string(kept) +
                              " bytes, it had " + std::to_string(persisted_));
    }
    tail_.erase(tail_.begin(), tail_.begin() + static_cast<ptrdiff_t>(kept - persisted_));
    persisted_ = kept;
    return Status::Ok();
  }

  // The session ended with the object in `reply`: it must be the object sent (its size, and
  // `crc` when the whole object's CRC32C is known).
  Status Finished(const GcsReply& reply, const std::optional<std::string>& crc) {
    FERRY_ASSIGN_OR_RETURN(GcsObject o, ParseObjectResource(reply.body));
    if (o.info.size != size_) {
      return Status::DataLoss("resumable upload: the object has " + std::to_string(o.info.size) +
                              " bytes, not " + std::to_string(size_));
    }
    if (crc && !o.crc32c_base64.empty() && o.crc32c_base64 != *crc) {
      return Status::DataLoss("resumable upload: the object's CRC32C " + o.crc32c_base64 +
                              " is not that of the bytes sent");
    }
    persisted_ = size_;
    tail_.clear();
    finished_ = WriteResult{o.info.etag, ""};
    return Status::Ok();
  }

  // The whole object's CRC32C: crc_ covers the parts handed on before this one (next_ bytes);
  // the last part is in `bytes`' end, beyond next_.
  uint32_t FinalCrc(std::span<const std::byte> bytes) const {
    const uint64_t beyond = persisted_ + bytes.size() - next_;
    if (beyond == 0) return crc_;
    return checksum::Crc32cCombine(crc_, checksum::Crc32c(bytes.last(beyond)), beyond);
  }

  GcsBackend& backend_;
  const std::string name_;
  const uint64_t size_;
  const uint64_t part_size_;
  const std::string session_;
  std::mutex mu_;
  uint64_t next_ = 0;       // GUARDED_BY(mu_): the offset of the next part to hand on
  uint64_t persisted_ = 0;  // GUARDED_BY(mu_): the bytes the session keeps
  std::vector<std::byte> tail_;  // GUARDED_BY(mu_): bytes from persisted_ not kept yet
  uint32_t crc_ = 0;        // GUARDED_BY(mu_): CRC32C of bytes [0, next_)
  bool crc_known_ = true;   // GUARDED_BY(mu_): false once a part's CRC was not known
  std::string source_crc_;  // GUARDED_BY(mu_): a copied object's CRC32C (base64), else ""
  // GUARDED_BY(mu_): parts written before the one at next_, by offset (copies)
  std::map<uint64_t, std::vector<std::byte>> early_;
  Status failed_;           // GUARDED_BY(mu_): the first failure ends the upload
  std::optional<WriteResult> finished_;  // GUARDED_BY(mu_)
  State state_ = State::kOpen;
};

}  // namespace

Result<std::unique_ptr<ChunkWriter>> GcsBackend::OpenChunkWriter(std::string_view key,
                                                                 const WriteSpec& spec,
                                                                 uint64_t part_size,
                                                                 std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string name, ObjectName(key));
  if (part_size == 0) return Status::InvalidArgument("resumable upload: part size 0");
  GcsCall call = CallFor("resumable upload start", "POST", name);
  call.path = "/upload" + ObjectPath("");
  call.query = {{"uploadType", "resumable"}, {"name", name}};
  if (spec.if_absent) return Status::NotSupported("create-only chunked writes");
  const std::string resource = UploadResource(name, spec, {}, "", "");
  call.headers.Set("Content-Type", "application/json; charset=UTF-8");
  call.headers.Set("X-Upload-Content-Length", std::to_string(spec.size));
  if (!spec.content.content_type.empty()) {
    call.headers.Set("X-Upload-Content-Type", spec.content.content_type);
  }
  call.body = checksum::AsBytes(resource);
  FERRY_ASSIGN_OR_RETURN(GcsReply reply, client_.Send(call, stop));
  std::string session = reply.headers.Get("Location");
  if (session.empty()) {
    return Status::Internal("resumable upload start " + Describe() + std::string(key) +
                            ": the reply has no Location");
  }
  return std::unique_ptr<ChunkWriter>(
      std::make_unique<GcsChunkWriter>(*this, std::move(name), spec, part_size, session));
}

Result<std::unique_ptr<ChunkWriter>> GcsBackend::ResumeChunkWriter(std::string_view key,
                                                                   std::string_view upload_id,
                                                                   const WriteSpec& spec,
                                                                   uint64_t part_size,
                                                                   std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string name, ObjectName(key));
  const std::string session(upload_id);
  // the token goes only where this client's endpoint is, and a session of another object is
  // not this one's
  if (!SessionOf(session, client_.endpoint(), ObjectPath(""), name)) {
    return Status::NotFound("upload " + session.substr(0, 80) + " is no session of " +
                            Describe() + std::string(key));
  }
  GcsCall call = CallFor("resumable upload status", "PUT", name);
  call.url = session;
  call.also_ok = 308;
  call.headers.Set("Content-Range", "bytes */*");
  Result<GcsReply> reply = client_.Send(call, stop);
  const std::string gone = "upload session of " + Describe() + std::string(key);
  if (!reply.ok()) {
    const ErrorCode c = reply.status().code();
    // 404/410: the session expired or was cancelled; 400: the service refuses it (the emulator)
    if (c == ErrorCode::kNotFound || c == ErrorCode::kInvalidArgument) {
      return Status::NotFound(gone + " is gone: " + reply.status().message());
    }
    return reply.status();
  }
  if (reply->status != 308) {
    // finished: the object exists; a write that resumes it would change nothing
    return Status::NotFound(gone + " was committed");
  }
  FERRY_ASSIGN_OR_RETURN(uint64_t kept, GcsPersisted(reply->headers));
  auto writer = std::make_unique<GcsChunkWriter>(*this, std::move(name), spec, part_size, session);
  writer->StartAt(kept, std::nullopt);
  return std::unique_ptr<ChunkWriter>(std::move(writer));
}

Status GcsBackend::CancelSession(const std::string& session_uri, std::stop_token stop) {
  if (!session_uri.starts_with(client_.endpoint() + "/upload/")) return Status::Ok();
  GcsCall call = CallFor("resumable upload cancel", "DELETE", "");
  call.url = session_uri;
  call.also_ok = 499;  // GCS answers a cancelled session so
  Result<GcsReply> reply = client_.Send(call, stop);
  if (!reply.ok() && reply.status().code() == ErrorCode::kNotFound) return Status::Ok();
  return reply.status();
}

}  // namespace ferry::storage::gcs
