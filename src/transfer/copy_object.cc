// TransferEngine: one object from decision to destination: details when the planner needs
// them, then a whole-object copy, a server-side copy or the start of a multipart upload.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "checksum/checksum.h"
#include "transfer/engine.h"

namespace ferry::transfer {

namespace {

std::string MtimeNs(std::chrono::system_clock::time_point t) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

}  // namespace

void TransferEngine::RunCopy(CopyRequest& r, std::stop_token stop) {
  if (r.need_details) {
    // The listing could not decide (e.g. multipart ETags): look at both sides' metadata.
    auto src = src_.Stat(r.src.key, false, stop);
    if (!src.ok()) return Complete(r, nullptr, src.status().WithContext("stat"), 0);
    stats_.details_fetched += 1;
    auto dst = dst_.Stat(r.dst ? r.dst->key : r.src.key, false, stop);
    if (!dst.ok() && dst.status().code() != ErrorCode::kNotFound) {
      return Complete(r, nullptr, dst.status().WithContext("stat destination"), 0);
    }
    stats_.details_fetched += 1;
    const storage::ObjectInfo* d = dst.ok() ? &dst.value() : nullptr;
    plan::Decision again = plan::Decide(&src.value(), d, options_.decide);
    if (again.verdict == plan::Verdict::kNeedDetails) {
      return Complete(
          r, nullptr,
          Status::Internal("planner still undecided after stat: " + again.reason), 0);
    }
    if (again.verdict != plan::Verdict::kCopy) {
      stats_.objects_skipped += 1;
      stats_.objects_planned -= 1;
      stats_.bytes_planned -= r.src.size;
      return Complete(r, nullptr, Status::Ok(), 0);
    }
    r.reason = again.reason;
    const auto listed_mtime = r.src.mtime;
    r.src = std::move(src).value();
    r.src.mtime = listed_mtime;
  }
  if (options_.dry_run) {
    std::fprintf(stderr, "would copy %s (%s)\n", r.src.key.c_str(), r.reason.c_str());
    return Complete(r, "would copy", Status::Ok(), r.src.size);
  }
  const bool large = r.src.size >= options_.multipart_threshold;
  // One CopyObject is the cheapest copy there is (RGW copies only the manifest); above the
  // single-request limit the object is copied in parts on the server.
  const uint64_t single_copy_limit =
      std::min(options_.server_side_copy_limit, dst_.features().max_single_put);
  if (server_side_ && r.src.size <= single_copy_limit) {
    return Complete(r, "copied (server-side)", CopyServerSide(r.src, stop), r.src.size);
  }
  if ((large || server_side_) && dst_.features().chunked_write) {
    Status s = StartMultipart(r, server_side_, stop);
    if (!s.ok()) Complete(r, nullptr, s, 0);
    return;  // on success the last part finishes the object
  }
  Complete(r, "copied", CopyWhole(r.src, stop), r.src.size);
}

Status TransferEngine::CopyServerSide(const storage::ObjectInfo& src, std::stop_token stop) {
  auto etag = dst_.CopyFrom(src_, src, src.key, options_.storage_class, stop);
  if (!etag.ok()) return etag.status().WithContext("server-side copy of " + src.key);
  stats_.objects_server_side += 1;
  stats_.bytes_moved += src.size;
  return Status::Ok();
}

Status TransferEngine::CopyWhole(const storage::ObjectInfo& listed, std::stop_token stop) {
  if (!budget_.Acquire(listed.size, stop)) return Status::Cancelled("cancelled");
  BudgetLease lease(budget_, listed.size);
  std::unique_ptr<std::byte[]> buffer(new std::byte[listed.size == 0 ? 1 : listed.size]);
  std::span<std::byte> data(buffer.get(), listed.size);

  auto read = src_.ReadObject(listed.key, data, listed.etag, stop);
  if (!read.ok()) return read.status().WithContext("read " + src_.Describe() + listed.key);
  const storage::ObjectInfo& src = read.value();
  const uint32_t crc = checksum::Crc32c(data);
  if (auto declared = src.crc32c(); declared && *declared != crc) {
    return Status::DataLoss("checksum mismatch reading " + listed.key + ": source declares " +
                            checksum::Hex32(*declared) + ", read " + checksum::Hex32(crc));
  }
  storage::ObjectInfo merged = src;
  merged.mtime = listed.mtime;  // listing mtime is the object's; keep ns precision of files
  auto etag = dst_.Put(listed.key, data, SpecFor(merged, crc), stop);
  if (!etag.ok()) return etag.status().WithContext("write " + dst_.Describe() + listed.key);
  if (src.etag_is_md5()) {
    storage::ObjectInfo written;
    written.etag = etag.value();
    if (written.etag_is_md5() && written.etag != src.etag) {
      return Status::DataLoss("content of " + listed.key + " differs from the source's MD5 " +
                              src.etag + " (destination stored " + written.etag + ")");
    }
  }
  stats_.bytes_moved += listed.size;
  return Status::Ok();
}

storage::WriteSpec TransferEngine::SpecFor(const storage::ObjectInfo& src,
                                           std::optional<uint32_t> crc) const {
  storage::WriteSpec spec;
  spec.size = src.size;
  spec.content = src.content;
  spec.metadata = src.metadata;
  if (crc) spec.metadata[storage::kMetaCrc32c] = checksum::Hex32(*crc);
  // The original modification time travels with the object across hops.
  spec.metadata[storage::kMetaMtime] = MtimeNs(src.source_mtime());
  spec.tags = src.tags;
  spec.storage_class = options_.storage_class.empty() ? src.storage_class : options_.storage_class;
  if (!dst_.features().storage_class) spec.storage_class.clear();
  spec.mtime = src.source_mtime();
  return spec;
}

uint64_t TransferEngine::PartSizeFor(uint64_t size) const {
  uint64_t part = options_.part_size;
  const auto max_parts = static_cast<uint64_t>(dst_.features().max_parts);
  while ((size + part - 1) / part > max_parts) part *= 2;
  return part;
}

}  // namespace ferry::transfer
