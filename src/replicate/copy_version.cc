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
#include "transfer/low_level_retries.h"
#include "transfer/part_size.h"
#include "transfer/resume.h"
#include "transfer/verify.h"

namespace ferry::replicate::internal {
namespace {

using storage::ObjectInfo;

// What the attempts at one version's chunked copy learnt of its source's multipart layout.
struct LayoutReads {
  std::optional<checksum::Md5Digest> earlier;  // the digest the last attempt's parts made
  bool unverified = false;  // the same bytes twice, in no layout that makes the ETag
};

// Reads [offset, offset + out.size()) of the version: by version id where the source has one,
// else the current object pinned to the listed ETag.
Status ReadPart(storage::Backend& src, const ObjectInfo& v, uint64_t offset,
                std::span<std::byte> out, std::stop_token stop) {
  if (out.empty()) return Status::Ok();
  if (!v.version_id.empty() && v.version_id != "null") {
    return src.ReadVersionAt(v.key, v.version_id, offset, out, stop);
  }
  return src.ReadAt(v.key, offset, out, v.etag, stop);
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

Status CheckDeclared(const ObjectInfo& v, uint32_t crc) {
  if (std::optional<uint32_t> declared = v.crc32c(); declared && *declared != crc) {
    return Status::DataLoss("CRC32C of the bytes read (" + checksum::Hex32(crc) +
                            ") differs from the one the source version declares (" +
                            checksum::Hex32(*declared) + ")");
  }
  return Status::Ok();
}

// One attempt at `copy`: the version read whole and written with one Put (the CRC32C and
// Content-MD5 of the bytes read are set in `copy.spec`).
Result<storage::WriteResult> CopyWhole(const PassOptions& o, VersionCopy& copy,
                                       LayoutReads& reads, std::stop_token stop) {
  const ObjectInfo& v = copy.version;
  ReadAhead* ahead = copy.ahead;
  transfer::BufferPool::Buffer read;
  std::span<const std::byte> data;
  if (ahead != nullptr && ahead->whole && ahead->data().size() == v.size) {
    data = ahead->data();
  } else {
    if (ahead != nullptr) ahead->buffer.Reset();  // one buffer per key at a time
    FERRY_ASSIGN_OR_RETURN(read, Borrow(o, v.size, stop));
    FERRY_RETURN_IF_ERROR(ReadPart(copy.src, v, 0, read.data(), stop));
    data = read.data();
  }
  const uint32_t crc = checksum::Crc32c(data);
  FERRY_RETURN_IF_ERROR(CheckDeclared(v, crc));
  const checksum::Md5Digest md5 = checksum::Md5(data);
  if (v.etag_is_md5() && checksum::Hex(md5) != v.etag) {
    return Status::DataLoss("MD5 of the bytes read differs from the source version's ETag " +
                            v.etag);
  }
  // A multipart ETag: the whole bytes are cut in every likely part layout (the store's own
  // where it tells it) until one makes the ETag (transfer/verify.h).
  const transfer::SourceCheck check = transfer::CheckOf(v);
  if (!check.crc32c && !check.md5) {
    transfer::WholeCheck verdict = transfer::CheckWhole(check, data, crc, false);
    if (verdict == transfer::WholeCheck::kUnverified && check.multipart) {
      Result<std::optional<uint64_t>> exact = copy.src.FirstPartSize(v, stop);
      if (exact.ok() && exact->has_value()) {
        verdict = transfer::CheckWhole(check, data, crc, false, **exact);
        if (verdict == transfer::WholeCheck::kUnverified) verdict = transfer::WholeCheck::kMismatch;
      }
    }
    if (verdict == transfer::WholeCheck::kMismatch) {
      return Status::DataLoss("the bytes read do not make the source version's ETag " + v.etag);
    }
    reads.unverified = verdict == transfer::WholeCheck::kUnverified;
  }
  copy.spec.metadata[storage::kMetaCrc32c] = checksum::Hex32(crc);
  copy.spec.content_md5 = checksum::Base64(md5);
  return copy.dst.Put(copy.key, data, copy.spec, stop);
}

// How a chunked copy proves a version that declares no CRC32C but a multipart ETag
// "<md5>-N" (transfer/verify.h): parts read in the source's layout (exact where the store
// tells it, else the likeliest size common tools use) give the MD5 digest of the ETag.
struct SourceLayout {
  uint64_t part = 0;  // 0: none (a CRC32C is declared, or no layout fits the destination)
  bool exact = false;
  checksum::Md5Digest digest{};
};

SourceLayout LayoutOf(storage::Backend& src, const storage::Backend& dst, const ObjectInfo& v,
                      std::stop_token stop) {
  const transfer::SourceCheck check = transfer::CheckOf(v);
  if (check.crc32c || !check.multipart) return {};
  SourceLayout l{.part = 0, .exact = false, .digest = *check.multipart};
  Result<std::optional<uint64_t>> first = src.FirstPartSize(v, stop);
  if (first.ok() && first->has_value()) {
    l.part = **first;
    l.exact = true;
  } else {
    const std::vector<uint64_t> likely = transfer::CandidatePartSizes(v.size, check.parts, 1);
    if (likely.empty()) return {};
    l.part = likely.front();
  }
  const storage::Features& f = dst.features();
  if (l.part < f.min_part_size || l.part > f.max_part_size ||
      (v.size + l.part - 1) / l.part > static_cast<uint64_t>(f.max_parts)) {
    return {};
  }
  return l;
}

// One attempt at `copy`: the version read and written in parts (a chunked write, RunParts).
// With a journal the upload is opened or resumed through it (transfer/resume.h): parts an
// interrupted attempt wrote are adopted, not read and sent again, and an attempt cancelled
// (its lease lost, its worker stopped) keeps its upload for the next one.
Result<storage::WriteResult> CopyChunked(const PassOptions& o, const VersionCopy& copy,
                                         LayoutReads& reads, PassStats& stats,
                                         std::stop_token stop) {
  const ObjectInfo& v = copy.version;
  ReadAhead* ahead = copy.ahead;
  transfer::UploadJournal* journal = copy.journal.get();
  const SourceLayout layout = LayoutOf(copy.src, copy.dst, v, stop);
  transfer::ResumeRequest request{
      .dst = &copy.dst,
      .dst_key = copy.key,
      .journal = journal,
      .pin = transfer::SourcePin(v.etag, v.version_id, v.size,
                                 std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     v.mtime.time_since_epoch())
                                     .count()),
      .size = v.size,
      .part_size = layout.part != 0 ? layout.part : PartSizeFor(o, copy.dst, v.size),
      .fixed_part_size = layout.part != 0,
      .server_side = false,
      .open = [&](uint64_t part_size) {
        return copy.dst.OpenChunkWriter(copy.key, copy.spec, part_size, stop);
      },
      .resume = [&](const std::string& upload_id, uint64_t part_size) {
        return copy.dst.ResumeChunkWriter(copy.key, upload_id, copy.spec, part_size, stop);
      }};
  FERRY_ASSIGN_OR_RETURN(transfer::ResumedUpload upload,
                         transfer::OpenOrResumeUpload(request, stop));
  stats.parts_resumed.fetch_add(static_cast<uint64_t>(upload.parts_resumed));
  stats.bytes_resumed.fetch_add(upload.bytes_resumed);
  storage::ChunkWriter& writer = *upload.writer;
  const uint64_t part = upload.part_size;
  // Only a cancelled attempt keeps its upload (its job is claimed again and resumes it): a
  // version that failed is recorded FAILED and its job ends, so nothing would resume it.
  auto fail = [&](Status s) {
    const bool keep = s.code() == ErrorCode::kCancelled;
    return transfer::EndFailedUpload(writer, journal, keep, std::move(s));
  };
  const size_t count = static_cast<size_t>(upload.parts);
  std::vector<uint32_t>& crcs = upload.part_crcs;
  std::vector<checksum::Md5Digest>& md5s = upload.part_md5s;
  // A part's MD5 (for the layout check) is the one the store computed of the bytes it received
  // (an S3 part's ETag; the payload is signed, so they are the bytes sent), as sync takes it;
  // computed here only where the store tells none: hashing every byte twice more cost
  // replication 1.8x sync's CPU for 4 x 1 GiB.
  auto part_md5 = [&](int number, std::span<const std::byte> bytes) {
    if (auto stored = transfer::ParseMd5Hex(writer.WrittenPartMd5(number))) return *stored;
    return checksum::Md5(bytes);
  };
  // Writes part `index` from `bytes` and checkpoints it.
  auto write_part = [&](size_t index, std::span<const std::byte> bytes, std::stop_token st) {
    const int number = static_cast<int>(index + 1);
    crcs[index] = checksum::Crc32c(bytes);
    FERRY_RETURN_IF_ERROR(writer.WriteChunk(number, index * part, bytes, st));
    std::string md5;
    if (layout.part != 0) {
      md5s[index] = part_md5(number, bytes);
      upload.md5_known[index] = 1;
      md5 = checksum::Hex(md5s[index]);
    }
    if (journal == nullptr) return Status::Ok();
    return journal->PartDone({number, crcs[index], bytes.size(), md5});
  };
  std::vector<size_t> todo;
  for (size_t i = 0; i < count; ++i) {
    if (!upload.adopted[i]) todo.push_back(i);
  }
  // The first part, read with the version's details, goes from this thread.
  if (ahead != nullptr && !ahead->whole && !todo.empty() && todo.front() == 0 &&
      ahead->data().size() == std::min(part, v.size)) {
    if (Status s = write_part(0, ahead->data(), stop); !s.ok()) return fail(s);
    todo.erase(todo.begin());
  }
  if (ahead != nullptr) ahead->buffer.Reset();  // one buffer per key at a time
  Status parts = RunParts(o, todo.size(), stop, [&](size_t i, std::stop_token part_stop) {
    const size_t index = todo[i];
    const uint64_t offset = index * part;
    const uint64_t length = std::min(part, v.size - offset);
    FERRY_ASSIGN_OR_RETURN(transfer::BufferPool::Buffer buffer, Borrow(o, length, part_stop));
    FERRY_RETURN_IF_ERROR(ReadPart(copy.src, v, offset, buffer.data(), part_stop));
    return write_part(index, buffer.data(), part_stop);
  });
  if (!parts.ok()) return fail(parts);
  if (layout.part != 0) {
    if (std::find(upload.md5_known.begin(), upload.md5_known.end(), 0) !=
        upload.md5_known.end()) {
      reads.unverified = true;  // resumed parts whose MD5 neither the store nor journal tells
    } else if (const checksum::Md5Digest digest = transfer::MultipartDigest(md5s);
               digest != layout.digest) {
      // With the store's own layout the bytes are not the source's. With a guessed one they
      // may be, in another layout: read again, and the same digest twice means the bytes read
      // are what the source holds (counted unverified); another one means a corrupted read.
      const bool same_as_before = reads.earlier && *reads.earlier == digest;
      reads.earlier = digest;
      if (layout.exact || !same_as_before) {
        return fail(Status::DataLoss(
            "the parts read do not make the source version's ETag " + v.etag +
            (layout.exact ? "" : " (in the likeliest part layout; read again to tell)")));
      }
      reads.unverified = true;
    }
  }
  uint32_t crc = crcs[0];
  for (size_t i = 1; i < count; ++i) {
    crc = checksum::Crc32cCombine(crc, crcs[i], std::min(part, v.size - i * part));
  }
  if (Status s = CheckDeclared(v, crc); !s.ok()) return fail(s);
  if (!v.crc32c()) writer.AddMetadataOnCommit({{storage::kMetaCrc32c, checksum::Hex32(crc)}});
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
  const uint64_t part = PartSizeFor(o, copy.dst, v.size);
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::ChunkWriter> writer,
                         copy.dst.OpenChunkWriter(copy.key, copy.spec, part, stop));
  auto fail = [&](Status s) {
    (void)writer->Abort();
    return s;
  };
  const size_t count = static_cast<size_t>((v.size + part - 1) / part);
  Status parts = RunParts(o, count, stop, [&](size_t i, std::stop_token part_stop) {
    const uint64_t offset = i * part;
    const uint64_t length = std::min(part, v.size - offset);
    return writer->CopyChunk(static_cast<int>(i + 1), copy.src, v, offset, length, part_stop)
        .WithContext("copying part " + std::to_string(i + 1));
  });
  if (!parts.ok()) return fail(parts);
  if (v.version_id.empty() || v.version_id == "null") {
    Result<ObjectInfo> now = copy.src.Stat(v.key, false, stop);
    if (!now.ok()) return fail(now.status().WithContext("stat source before completing"));
    if (now->etag != v.etag || now->size != v.size) {
      return fail(Status::FailedPrecondition("source " + v.key +
                                             " changed during the server-side copy"));
    }
  }
  Result<storage::WriteResult> done = writer->Commit(stop);
  if (!done.ok()) return fail(done.status());
  return done;
}

}  // namespace

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
  LayoutReads reads;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    VersionCopy attempt_copy = copy;  // the spec as given, for each attempt
    written = version.size > o.multipart_threshold && dst.features().chunked_write
                  ? CopyChunked(o, attempt_copy, reads, stats, stop)
                  : CopyWhole(o, attempt_copy, reads, stop);
    if (written.status().code() != ErrorCode::kDataLoss || stop.stop_requested()) break;
    if (copy.ahead != nullptr) copy.ahead->buffer.Reset();
    copy.ahead = nullptr;
  }
  if (written.ok()) stats.bytes.fetch_add(version.size);
  if (written.ok() && reads.unverified) {
    stats.unverified.fetch_add(1);
    obs::Log(obs::Level::kWarn, "replicated unverified: no common part size reproduces the "
             "source's multipart ETag (the same bytes were read twice)",
             {{"key", copy.key}, {"version", version.version_id}, {"etag", version.etag}});
  }
  return written;
}

}  // namespace ferry::replicate::internal
