// TransferEngine: one object from decision to destination: details when the planner needs
// them, then a whole-object copy, a server-side copy or the start of a multipart upload.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "checksum/checksum.h"
#include "transfer/content.h"
#include "transfer/copy_bytes.h"
#include "transfer/engine.h"
#include "transfer/low_level_retries.h"
#include "transfer/part_size.h"
#include "transfer/verify.h"
#include "obs/log.h"

namespace ferry::transfer {

namespace {

std::string MtimeNs(std::chrono::system_clock::time_point t) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

}  // namespace

void TransferEngine::RunCopy(CopyRequest& r, std::stop_token stop) {
  // A source that changed since it was listed (the read or copy pinned to its ETag fails with
  // kFailedPrecondition) is looked at again and its current version copied; one deleted since
  // (kNotFound) is looked at again and, gone, skipped.
  constexpr int kRounds = 3;
  if (options_.may_start && !options_.may_start(r)) {
    if (r.done) r.done(Status::Cancelled("not started: the run was cut"));
    return;
  }
  for (int round = 1;; ++round) {
    if (stop.stop_requested()) return Complete(r, nullptr, Status::Cancelled("cancelled"), 0);
    if (r.need_details) {
      bool done = false;
      Status s = Refresh(r, stop, done);
      if (!s.ok() || done) return Complete(r, nullptr, s, 0);
    }
    // An archived source is read only from a restored copy (archived.cc).
    if (HoldArchived(r, stop)) return;
    if (options_.dry_run) {
      obs::Log(obs::Level::kInfo, "would copy", {{"key", r.src.key}, {"reason", r.reason}});
      return Complete(r, "would copy", Status::Ok(), r.src.size);
    }
    const bool large = r.src.size >= options_.multipart_threshold;
    // What a write asks for that the listing does not say (the source's retention) or that a
    // server-side copy only takes with new metadata (an ACL is never copied, retention not by
    // S3): the source's details, read once. A whole-object copy reads them with the bytes.
    const bool spec_from_details = WritesFromDetails();
    if (spec_from_details && !r.src.has_details && (large || server_side_)) {
      auto details = src_.Stat(r.src.key, /*with_tags=*/false, stop);
      if (!details.ok() && details.status().code() == ErrorCode::kNotFound &&
          r.src.unreadable.empty() && round < kRounds) {
        r.need_details = true;  // deleted since listed: looked at again
        continue;
      }
      if (!details.ok()) return Complete(r, nullptr, details.status().WithContext("stat"), 0);
      stats_.details_fetched += 1;
      const auto listed_mtime = r.src.mtime;
      const bool same = details->etag == r.src.etag && details->size == r.src.size;
      r.src = std::move(details).value();
      if (same) r.src.mtime = listed_mtime;
    }
    if (options_.preserve_acl) {
      // --preserve-acl: the source's own grants, read for each copy (they may have changed).
      Result<storage::WriteAcl> acl = src_.ReadAcl(r.src, stop);
      if (!acl.ok() && acl.status().code() == ErrorCode::kNotFound && r.src.unreadable.empty() &&
          round < kRounds) {
        r.need_details = true;  // deleted since listed: looked at again
        continue;
      }
      if (!acl.ok()) return Complete(r, nullptr, acl.status(), 0);
      r.src.acl = *std::move(acl);
    }
    // One CopyObject is the cheapest copy there is (RGW copies only the manifest); above the
    // single-request limit the object is copied in parts on the server.
    const uint64_t single_copy_limit =
        std::min(options_.server_side_copy_limit, dst_.features().max_single_put);
    const char* what = "copied";
    Status s;
    if (server_side_ && r.src.size <= single_copy_limit) {
      what = "copied (server-side)";
      s = r.before_write ? r.before_write() : Status::Ok();
      if (s.ok()) s = CopyServerSide(r.src, r.destination_key(), stop);
    } else if ((large || server_side_) && dst_.features().chunked_write) {
      s = StartMultipart(r, server_side_, stop);
      if (s.ok()) return;  // the last part finishes the object
    } else {
      s = CopyWhole(r, stop);
    }
    // A source the listing found unreadable is never "deleted since": its error stands.
    if ((s.code() == ErrorCode::kFailedPrecondition || s.code() == ErrorCode::kNotFound) &&
        r.src.unreadable.empty() && round < kRounds) {
      r.need_details = true;  // changed or deleted since listed: the next round stats it again
      continue;
    }
    return Complete(r, s.ok() ? what : nullptr, s, r.src.size);
  }
}

// Looks at both sides again (the listing could not decide, or the source changed since): the
// source's current version, decided again. `done` when nothing is left to copy (unchanged, or
// the source is gone: a key deleted since it was listed has nothing to copy).
Status TransferEngine::Refresh(CopyRequest& r, std::stop_token stop, bool& done) {
  // Tags only when the planner compares what describes the objects (same bytes, newer source).
  bool with_tags = r.reason == plan::kReasonCompareMetadata;
  Result<storage::ObjectInfo> src = Status::Internal("not looked at");
  Result<storage::ObjectInfo> dst = Status::Internal("not looked at");
  plan::Decision again;
  for (int look = 1; look <= 2; ++look) {
    src = src_.Stat(r.src.key, with_tags, stop);
    if (!src.ok() && src.status().code() == ErrorCode::kNotFound && r.src.unreadable.empty()) {
      done = true;
      r.reason = "source gone";
      Skipped(r);
      return Status::Ok();
    }
    if (!src.ok()) return src.status().WithContext("stat");
    stats_.details_fetched += 1;
    dst = dst_.Stat(r.destination_key(), with_tags, stop);
    if (!dst.ok() && dst.status().code() != ErrorCode::kNotFound) {
      return dst.status().WithContext("stat destination");
    }
    stats_.details_fetched += 1;
    again = plan::Decide(&src.value(), dst.ok() ? &dst.value() : nullptr, options_.decide);
    if (with_tags || again.verdict != plan::Verdict::kNeedDetails ||
        again.reason != plan::kReasonCompareMetadata) {
      break;
    }
    with_tags = true;  // details showed the same bytes and a newer source: look at the tags
  }
  const storage::ObjectInfo* d = dst.ok() ? &dst.value() : nullptr;
  if (again.verdict == plan::Verdict::kNeedDetails && again.reason == plan::kReasonCompareContent &&
      src->archive.archived && !src->archive.readable()) {
    // An archived source cannot be read to compare: it is restored (or reported) as a copy,
    // and compared once readable (PollRestores asks for details again).
    again = plan::Decision{plan::Verdict::kCopy, std::string(plan::kReasonCompareContent)};
  }
  if (again.verdict == plan::Verdict::kNeedDetails && again.reason == plan::kReasonCompareContent) {
    // --checksum: read what is missing and compare content.
    auto same = SameContent({.backend = src_, .object = src.value()},
                            {.backend = dst_, .object = *d}, budget_, options_.part_size, stop);
    if (!same.ok()) return same.status().WithContext("compare content");
    again = *same ? plan::Decision{plan::Verdict::kSkip, std::string(plan::kReasonSameContent)}
                  : plan::Decision{plan::Verdict::kCopy, std::string(plan::kReasonContentDiffers)};
  }
  if (again.verdict == plan::Verdict::kNeedDetails) {
    return Status::Internal("planner still undecided after stat: " + again.reason);
  }
  if (again.verdict != plan::Verdict::kCopy) {
    done = true;
    r.reason = again.reason;  // what the closer look compared: the report's checksum
    Skipped(r);
    return Status::Ok();
  }
  r.reason = again.reason;
  r.need_details = false;
  // The listing's mtime keeps the nanoseconds of a file; a source that changed has a new one.
  const storage::ObjectInfo listed = r.src;
  r.src = std::move(src).value();
  if (r.src.size == listed.size && r.src.etag == listed.etag) r.src.mtime = listed.mtime;
  return Status::Ok();
}

void TransferEngine::Skipped(const CopyRequest& r) {
  stats_.objects_skipped += 1;
  stats_.objects_planned -= 1;
  stats_.bytes_planned -= r.src.size;
}

Status TransferEngine::CopyServerSide(const storage::ObjectInfo& src, const std::string& dst_key,
                                      std::stop_token stop) {
  // Retention and ACLs are not copied by S3's COPY directive: the copy then replaces the
  // metadata with the source's details (fetched by RunCopy) and asks for them.
  auto etag = WritesFromDetails()
                  ? dst_.CopyFromWithSpec(src_, src, dst_key, SpecFor(src, src.crc32c()), stop)
                  : dst_.CopyFrom(src_, src, dst_key, options_.storage_class, stop);
  if (!etag.ok()) return etag.status().WithContext("server-side copy of " + src.key);
  stats_.objects_server_side += 1;
  stats_.bytes_moved += src.size;
  return Status::Ok();
}

Status TransferEngine::CopyWhole(CopyRequest& request, std::stop_token stop) {
  const storage::ObjectInfo& listed = request.src;
  // The GET writes into the buffer and the PUT sends from it (no other copy).
  std::optional<BufferPool::Buffer> buffer = executor_.buffers().Borrow(listed.size, stop);
  if (!buffer) return Status::Cancelled("cancelled");
  const std::span<std::byte> data = buffer->data();
  // Bytes corrupted on the way (a checksum refuses them) are read and sent again, up to
  // --low-level-retries times.
  const int attempts = 1 + LowLevelRetries();
  Status s;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    s = CopyWholeOnce(request, data, stop);
    if (s.code() != ErrorCode::kDataLoss || attempt == attempts || stop.stop_requested()) break;
    stats_.checksum_retries += 1;
  }
  return s;
}

// One read and one write of a whole object. Nothing is written unless the bytes read match what
// the source declares (or the destination checks them itself: Content-MD5).
Status TransferEngine::CopyWholeOnce(CopyRequest& request, std::span<std::byte> data,
                                     std::stop_token stop) {
  const storage::ObjectInfo& listed = request.src;
  const std::string& dst_key = request.destination_key();
  auto read = src_.ReadObject(listed.key, data, listed.etag, stop);
  if (!read.ok()) return read.status().WithContext("read " + src_.Describe() + listed.key);
  const storage::ObjectInfo& src = read.value();
  const uint32_t crc = checksum::Crc32c(data);
  const SourceCheck check = CheckOf(src);
  const bool destination_checks_md5 = !check.crc32c && check.md5 &&
                                      dst_.features().verifies_content_md5;
  const WholeCheck verdict = CheckRead(src_, src, data, crc, destination_checks_md5, stop);
  if (verdict == WholeCheck::kMismatch) {
    return Status::DataLoss("bytes read from " + src_.Describe() + listed.key +
                            " do not match the source's " +
                            (check.declared ? std::string(checksum::AlgorithmName(
                                                  check.declared->algorithm)) +
                                                  " " + check.declared->value +
                                                  " (corrupted on the way)"
                             : check.md5 || !check.crc32c
                                 ? "ETag " + src.etag + " (corrupted on the way)"
                                 : "recorded ferry-crc32c " + checksum::Hex32(*check.crc32c) +
                                       " (a claim: corrupted on the way, or the claim is stale)") +
                            "; nothing was written");
  }
  storage::ObjectInfo merged = src;
  merged.mtime = listed.mtime;  // listing mtime is the object's; keep ns precision of files
  merged.acl = listed.acl;      // read by RunCopy (--preserve-acl)
  storage::WriteSpec spec = SpecFor(merged, crc);
  if (destination_checks_md5) {
    // The destination refuses (BadDigest) a body that is not the source's: no MD5 here.
    spec.content_md5 = checksum::Base64(*check.md5);
  }
  if (request.before_write) FERRY_RETURN_IF_ERROR(request.before_write());
  Result<storage::WriteResult> etag = Status::Internal("not written");
  Status written = WriteDegrading(spec, [&](const storage::WriteSpec& s) {
    etag = dst_.Put(dst_key, data, s, stop);
    return etag.status();
  });
  if (!written.ok()) return written.WithContext("write " + dst_.Describe() + dst_key);
  if (src.etag_is_md5()) {
    storage::ObjectInfo written;
    written.etag = etag.value().etag;
    if (written.etag_is_md5() && written.etag != src.etag) {
      return Status::DataLoss("content of " + listed.key + " differs from the source's MD5 " +
                              src.etag + " (destination stored " + written.etag + ")");
    }
  }
  if (src.etag_opaque) stats_.objects_etag_encrypted += 1;
  // A local file read is the source itself; a remote object read unchecked is reported.
  request.unverified = verdict == WholeCheck::kUnverified && !src_.features().cheap_reads;
  if (request.unverified) stats_.objects_unverified += 1;
  stats_.bytes_moved += listed.size;
  return Status::Ok();
}

storage::WriteSpec TransferEngine::SpecFor(const storage::ObjectInfo& src,
                                           std::optional<uint32_t> crc) const {
  storage::WriteSpec spec;
  spec.size = src.size;
  spec.content = src.content;
  spec.metadata = src.metadata;
  ApplyOverrides(options_.overrides, spec);
  if (crc) spec.metadata[storage::kMetaCrc32c] = checksum::Hex32(*crc);
  // The original modification time travels with the object across hops.
  spec.metadata[storage::kMetaMtime] = MtimeNs(src.source_mtime());
  spec.tags = src.tags;
  spec.storage_class = options_.storage_class.empty() ? src.storage_class : options_.storage_class;
  if (!dst_.features().storage_class) spec.storage_class.clear();
  spec.mtime = src.source_mtime();
  spec.defer_durability = options_.defer_durability;
  if (options_.preserve_lock) spec.lock = src.lock;
  spec.acl = options_.preserve_acl && src.acl ? *src.acl : options_.acl;
  // The additional checksum: the one asked for, else the source's. A whole-object write sends
  // the source's value when it is the same algorithm: the bytes were checked against it.
  spec.checksum_algorithm = options_.checksum_algorithm;
  if (!spec.checksum_algorithm && src.checksum) spec.checksum_algorithm = src.checksum->algorithm;
  if (spec.checksum_algorithm && src.checksum && src.checksum->full_object() &&
      src.checksum->algorithm == *spec.checksum_algorithm) {
    spec.checksum_value = src.checksum->value;
  }
  return spec;
}

bool TransferEngine::WritesFromDetails() const {
  // Retention and ACLs are not copied by S3's COPY directive, nor metadata overrides or a new
  // checksum algorithm: a server-side copy then replaces the metadata with the source's
  // details, which a copy in parts reads first.
  return options_.preserve_lock || !options_.acl.empty() || options_.preserve_acl ||
         options_.overrides.any() || options_.checksum_algorithm.has_value();
}

void ApplyOverrides(const MetadataOverrides& overrides, storage::WriteSpec& spec) {
  if (overrides.replace) {
    spec.content = {};
    std::erase_if(spec.metadata, [](const auto& entry) { return !entry.first.starts_with("ferry-"); });
  }
  for (const auto& [name, value] : overrides.metadata) spec.metadata[name] = value;
  if (!overrides.content_type.empty()) spec.content.content_type = overrides.content_type;
}

void TransferEngine::Degrade(storage::WriteSpec& spec) {
  if (no_class_ && !spec.storage_class.empty() && options_.storage_class.empty()) {
    spec.storage_class.clear();
    stats_.classes_not_kept += 1;
  }
  if (no_tags_ && spec.tags && !spec.tags->empty()) {
    spec.tags.reset();
    stats_.tags_not_kept += 1;
  }
}

Status TransferEngine::WriteDegrading(storage::WriteSpec& spec,
                                      const std::function<Status(const storage::WriteSpec&)>& write) {
  Degrade(spec);
  const Status refused = write(spec);
  // Only the source's own class may be left out: --storage-class given explicitly fails loudly.
  const bool has_class = !spec.storage_class.empty() && options_.storage_class.empty();
  const bool has_tags = spec.tags && !spec.tags->empty();
  if (refused.code() != ErrorCode::kNotSupported || (!has_class && !has_tags)) return refused;
  // Find what the store refuses: the class alone, the tags alone, then both. Learnt once per
  // run, so this costs a few requests on the first such object only.
  const std::pair<bool, bool> tries[] = {{true, false}, {false, true}, {true, true}};
  for (const auto& [drop_class, drop_tags] : tries) {
    if ((drop_class && !has_class) || (drop_tags && !has_tags)) continue;
    storage::WriteSpec fewer = spec;
    if (drop_class) fewer.storage_class.clear();
    if (drop_tags) fewer.tags.reset();
    const Status s = write(fewer);
    if (s.code() == ErrorCode::kNotSupported) continue;
    if (s.ok()) {
      if (drop_class) no_class_ = true, stats_.classes_not_kept += 1;
      if (drop_tags) no_tags_ = true, stats_.tags_not_kept += 1;
      spec = std::move(fewer);
    }
    return s;
  }
  return refused;
}

uint64_t TransferEngine::PartSizeFor(uint64_t size) const {
  return transfer::PartSizeFor(options_.part_size, dst_.features(), size);
}

}  // namespace ferry::transfer
