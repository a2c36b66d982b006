#include "plan/decide.h"

#include <algorithm>
#include <chrono>
#include <map>
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

// True unless `src` was last modified before `dst`: in whole seconds, or, within one second,
// in milliseconds when both times have them (S3 listings of RGW and MinIO do; a HEAD's
// Last-Modified and AWS's listings have whole seconds). Two times of one whole second that
// cannot be told apart count as "may be later": a change the destination's copy may predate
// is looked at, never assumed to be there.
bool MayBeModifiedAfter(std::chrono::system_clock::time_point src,
                        std::chrono::system_clock::time_point dst) {
  const auto s = WholeSeconds(src);
  const auto d = WholeSeconds(dst);
  if (s != d) return s > d;
  if (src == s || dst == d) return true;  // a side without a fraction: cannot tell
  return src > dst;
}

bool RecordsFerryMtime(const ObjectInfo& object) {
  return object.has_details && object.metadata.count(storage::kMetaMtime) != 0;
}

// What describes an object besides its bytes: user metadata (ferry's own entries aside: they
// record where a copy came from), content headers and tags (in any order).
bool SameDescription(const ObjectInfo& src, const ObjectInfo& dst) {
  auto user = [](const ObjectInfo& o) {
    std::map<std::string, std::string> m;
    for (const auto& [k, v] : o.metadata) {
      if (!k.starts_with("ferry-")) m.emplace(k, v);
    }
    return m;
  };
  auto sorted = [](storage::Tags t) {
    std::sort(t.begin(), t.end());
    return t;
  };
  return user(src) == user(dst) && src.content == dst.content &&
         sorted(src.tags.value_or(storage::Tags{})) == sorted(dst.tags.value_or(storage::Tags{}));
}

// Rule 5, S3's checksums: whether both sides' full-object additional checksums of one
// algorithm are equal; nullopt when they do not both declare one.
std::optional<bool> SameDeclaredChecksum(const ObjectInfo& src, const ObjectInfo& dst) {
  if (!src.has_details || !dst.has_details || !src.checksum || !dst.checksum) return std::nullopt;
  const checksum::Declared& a = *src.checksum;
  const checksum::Declared& b = *dst.checksum;
  if (!a.full_object() || !b.full_object() || a.algorithm != b.algorithm) return std::nullopt;
  return a.value == b.value;
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
    if (same) {
      // The same bytes, but the source changed after the destination was written (its
      // LastModified is later): its metadata, content headers or tags may have changed (a copy
      // onto itself with REPLACE, a PUT of the same bytes, new tags). Compare them.
      if (MayBeModifiedAfter(src->mtime, dst->mtime)) {
        if (!src->has_details || !dst->has_details || !src->tags || !dst->tags) {
          return Make(Verdict::kNeedDetails, kReasonCompareMetadata);
        }
        if (!SameDescription(*src, *dst)) return Make(Verdict::kCopy, kReasonMetadataDiffers);
      }
      return Make(Verdict::kSkip, kReasonSameEtag);
    }
    // A listing cannot tell an encrypted object (SSE-KMS, SSE-C: its ETag looks like an MD5
    // but is not one) from a plain one: different ETags of equal sizes are confirmed with
    // details first, which show the encryption (etag_opaque) and ferry's checksum.
    if (!src->has_details || !dst->has_details) {
      return Make(Verdict::kNeedDetails, kReasonNeedDetails);
    }
    return Make(Verdict::kCopy, kReasonEtagDiffers);
  }

  // Rule 5.
  // ferry's CRC32C is a writer's claim (any tool can set it, or keep it stale over changed
  // bytes: docs/design/integrity.md): unequal claims make a copy (more work, never a loss),
  // equal ones skip nothing by themselves; the rules below decide as if they were absent.
  // Metadata is valid only with details (object_info.h).
  const std::optional<uint32_t> src_crc = src->has_details ? src->crc32c() : std::nullopt;
  const std::optional<uint32_t> dst_crc = dst->has_details ? dst->crc32c() : std::nullopt;
  if (src_crc.has_value() && dst_crc.has_value() && *src_crc != *dst_crc) {
    return Make(Verdict::kCopy, kReasonChecksumDiffers);
  }
  if (std::optional<bool> same = SameDeclaredChecksum(*src, *dst)) {
    return *same ? Make(Verdict::kSkip, kReasonSameChecksum)
                 : Make(Verdict::kCopy, kReasonChecksumDiffers);
  }

  // Rule 6.
  if (DetailsCouldDecide(*src, *dst, options)) {
    return Make(Verdict::kNeedDetails, kReasonNeedDetails);
  }

  // Rule 6b.
  if (options.checksum) return Make(Verdict::kNeedDetails, kReasonCompareContent);

  // Rule 7.
  return ByTime(*src, *dst);
}

}  // namespace ferry::plan
