// Decide: what to do with one key, given what each side knows about it. A pure function of two
// ObjectInfo (nullptr = absent on that side) and the job's comparison options. The sync driver
// calls it from its ListingVisitor (plan/merge.h) for every key that passed the Filter
// (plan/filter.h), then hands kCopy/kDelete to the transfer engine. The reason is printed by
// --dry-run and -v and counted in metrics, so the strings are stable (kReason* below).
//
// The contract (checked in this order; the first rule that applies decides):
//  0. A source delete marker counts as an absent source, a destination delete marker as an
//     absent destination. Both absent: kSkip "absent".
//  1. Source only: kCopy "missing".
//     Destination only: kDelete "destination only" if delete_extra, else kSkip "extra (kept)".
//  2. update_only_newer and the destination's time is newer than the source's (source_mtime()
//     on both, whole seconds): kSkip "destination newer".
//  3. Sizes differ: kCopy "size differs". size_only: otherwise kSkip "same size".
//  4. Both ETags are plain MD5 (etag_is_md5()): equal: kSkip "same etag", unless the source
//     may have changed after the destination was written (its LastModified is later in whole
//     seconds, or in milliseconds within one second when both times have them; a tie of two
//     whole-second times counts as later):
//     then its metadata or tags may have changed with the same bytes, so without details and
//     tags on both sides kNeedDetails "compare metadata" (the engine Stats both with tags), and
//     with them kCopy "metadata differs" when user metadata (ferry-* aside), content headers
//     or tags differ, else kSkip "same etag". Different ETags, and a
//     side lacks details: kNeedDetails (an SSE-KMS/SSE-C ETag looks like an MD5 in a listing
//     but is not one; details show it: etag_opaque, and rule 5 decides); else kCopy "etag
//     differs". A multipart ETag ("<hex>-N") is never compared with anything: it depends
//     on the part size, so two copies of the same bytes can carry different ones.
//  5. Both carry ferry's CRC32C (crc32c(); needs details) and the two differ: kCopy "checksum
//     differs". Equal ones decide nothing: ferry-crc32c is a writer's claim, which a tool that
//     changed the bytes may have kept, so a skip never rests on it (docs/design/integrity.md);
//     the rules below decide as without it. Both declare a full-object S3 additional checksum
//     of the same algorithm (ObjectInfo::checksum, x-amz-checksum-*, computed by the store;
//     details): equal: kSkip "same checksum"; else kCopy "checksum differs".
//  6. A side lacks details (has_details false) and details could still decide: both ETags are
//     non-empty (both sides S3-like, so either may carry ferry-crc32c/ferry-mtime), or
//     `checksum` is set. Then kNeedDetails "need details": the engine Stats every side whose
//     has_details is false and calls Decide again. With details on both sides neither this
//     rule nor 7(a) can fire, so Decide returns kNeedDetails at most once per key (a second
//     one is a bug: a Stat returned has_details = false). A side with an empty ETag (a local file)
//     is never the reason to ask, unless `checksum` is set: its listing mtime is already exact.
//  6b. `checksum` set and both sides have details, yet no rule above compared content (no common
//     checksum): kNeedDetails "compare content". The engine then computes what is missing
//     (reads a local file, or an object that declares no checksum; an MD5 ETag counts as the
//     object's MD5) and compares content: kSkip "same content" or kCopy "content differs".
//     Times never decide under --checksum.
//  7. Times, at whole-second granularity (both floored to seconds: S3 keeps whole seconds,
//     some filesystems coarser). s = src->source_mtime().
//     (a) The destination records ferry-mtime (has details, metadata has kMetaMtime) or is a
//         local file (empty ETag; the engine sets a file's mtime to the source's
//         source_mtime() when it writes it): d = dst->source_mtime(); s == d: kSkip
//         "same mtime". Otherwise, if the destination is a local file and the source is an
//         S3 object without details (non-empty ETag): kNeedDetails "need details", because
//         the source may record a ferry-mtime, which is what the file's mtime was set to;
//         this is the only case where a local side takes part in asking, and it asks for the
//         source's details only. Otherwise kCopy "mtime differs".
//     (b) Otherwise (an S3 object not known to be written by ferry): the aws s3 sync rule,
//         dst->mtime (LastModified) >= s: kSkip "not newer" (written after the source last
//         changed); else kCopy "source newer".
//
// Consequences worth knowing (docs/design/planner.md has the full table):
//  - A no-change re-sync local -> S3 is decided from the two listings alone (rules 3, 7(b)).
//  - S3 -> local: decided from the listings when the file's mtime equals the object's
//    LastModified; a source that records ferry-mtime costs one Stat per object (7(a)) but is
//    never downloaded again when unchanged.
//  - S3 -> S3 with MD5 ETags is decided from the listings (rule 4); with a multipart ETag on
//    either side it costs one Stat per side (rule 6) and is then decided by rule 5 or 7:
//    between ferry's own copies, whose ferry-mtime agree, by 7(a) "same mtime".
//
// Thread-safety: pure; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "storage/object_info.h"

namespace ferry::plan {

enum class Verdict { kSkip, kCopy, kDelete, kNeedDetails };

// "skip", "copy", "delete", "need-details".
std::string_view VerdictName(Verdict verdict);

// Stable reasons (see the contract above).
inline constexpr std::string_view kReasonAbsent = "absent";
inline constexpr std::string_view kReasonMissing = "missing";
inline constexpr std::string_view kReasonDestinationOnly = "destination only";
inline constexpr std::string_view kReasonExtraKept = "extra (kept)";
inline constexpr std::string_view kReasonDestinationNewer = "destination newer";
inline constexpr std::string_view kReasonSizeDiffers = "size differs";
inline constexpr std::string_view kReasonSameSize = "same size";
inline constexpr std::string_view kReasonSameEtag = "same etag";
inline constexpr std::string_view kReasonEtagDiffers = "etag differs";
inline constexpr std::string_view kReasonSameChecksum = "same checksum";
inline constexpr std::string_view kReasonChecksumDiffers = "checksum differs";
inline constexpr std::string_view kReasonNeedDetails = "need details";
inline constexpr std::string_view kReasonCompareContent = "compare content";
inline constexpr std::string_view kReasonCompareMetadata = "compare metadata";
inline constexpr std::string_view kReasonMetadataDiffers = "metadata differs";
inline constexpr std::string_view kReasonSameContent = "same content";
inline constexpr std::string_view kReasonContentDiffers = "content differs";
inline constexpr std::string_view kReasonSameMtime = "same mtime";
inline constexpr std::string_view kReasonMtimeDiffers = "mtime differs";
inline constexpr std::string_view kReasonNotNewer = "not newer";
inline constexpr std::string_view kReasonSourceNewer = "source newer";

struct Decision {
  Verdict verdict = Verdict::kSkip;
  std::string reason;
  bool operator==(const Decision&) const = default;
};

struct DecideOptions {
  bool delete_extra = false;       // sync --delete: delete destination-only keys
  bool checksum = false;           // --checksum: fetch details so that content can be compared
  bool size_only = false;          // --size-only: equal sizes mean equal objects
  bool update_only_newer = false;  // --update: never overwrite a newer destination
};

// See the contract at the top of this file. nullptr = absent on that side; when both are
// given they have the same key.
Decision Decide(const storage::ObjectInfo* src, const storage::ObjectInfo* dst,
                const DecideOptions& options);

}  // namespace ferry::plan
