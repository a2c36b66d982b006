// One version's bytes from a source to a destination (see pass.h, "Data path").
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "checksum/checksum.h"
#include "obs/log.h"
#include "replicate/pass_internal.h"
#include "replicate/replica.h"
#include "transfer/copy_bytes.h"
#include "transfer/low_level_retries.h"
#include "transfer/part_size.h"
#include "transfer/resume.h"
#include "transfer/verify.h"

namespace ferry::replicate::internal {
namespace {

using storage::ObjectInfo;

// What the attempts at one version's copy learnt: whether its bytes could be checked, and what
// the reads a check refused held.
struct CopyChecks {
  bool unverified = false;  // nothing the source declares could prove the bytes written
  std::string unverified_why;  // ... and why (UnverifiedReason): the warning says what is true
  std::optional<uint32_t> refused_crc;  // the CRC32C of the last read a check refused
  bool lasting = false;  // two reads alike were refused: the version's own (RefusedRead)
  // The version's ferry-crc32c refused the bytes of an attempt in parts: a claim that proved
  // nothing. Later attempts check their bytes against what the store computed (CopyChunked).
  bool claim_refused = false;
};

// What `v` declares that its bytes are checked against, for messages.
std::string DeclaredTextOf(const ObjectInfo& v) {
  std::string out;
  if (v.has_details && v.checksum && v.checksum->full_object()) {
    out = "x-amz-checksum-" + std::string(checksum::AlgorithmName(v.checksum->algorithm)) + " " +
          v.checksum->value;
  }
  if (std::optional<uint32_t> crc = v.crc32c()) {
    out += (out.empty() ? "" : ", ") + std::string("ferry-crc32c ") + checksum::Hex32(*crc);
  }
  return out.empty() ? "ETag " + v.etag : out;
}

// A read of `v` whose bytes (CRC32C `crc`) a check refused with `refusal` (kDataLoss). Refused
// once, the bytes may have been corrupted on the way: the caller reads again. Refused twice with
// the same bytes, the mismatch is the version's own, not the transfer's: what it declares is not
// what it holds (a ferry-crc32c that any writer set or a tool kept stale, or bytes damaged at
// rest). Then `checks.lasting`, and the message says so (IsLastingRefusal): recorded FAILED
// without holding back the key's newer versions, not read again by the next pass.
Status RefusedRead(const ObjectInfo& v, CopyChecks& checks, uint32_t crc, const Status& refusal) {
  const bool alike = checks.refused_crc == crc;
  checks.refused_crc = crc;
  if (!alike) return refusal;
  checks.lasting = true;
  return Status::DataLoss(std::string(kReadTwiceAlike) + " (CRC32C " + checksum::Hex32(crc) +
                          ") do not match what version " + VersionName(v) + " declares (" +
                          DeclaredTextOf(v) +
                          "): a stale or forged claim, or bytes damaged at rest, not a fault of "
                          "the transfer; nothing was written");
}

// Why nothing `v` declares could prove the bytes of a copy of it: the warning of an unverified
// copy says what is true of this version. `chunked`: copied in parts, whose ETag check read the
// parts a second time where it had a guessed layout to try (`layout_guessed`).
std::string UnverifiedReasonOf(const ObjectInfo& v, bool chunked, bool layout_guessed) {
  if (v.etag_opaque) {
    return "its ETag is not an MD5 of its bytes (encrypted with SSE-KMS or SSE-C) and it "
           "declares no checksum";
  }
  const transfer::SourceCheck check = transfer::CheckOf(v);
  if (check.multipart) {
    if (chunked && layout_guessed) {
      return "a multipart ETag (" + std::to_string(check.parts) +
             " parts) that the likeliest part size did not reproduce; its parts read the same "
             "twice";
    }
    if (chunked) {
      return "a multipart ETag (" + std::to_string(check.parts) +
             " parts) whose part layout this copy could not take";
    }
    return "a multipart ETag (" + std::to_string(check.parts) +
           " parts) that no common part size reproduces, and the store does not tell its layout";
  }
  if (v.etag.empty()) return "it has no ETag and declares no checksum";
  if (check.md5) {
    return "its MD5 ETag could not check the parts (adopted from an interrupted write, their "
           "MD5s not known), or bytes read twice alike did not make it";
  }
  return "its ETag (" + v.etag + ") is neither an MD5 nor a multipart ETag, and it declares no "
         "checksum";
}

// Key tasks waiting for their parts, in this process: at most half the executor's workers, so
// that the parts they wait for always find workers.
std::atomic<int> g_waiting_for_parts{0};

// Runs `part(i, stop)` for each i in [0, n) and returns the first failure (the rest are then
// cancelled). In parallel where a waiting place is free: the parts are priority tasks of the
// executor (parts before new objects, as sync's), queued on a TaskQueue of their own that this
// key's task waits for; else one after another on this thread. Each part borrows its own
// buffer, so the parts in flight are bounded by the executor's workers and its ByteBudget.
Status RunParts(const PassOptions& o, size_t n, std::stop_token stop,
                const std::function<Status(size_t, std::stop_token)>& part) {
  transfer::Executor& executor = *o.executor;
  const bool parallel = n > 1 && g_waiting_for_parts.fetch_add(1) < executor.concurrency() / 2;
  if (n > 1 && !parallel) g_waiting_for_parts.fetch_sub(1);
  if (!parallel) {
    for (size_t i = 0; i < n; ++i) {
      if (stop.stop_requested()) return Status::Cancelled("replication pass interrupted");
      FERRY_RETURN_IF_ERROR(part(i, stop));
    }
    return Status::Ok();
  }
  std::mutex mu;
  Status first;  // GUARDED_BY(mu)
  {
    std::unique_ptr<transfer::TaskQueue> parts = executor.Open();
    std::stop_callback cancel(stop, [&parts] { parts->Cancel(); });
    for (size_t i = 0; i < n; ++i) {
      parts->Push(
          [&, i](std::stop_token part_stop) {
            {
              std::lock_guard lock(mu);
              if (!first.ok()) return;
            }
            Status s = part_stop.stop_requested()
                           ? Status::Cancelled("replication pass interrupted")
                           : part(i, part_stop);
            if (s.ok()) return;
            std::lock_guard lock(mu);
            if (first.ok()) first = s;
            parts->Cancel();
          },
          /*priority=*/true);
    }
    parts->Wait();
  }
  g_waiting_for_parts.fetch_sub(1);
  return first;
}

// One attempt at `copy`: the version read whole and written with one Put (the CRC32C of the
// bytes read is set in `copy.spec`). No Content-MD5 of our own, as sync's writes: the S3
// client sends one where the payload is not signed, and a signed payload's SHA-256 already
// makes the store refuse a body that is not the one sent (bench-replicate-memory, 12 x 48 MiB:
// 3.34 s of CPU with an MD5 of every byte, 2.26 s without; sync 1.24-1.32 s).
Result<storage::WriteResult> CopyWhole(const PassOptions& o, VersionCopy& copy,
                                       CopyChecks& checks, std::stop_token stop) {
  const ObjectInfo& v = copy.version;
  ReadAhead* ahead = copy.ahead;
  transfer::BufferPool::Buffer read;
  std::span<const std::byte> data;
  if (ahead != nullptr && ahead->whole && ahead->data().size() == v.size) {
    data = ahead->data();
  } else {
    if (ahead != nullptr) ahead->buffer.Reset();  // one buffer per key at a time
    FERRY_ASSIGN_OR_RETURN(read, Borrow(o, v.size, stop));
    FERRY_RETURN_IF_ERROR(transfer::ReadPinned(copy.src, v, 0, read.data(), stop));
    data = read.data();
  }
  const uint32_t crc = checksum::Crc32c(data);
  const transfer::WholeCheck verdict = transfer::CheckRead(copy.src, v, data, crc, false, stop);
  if (verdict == transfer::WholeCheck::kMismatch) {
    return RefusedRead(
        v, checks, crc,
        Status::DataLoss("the bytes read do not match what the source version declares (" +
                         DeclaredTextOf(v) +
                         "): corrupted on the way? read again; nothing was written"));
  }
  checks.unverified = verdict == transfer::WholeCheck::kUnverified;
  if (checks.unverified) checks.unverified_why = UnverifiedReasonOf(v, false, false);
  copy.spec.metadata[storage::kMetaCrc32c] = checksum::Hex32(crc);
  return copy.dst.Put(copy.key, data, copy.spec, stop);
}

// The upload of a chunked copy, opened or resumed through the copy's journal (the source
// pinned to the version's ETag, id, size and mtime).
Result<transfer::ResumedUpload> OpenChunkedUpload(VersionCopy& copy,
                                                  const transfer::PartLayout& layout,
                                                  std::stop_token stop) {
  const ObjectInfo& v = copy.version;
  transfer::ResumeRequest request{
      .dst = &copy.dst,
      .dst_key = copy.key,
      .journal = copy.journal.get(),
      .pin = transfer::SourcePin(v.etag, v.version_id, v.size,
                                 std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     v.mtime.time_since_epoch())
                                     .count()),
      .size = v.size,
      .part_size = layout.part_size,
      .fixed_part_size = layout.verify,
      .server_side = false,
      .open = [&](uint64_t part_size) {
        return copy.dst.OpenChunkWriter(copy.key, copy.spec, part_size, stop);
      },
      .resume = [&](const std::string& upload_id, uint64_t part_size) {
        return copy.dst.ResumeChunkWriter(copy.key, upload_id, copy.spec, part_size, stop);
      }};
  return transfer::OpenOrResumeUpload(request, stop);
}

// Whether the parts sent are the version's bytes, before the commit: against the ferry-crc32c
// when it still counts (`check.crc32c`), else the version's declared full-object CRC or its
// ETag's layout, and a claim refused once only where nothing the store computed can tell. An
// error is the attempt's failure (RefusedRead: twice alike is the version's own); OK sets
// `checks` (verified or why not) and the CRC32C the commit writes.
Status ProveChunkedParts(const ObjectInfo& v, transfer::PartCopy& parts,
                         const transfer::SourceCheck& check, std::optional<uint32_t> claim,
                         const transfer::PartLayout& layout, CopyChecks& checks,
                         std::stop_token stop) {
  const uint32_t crc = parts.Crc32c();
  if (check.crc32c) {
    if (*check.crc32c != crc) {
      checks.claim_refused = true;
      return RefusedRead(
          v, checks, crc,
          Status::DataLoss("CRC32C of the parts read (" + checksum::Hex32(crc) +
                           ") differs from the ferry-crc32c the source version declares (" +
                           checksum::Hex32(*check.crc32c) +
                           "): corrupted on the way? read again"));
    }
  } else {
    // The version's declared full-object CRC where it has one, else its ETag's layout.
    Result<std::optional<bool>> declared = transfer::CheckDeclaredParts(parts, check);
    if (!declared.ok()) return declared.status();
    if (!declared->has_value()) {
      Result<bool> verified = transfer::CheckParts(parts, check, layout, stop);
      if (!verified.ok()) return verified.status();
      if (!*verified && claim) {
        // The claim refused an earlier attempt and nothing the store computed can tell: bytes
        // that match it now are proven by it; others are refused again (twice alike: lasting).
        if (*claim != crc) {
          return RefusedRead(
              v, checks, crc,
              Status::DataLoss("CRC32C of the parts read (" + checksum::Hex32(crc) +
                               ") differs from the ferry-crc32c the source version declares (" +
                               checksum::Hex32(*claim) + ") and nothing the store computed "
                               "can tell: read again"));
        }
        *verified = true;
      }
      checks.unverified = !*verified;
      if (checks.unverified) {
        checks.unverified_why = UnverifiedReasonOf(v, true, layout.verify && !layout.exact);
      }
    }
    parts.upload.writer->AddMetadataOnCommit({{storage::kMetaCrc32c, checksum::Hex32(crc)}});
  }
  return Status::Ok();
}

// One attempt at `copy`: the version read and written in parts, moved as sync's are
// (transfer::PartCopy), each part a task of the executor (RunParts). A source that declares no
// CRC32C is cut in its multipart layout where one is known or likely (transfer::ChooseLayout)
// and its parts checked against its ETag before the commit (transfer::CheckParts). A
// ferry-crc32c is a writer's claim: bytes that match it are proven (no ETag work), but one that
// refused them once decides nothing more: the next attempt checks its bytes against what the
// store computed (its x-amz-checksum, its ETag), as if it had no claim, and does not write the
// claim again. With neither able to tell, bytes read twice alike that contradict the claim are
// the version's own (RefusedRead: a lasting failure). With a
// journal the upload is opened or resumed through it (transfer/resume.h): parts an interrupted
// attempt wrote are adopted, not read and sent again, and an attempt cancelled (its lease lost,
// its worker stopped) keeps its upload for the next one.
Result<storage::WriteResult> CopyChunked(const PassOptions& o, VersionCopy& copy,
                                         CopyChecks& checks, PassStats& stats,
                                         std::stop_token stop) {
  const ObjectInfo& v = copy.version;
  ReadAhead* ahead = copy.ahead;
  transfer::UploadJournal* journal = copy.journal.get();
  transfer::SourceCheck check = transfer::CheckOf(v);
  const std::optional<uint32_t> claim = check.crc32c;
  if (checks.claim_refused && claim) {
    check.crc32c.reset();
    copy.spec.metadata.erase(std::string(storage::kMetaCrc32c));
  }
  transfer::PartLayout layout{.part_size = PartSizeFor(o, copy.dst, v.size)};
  if (!check.crc32c) {
    layout = transfer::ChooseLayout(copy.src, copy.dst.features(), check, v, layout.part_size,
                                    stop);
  }
  FERRY_ASSIGN_OR_RETURN(transfer::ResumedUpload upload,
                         OpenChunkedUpload(copy, layout, stop));
  stats.parts_resumed.fetch_add(static_cast<uint64_t>(upload.parts_resumed));
  stats.bytes_resumed.fetch_add(upload.bytes_resumed);
  transfer::PartCopy parts{.src = &copy.src,
                           .object = v,
                           .upload = std::move(upload),
                           .journal = journal,
                           .buffers = &o.executor->buffers(),
                           .track_md5 = !check.crc32c && !transfer::DeclaredCrcOf(check) &&
                                        (layout.verify || check.md5)};
  parts.TrackDeclaredCrc(transfer::DeclaredCrcOf(check));
  storage::ChunkWriter& writer = *parts.upload.writer;
  // Only a cancelled attempt keeps its upload (its job is claimed again and resumes it): a
  // version that failed is recorded FAILED and its job ends, so nothing would resume it.
  auto fail = [&](Status s) {
    const bool keep = s.code() == ErrorCode::kCancelled;
    return transfer::EndFailedUpload(writer, journal, keep, std::move(s));
  };
  std::vector<int> todo = parts.Missing();
  // The first part, read with the version's details, goes from this thread.
  if (ahead != nullptr && !ahead->whole && !todo.empty() && todo.front() == 1 &&
      ahead->data().size() == parts.Length(1)) {
    if (Status s = parts.SendBytes(1, ahead->data(), stop); !s.ok()) return fail(s);
    todo.erase(todo.begin());
  }
  if (ahead != nullptr) ahead->buffer.Reset();  // one buffer per key at a time
  Status sent = RunParts(o, todo.size(), stop, [&](size_t i, std::stop_token part_stop) {
    return parts.Send(todo[i], part_stop).WithContext("part " + std::to_string(todo[i]));
  });
  if (!sent.ok()) return fail(sent);
  if (Status proven = ProveChunkedParts(copy.version, parts, check, claim, layout, checks, stop);
      !proven.ok()) {
    return fail(proven);
  }
  Result<storage::WriteResult> done = writer.Commit(stop);
  if (!done.ok()) return fail(done.status());
  if (journal != nullptr) (void)journal->Clear();
  return done;
}

// A version above the single-copy limit, copied on the server in parts (UploadPartCopy with
// the source's versionId, each part pinned to the version's ETag): metadata, headers, storage
// class and tags are set when the upload is created (tags by the writer's commit where the
// store ignores them there). An unversioned source ("null") is checked unchanged before the
// upload completes, as sync does: servers may ignore the If-Match of part copies.
Result<storage::WriteResult> CopyPartsOnServer(const PassOptions& o, const VersionCopy& copy,
                                               std::stop_token stop) {
  const ObjectInfo& v = copy.version;
  transfer::ResumeRequest request{
      .dst = &copy.dst,
      .dst_key = copy.key,
      .journal = nullptr,
      .pin = {},
      .size = v.size,
      .part_size = PartSizeFor(o, copy.dst, v.size),
      .fixed_part_size = false,
      .server_side = true,
      .open = [&](uint64_t part_size) {
        return copy.dst.OpenChunkWriter(copy.key, copy.spec, part_size, stop);
      },
      .resume = nullptr};
  FERRY_ASSIGN_OR_RETURN(transfer::ResumedUpload upload,
                         transfer::OpenOrResumeUpload(request, stop));
  transfer::PartCopy parts{.src = &copy.src,
                           .object = v,
                           .upload = std::move(upload),
                           .buffers = &o.executor->buffers()};
  storage::ChunkWriter& writer = *parts.upload.writer;
  auto fail = [&](Status s) {
    (void)writer.Abort();
    return s;
  };
  const std::vector<int> todo = parts.Missing();
  Status copied = RunParts(o, todo.size(), stop, [&](size_t i, std::stop_token part_stop) {
    return parts.CopyOnServer(todo[i], part_stop)
        .WithContext("copying part " + std::to_string(todo[i]));
  });
  if (!copied.ok()) return fail(copied);
  if (v.version_id.empty() || v.version_id == "null") {
    if (Status s = transfer::CheckSourceUnchanged(copy.src, v, stop); !s.ok()) return fail(s);
  }
  Result<storage::WriteResult> done = writer.Commit(stop);
  if (!done.ok()) return fail(done.status());
  return done;
}

}  // namespace

bool IsLastingRefusal(const Status& s) {
  return s.code() == ErrorCode::kDataLoss &&
         s.message().find(kReadTwiceAlike) != std::string::npos;
}

bool IsLastingRefusal(const VersionStatus& row) {
  return row.state == VersionState::kFailed &&
         row.error_code == ErrorCodeName(ErrorCode::kDataLoss) &&
         row.message.find(kReadTwiceAlike) != std::string::npos;
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 200;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kDataLoss:
      return 400;
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kFailedPrecondition:
      return 412;
    case ErrorCode::kNotSupported:
      return 501;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kCancelled:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

uint64_t PartSizeFor(const PassOptions& o, const storage::Backend& dst, uint64_t size) {
  return transfer::PartSizeFor(o.part_size, dst.features(), size);
}

bool CopiesOnServer(const PassOptions& o, storage::Backend& src, storage::Backend& dst,
                    uint64_t size) {
  if (!dst.CanCopyFrom(src)) return false;
  return size <= SingleCopyLimit(o, dst) || dst.features().chunked_write;
}

uint64_t SingleCopyLimit(const PassOptions& o, const storage::Backend& dst) {
  return std::min(o.server_side_copy_limit, dst.features().max_single_put);
}

Result<transfer::BufferPool::Buffer> Borrow(const PassOptions& o, uint64_t size,
                                            std::stop_token stop) {
  if (o.executor == nullptr) return Status::Internal("replication pass without an executor");
  std::optional<transfer::BufferPool::Buffer> b = o.executor->buffers().Borrow(size, stop);
  if (!b) return Status::Cancelled("replication pass interrupted");
  return std::move(*b);
}

Result<ReadAhead> ReadVersionAhead(const PassOptions& o, storage::Backend& src,
                                   storage::Backend& dst, const ObjectInfo& v,
                                   std::stop_token stop) {
  ReadAhead ahead;
  ahead.whole = !(v.size > o.multipart_threshold && dst.features().chunked_write);
  FERRY_ASSIGN_OR_RETURN(
      ahead.buffer,
      Borrow(o, ahead.whole ? v.size : std::min(PartSizeFor(o, dst, v.size), v.size), stop));
  if (!v.version_id.empty() && v.version_id != "null") {
    FERRY_ASSIGN_OR_RETURN(ahead.details, src.ReadVersionWithDetails(v.key, v.version_id, 0,
                                                                     ahead.data(), true, stop));
  } else if (ahead.whole) {
    FERRY_ASSIGN_OR_RETURN(ahead.details, src.ReadObject(v.key, ahead.data(), v.etag, stop));
  } else {
    FERRY_ASSIGN_OR_RETURN(ahead.details, src.Stat(v.key, true, stop));
    if (ahead.details.etag != v.etag && !v.etag.empty()) {
      return Status::FailedPrecondition("object " + v.key + " changed since it was listed");
    }
    FERRY_RETURN_IF_ERROR(src.ReadAt(v.key, 0, ahead.data(), v.etag, stop));
  }
  if (ahead.details.size != v.size) {
    return Status::FailedPrecondition("version " + v.key + " has " +
                                      std::to_string(ahead.details.size) +
                                      " bytes, the listing said " + std::to_string(v.size));
  }
  return ahead;
}

Result<storage::WriteResult> CopyVersion(const PassOptions& o, VersionCopy copy,
                                         PassStats& stats, std::stop_token stop) {
  storage::Backend& src = copy.src;
  storage::Backend& dst = copy.dst;
  const ObjectInfo& version = copy.version;
  copy.spec.size = version.size;
  if (dst.CanCopyFrom(src) && version.size <= SingleCopyLimit(o, dst)) {
    Result<storage::WriteResult> copied =
        dst.CopyFromWithSpec(src, version, copy.key, copy.spec, stop);
    if (copied.ok()) {
      stats.server_side.fetch_add(1);
      stats.bytes.fetch_add(version.size);
      return copied;
    }
    if (copied.status().code() != ErrorCode::kNotSupported) return copied.status();
  } else if (dst.CanCopyFrom(src) && dst.features().chunked_write) {
    Result<storage::WriteResult> copied = CopyPartsOnServer(o, copy, stop);
    if (copied.ok()) {
      stats.server_side.fetch_add(1);
      stats.server_side_parts.fetch_add(1);
      stats.bytes.fetch_add(version.size);
      return copied;
    }
    if (copied.status().code() != ErrorCode::kNotSupported) return copied.status();
  }
  // Bytes corrupted on the way (a check refuses them, nothing is written) are read again, up to
  // --low-level-retries times, as sync does; the bytes read ahead are then not used again.
  const int attempts = 1 + transfer::LowLevelRetries();
  Result<storage::WriteResult> written = Status::Internal("not written");
  CopyChecks checks;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    VersionCopy attempt_copy = copy;  // the spec as given, for each attempt
    written = version.size > o.multipart_threshold && dst.features().chunked_write
                  ? CopyChunked(o, attempt_copy, checks, stats, stop)
                  : CopyWhole(o, attempt_copy, checks, stop);
    if (written.status().code() != ErrorCode::kDataLoss || checks.lasting ||
        stop.stop_requested()) {
      break;
    }
    if (copy.ahead != nullptr) copy.ahead->buffer.Reset();
    copy.ahead = nullptr;
  }
  if (written.ok()) stats.bytes.fetch_add(version.size);
  if (written.ok() && checks.unverified) {
    stats.unverified.fetch_add(1);
    obs::Log(obs::Level::kWarn,
             "replicated unverified: nothing the source version declares could check the "
             "bytes (" + checks.unverified_why + ")",
             {{"key", copy.key}, {"version", version.version_id}, {"etag", version.etag}});
  }
  return written;
}

}  // namespace ferry::replicate::internal
