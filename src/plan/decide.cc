#include "plan/decide.h"

#include <chrono>
#include <optional>

namespace ferry::plan {
namespace {

using storage::ObjectInfo;

Decision Make(Verdict verdict, std::string_view reason) {
  return Decision{verdict, std::string(reason)};
}

std::chrono::sys_seconds WholeSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}

bool RecordsFerryMtime(const ObjectInfo& object) {
  return object.has_details && object.metadata.count(storage::kMetaMtime) != 0;
}

// Rule 6: could a Stat of the side(s) without details change the answer?
bool DetailsCouldDecide(const ObjectInfo& src, const ObjectInfo& dst,
                        const DecideOptions& options) {
  if (src.has_details && dst.has_details) return false;
  if (options.checksum) return true;
  return !src.etag.empty() && !dst.etag.empty();
}

// Rule 7.
Decision ByTime(const ObjectInfo& src, const ObjectInfo& dst) {
  const std::chrono::sys_seconds s = WholeSeconds(src.source_mtime());
  if (RecordsFerryMtime(dst) || dst.etag.empty()) {
    if (WholeSeconds(dst.source_mtime()) == s) return Make(Verdict::kSkip, kReasonSameMtime);
    // A local file's mtime may come from a ferry-mtime the source listing does not show.
    if (dst.etag.empty() && !src.etag.empty() && !src.has_details) {
      return Make(Verdict::kNeedDetails, kReasonNeedDetails);
    }
    return Make(Verdict::kCopy, kReasonMtimeDiffers);
  }
  return WholeSeconds(dst.mtime) >= s ? Make(Verdict::kSkip, kReasonNotNewer)
                                      : Make(Verdict::kCopy, kReasonSourceNewer);
}

}  // namespace

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kSkip:
      return "skip";
    case Verdict::kCopy:
      return "copy";
    case Verdict::kDelete:
      return "delete";
    case Verdict::kNeedDetails:
      return "need-details";
  }
  return "?";
}

Decision Decide(const ObjectInfo* src, const ObjectInfo* dst, const DecideOptions& options) {
  // Rule 0.
  if (src != nullptr && src->delete_marker) src = nullptr;
  if (dst != nullptr && dst->delete_marker) dst = nullptr;
  if (src == nullptr && dst == nullptr) return Make(Verdict::kSkip, kReasonAbsent);

  // Rule 1.
  if (dst == nullptr) return Make(Verdict::kCopy, kReasonMissing);
  if (src == nullptr) {
    return options.delete_extra ? Make(Verdict::kDelete, kReasonDestinationOnly)
                                : Make(Verdict::kSkip, kReasonExtraKept);
  }

  // Rule 2.
  if (options.update_only_newer &&
      WholeSeconds(dst->source_mtime()) > WholeSeconds(src->source_mtime())) {
    return Make(Verdict::kSkip, kReasonDestinationNewer);
  }

  // Rule 3.
  if (src->size != dst->size) return Make(Verdict::kCopy, kReasonSizeDiffers);
  if (options.size_only) return Make(Verdict::kSkip, kReasonSameSize);

  // Rule 4.
  if (src->etag_is_md5() && dst->etag_is_md5()) {
    // ETags are hex; S3 returns lower case, but compare case-insensitively to be safe.
    bool same = src->etag.size() == dst->etag.size();
    for (size_t i = 0; same && i < src->etag.size(); ++i) {
      same = (src->etag[i] | 0x20) == (dst->etag[i] | 0x20);
    }
    return same ? Make(Verdict::kSkip, kReasonSameEtag) : Make(Verdict::kCopy, kReasonEtagDiffers);
  }

  // Rule 5.
  // Metadata is valid only with details (object_info.h).
  const std::optional<uint32_t> src_crc = src->has_details ? src->crc32c() : std::nullopt;
  const std::optional<uint32_t> dst_crc = dst->has_details ? dst->crc32c() : std::nullopt;
  if (src_crc.has_value() && dst_crc.has_value()) {
    return *src_crc == *dst_crc ? Make(Verdict::kSkip, kReasonSameChecksum)
                                : Make(Verdict::kCopy, kReasonChecksumDiffers);
  }

  // Rule 6.
  if (DetailsCouldDecide(*src, *dst, options)) {
    return Make(Verdict::kNeedDetails, kReasonNeedDetails);
  }

  // Rule 7.
  return ByTime(*src, *dst);
}

}  // namespace ferry::plan
