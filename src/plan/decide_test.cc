#include "plan/decide.h"

// GCC 12 reports a false "may be used uninitialized" for the std::optional<std::string>
// temporaries of the table below (a known optimizer false positive around optional<string>).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace ferry::plan {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using storage::ObjectInfo;
using TimePoint = std::chrono::system_clock::time_point;

const TimePoint kT0 = TimePoint(seconds(1'700'000'000));
const std::string kMd5A = "0123456789abcdef0123456789abcdef";
const std::string kMd5B = "fedcba9876543210fedcba9876543210";

ObjectInfo S3(uint64_t size, std::string etag, TimePoint last_modified) {
  ObjectInfo o;
  o.key = "k";
  o.size = size;
  o.etag = std::move(etag);
  o.mtime = last_modified;
  return o;
}

ObjectInfo Local(uint64_t size, TimePoint mtime) { return S3(size, "", mtime); }

// What a Stat adds: has_details, and ferry's metadata when given.
ObjectInfo Details(ObjectInfo o, std::optional<std::string> crc32c,
                   std::optional<TimePoint> ferry_mtime) {
  o.has_details = true;
  if (crc32c) o.metadata[storage::kMetaCrc32c] = *crc32c;
  if (ferry_mtime) {
    o.metadata[storage::kMetaMtime] = std::to_string(
        std::chrono::duration_cast<std::chrono::nanoseconds>(ferry_mtime->time_since_epoch())
            .count());
  }
  return o;
}

// Details without any ferry metadata.
ObjectInfo Detailed(ObjectInfo o) {
  o.has_details = true;
  return o;
}

ObjectInfo WithTags(ObjectInfo o) {
  o.tags = storage::Tags{};
  return o;
}

ObjectInfo WithMeta(ObjectInfo o, const std::string& color) {
  o.metadata["color"] = color;
  return o;
}

ObjectInfo DeleteMarker() {
  ObjectInfo o = S3(0, "", kT0);
  o.delete_marker = true;
  return o;
}

DecideOptions Opts(bool delete_extra, bool checksum, bool size_only, bool update_only_newer) {
  DecideOptions o;
  o.delete_extra = delete_extra;
  o.checksum = checksum;
  o.size_only = size_only;
  o.update_only_newer = update_only_newer;
  return o;
}
const DecideOptions kPlain = Opts(false, false, false, false);
const DecideOptions kDelete = Opts(true, false, false, false);
const DecideOptions kChecksum = Opts(false, true, false, false);
const DecideOptions kSizeOnly = Opts(false, false, true, false);
const DecideOptions kUpdate = Opts(false, false, false, true);

struct Row {
  const char* name;
  std::optional<ObjectInfo> src, dst;
  DecideOptions options;
  Verdict verdict;
  std::string_view reason;
};

std::vector<Row> Rows() {
  const auto later = kT0 + seconds(100);
  const auto earlier = kT0 - seconds(100);
  std::vector<Row> rows = {
      // Rules 0 and 1: presence.
      {"src only", S3(1, kMd5A, kT0), std::nullopt, kPlain, Verdict::kCopy, "missing"},
      {"dst only kept", std::nullopt, S3(1, kMd5A, kT0), kPlain, Verdict::kSkip, "extra (kept)"},
      {"dst only deleted", std::nullopt, S3(1, kMd5A, kT0), kDelete, Verdict::kDelete,
       "destination only"},
      {"both absent", std::nullopt, std::nullopt, kDelete, Verdict::kSkip, "absent"},
      {"src delete marker = absent", DeleteMarker(), S3(1, kMd5A, kT0), kDelete, Verdict::kDelete,
       "destination only"},
      {"src delete marker, no dst", DeleteMarker(), std::nullopt, kDelete, Verdict::kSkip,
       "absent"},
      {"dst delete marker = absent", S3(1, kMd5A, kT0), DeleteMarker(), kPlain, Verdict::kCopy,
       "missing"},
      // Rule 2: --update.
      {"update: dst newer wins over size", Local(1, kT0), S3(2, kMd5A, later), kUpdate,
       Verdict::kSkip, "destination newer"},
      {"update: dst older, size differs", Local(1, kT0), S3(2, kMd5A, earlier), kUpdate,
       Verdict::kCopy, "size differs"},
      {"update: same second goes on", S3(1, kMd5A, kT0 + milliseconds(100)),
       S3(1, kMd5A, kT0 + milliseconds(900)),
       kUpdate, Verdict::kSkip, "same etag"},
      {"update: missing still copies", S3(1, kMd5A, kT0), std::nullopt, kUpdate, Verdict::kCopy,
       "missing"},
      {"update: ferry-mtime is the dst time", S3(1, "m-2", kT0),
       Details(S3(1, "n-2", later), std::nullopt, earlier), kUpdate, Verdict::kNeedDetails,
       "need details"},
      // Rule 3: size.
      {"size differs", S3(1, kMd5A, kT0), S3(2, kMd5A, kT0), kPlain, Verdict::kCopy,
       "size differs"},
      {"size only", S3(1, kMd5A, later), S3(1, kMd5B, kT0), kSizeOnly, Verdict::kSkip, "same size"},
      {"size only still copies on size", S3(1, kMd5A, kT0), S3(2, kMd5A, kT0), kSizeOnly,
       Verdict::kCopy, "size differs"},
      // Rule 4: MD5 ETags.
      {"same-size edit, MD5 etags: confirmed with details", S3(5, kMd5A, earlier),
       S3(5, kMd5B, kT0), kPlain, Verdict::kNeedDetails, "need details"},
      {"same-size edit, MD5 etags with details", Detailed(S3(5, kMd5A, earlier)),
       Detailed(S3(5, kMd5B, kT0)), kPlain, Verdict::kCopy, "etag differs"},
      {"encrypted destination: opaque etag, equal crc claims: the times decide",
       Details(S3(5, kMd5A, earlier), "0a0b0c0d", std::nullopt),
       [] {
         ObjectInfo o = Details(S3(5, kMd5B, kT0), "0a0b0c0d", std::nullopt);
         o.etag_opaque = true;
         return o;
       }(),
       kPlain, Verdict::kSkip, "not newer"},
      {"same MD5 etag, dst newer", S3(5, kMd5A, kT0), S3(5, kMd5A, later), kPlain, Verdict::kSkip,
       "same etag"},
      {"same MD5, source changed after the copy: compare metadata", S3(5, kMd5A, later),
       S3(5, kMd5A, kT0), kPlain, Verdict::kNeedDetails, "compare metadata"},
      {"same MD5 and metadata, source newer", WithTags(Detailed(S3(5, kMd5A, later))),
       WithTags(Detailed(S3(5, kMd5A, kT0))), kPlain, Verdict::kSkip, "same etag"},
      {"same MD5, metadata changed", WithMeta(WithTags(Detailed(S3(5, kMd5A, later))), "blue"),
       WithMeta(WithTags(Detailed(S3(5, kMd5A, kT0))), "red"), kPlain, Verdict::kCopy,
       "metadata differs"},
      {"MD5 etags compare case-insensitively", S3(5, kMd5A, kT0),
       S3(5, "0123456789ABCDEF0123456789ABCDEF", later), kPlain, Verdict::kSkip, "same etag"},
      // The source changed in the same second as the copy was written: listings with
      // milliseconds tell which came first; whole seconds cannot, so the details are compared.
      {"same MD5, source changed after the copy in the same second",
       S3(5, kMd5A, kT0 + milliseconds(700)), S3(5, kMd5A, kT0 + milliseconds(300)), kPlain,
       Verdict::kNeedDetails, "compare metadata"},
      {"same MD5, copy written after the change in the same second",
       S3(5, kMd5A, kT0 + milliseconds(300)), S3(5, kMd5A, kT0 + milliseconds(700)), kPlain,
       Verdict::kSkip, "same etag"},
      {"same MD5, one whole second on both sides: compare metadata", S3(5, kMd5A, kT0),
       S3(5, kMd5A, kT0), kPlain, Verdict::kNeedDetails, "compare metadata"},
      {"same MD5, a HEAD's whole second beside a listing's fraction: compare metadata",
       S3(5, kMd5A, kT0 + milliseconds(300)), S3(5, kMd5A, kT0), kPlain, Verdict::kNeedDetails,
       "compare metadata"},
      {"checksum: MD5 etags decide", Detailed(S3(5, kMd5A, kT0)),
       Detailed(S3(5, kMd5B, kT0)), kChecksum, Verdict::kCopy, "etag differs"},
      // Rules 5 and 6: multipart ETags, details, CRC32C.
      {"multipart equal etags, no details", S3(5, "abc-2", kT0), S3(5, "abc-2", kT0), kPlain,
       Verdict::kNeedDetails, "need details"},
      {"MD5 vs multipart, no details", S3(5, kMd5A, kT0), S3(5, "abc-2", later), kPlain,
       Verdict::kNeedDetails, "need details"},
      {"one side lacks details", Details(S3(5, "abc-2", kT0), "0a0b0c0d", std::nullopt),
       S3(5, "abc-2", kT0), kPlain, Verdict::kNeedDetails, "need details"},
      {"crc without has_details is ignored", S3(5, "abc-2", kT0),
       [] {
         ObjectInfo o = S3(5, "abc-2", kT0);
         o.metadata[storage::kMetaCrc32c] = "0a0b0c0d";
         return o;
       }(),
       kPlain, Verdict::kNeedDetails, "need details"},
      // Equal ferry-crc32c claims skip nothing the times would copy (a changed source that
      // kept its metadata): integrity.md.
      {"multipart, details, equal crc claims, source newer: the times copy",
       Details(S3(5, "abc-2", later), "0a0b0c0d", std::nullopt),
       Details(S3(5, "abc-2", kT0), "0a0b0c0d", kT0), kPlain, Verdict::kCopy, "mtime differs"},
      {"multipart, details, equal crc claims, same ferry-mtime",
       Details(S3(5, "abc-2", later), "0a0b0c0d", kT0),
       Details(S3(5, "def-2", later), "0a0b0c0d", kT0), kPlain, Verdict::kSkip, "same mtime"},
      {"multipart, details, crc differs", Details(S3(5, "abc-2", kT0), "0a0b0c0d", std::nullopt),
       Details(S3(5, "abc-2", later), "ffffffff", kT0), kPlain, Verdict::kCopy, "checksum differs"},
      {"MD5 vs multipart, details, equal crc", Details(S3(5, kMd5A, kT0), "0a0b0c0d", kT0),
       Details(S3(5, "abc-3", later), "0a0b0c0d", kT0), kPlain, Verdict::kSkip, "same mtime"},
      // Rule 7(a): destination records ferry-mtime.
      {"details, no src crc, dst ferry-mtime equal",
       Details(S3(5, "abc-2", kT0), std::nullopt, std::nullopt),
       Details(S3(5, "def-2", later), "0a0b0c0d", kT0 + milliseconds(300)), kPlain, Verdict::kSkip,
       "same mtime"},
      {"details, src ferry-mtime vs dst ferry-mtime",
       Details(S3(5, "abc-2", later), std::nullopt, earlier),
       Details(S3(5, "def-2", later), std::nullopt, earlier), kPlain, Verdict::kSkip, "same mtime"},
      {"details, dst ferry-mtime differs",
       Details(S3(5, "abc-2", later), std::nullopt, std::nullopt),
       Details(S3(5, "def-2", later + seconds(5)), std::nullopt, kT0), kPlain, Verdict::kCopy,
       "mtime differs"},
      // Rule 7(b): destination S3 object not written by ferry.
      {"details, foreign dst written later",
       Details(S3(5, "abc-2", kT0), std::nullopt, std::nullopt),
       Details(S3(5, "def-2", later), std::nullopt, std::nullopt), kPlain, Verdict::kSkip,
       "not newer"},
      {"details, foreign dst written earlier",
       Details(S3(5, "abc-2", kT0), std::nullopt, std::nullopt),
       Details(S3(5, "def-2", earlier), std::nullopt, std::nullopt), kPlain, Verdict::kCopy,
       "source newer"},
      // local -> S3: listing only.
      {"local->S3 not newer", Local(5, kT0), S3(5, "abc-2", later), kPlain, Verdict::kSkip,
       "not newer"},
      {"local->S3 MD5 dst not newer", Local(5, kT0), S3(5, kMd5A, later), kPlain, Verdict::kSkip,
       "not newer"},
      {"local->S3 same second", Local(5, kT0 + milliseconds(700)), S3(5, kMd5A, kT0), kPlain,
       Verdict::kSkip, "not newer"},
      {"local->S3 edited after upload", Local(5, later), S3(5, kMd5A, kT0), kPlain, Verdict::kCopy,
       "source newer"},
      {"local->S3 dst details with ferry-mtime", Local(5, kT0 + milliseconds(5)),
       Details(S3(5, kMd5A, later), "0a0b0c0d", kT0), kPlain, Verdict::kSkip, "same mtime"},
      // S3 -> local.
      {"S3->local same mtime", S3(5, kMd5A, kT0), Local(5, kT0 + milliseconds(999)), kPlain,
       Verdict::kSkip, "same mtime"},
      {"S3->local mtime differs, src may record ferry-mtime", S3(5, kMd5A, later), Local(5, kT0),
       kPlain, Verdict::kNeedDetails, "need details"},
      {"S3->local src ferry-mtime equals file mtime",
       Details(S3(5, kMd5A, later), std::nullopt, kT0), Local(5, kT0), kPlain, Verdict::kSkip,
       "same mtime"},
      {"S3->local src details, mtime differs",
       Details(S3(5, kMd5A, later), std::nullopt, std::nullopt), Local(5, kT0), kPlain,
       Verdict::kCopy, "mtime differs"},
      {"S3->local file newer still differs", Detailed(S3(5, kMd5A, kT0)),
       Local(5, later), kPlain, Verdict::kCopy, "mtime differs"},
      // local -> local.
      {"local->local same mtime", Local(5, kT0), Local(5, kT0), kPlain, Verdict::kSkip,
       "same mtime"},
      {"local->local mtime differs", Local(5, kT0), Local(5, later), kPlain, Verdict::kCopy,
       "mtime differs"},
      // --checksum forces details when content is not already known equal or different.
      {"checksum: local->S3 asks for details", Local(5, kT0), S3(5, kMd5A, later), kChecksum,
       Verdict::kNeedDetails, "need details"},
      {"checksum: local->local asks for details", Local(5, kT0), Local(5, kT0), kChecksum,
       Verdict::kNeedDetails, "need details"},
      {"checksum: details, equal crc claims: compare content",
       Details(Local(5, kT0), "0a0b0c0d", std::nullopt),
       Details(S3(5, kMd5A, later), "0a0b0c0d", kT0), kChecksum, Verdict::kNeedDetails,
       "compare content"},
      {"checksum: details, no common checksum: compare content",
       Details(Local(5, kT0), std::nullopt, std::nullopt),
       Details(S3(5, "abc-2", later), std::nullopt, std::nullopt), kChecksum,
       Verdict::kNeedDetails, "compare content"},
      {"checksum: local->local same mtime still compares content",
       Details(Local(5, kT0), std::nullopt, std::nullopt),
       Details(Local(5, kT0), std::nullopt, std::nullopt), kChecksum, Verdict::kNeedDetails,
       "compare content"},
  };
  return rows;
}

TEST(DecideTest, Table) {
  for (const Row& row : Rows()) {
    const ObjectInfo* src = row.src ? &*row.src : nullptr;
    const ObjectInfo* dst = row.dst ? &*row.dst : nullptr;
    Decision d = Decide(src, dst, row.options);
    EXPECT_EQ(VerdictName(d.verdict), VerdictName(row.verdict)) << row.name;
    EXPECT_EQ(d.reason, row.reason) << row.name;
  }
}

// After the engine fills details on both sides, Decide never asks for details again; only
// --checksum may then ask to compare content (rule 6b), which the engine does by reading.
TEST(DecideTest, NeedDetailsFiresAtMostOnce) {
  int asked = 0;
  for (const Row& row : Rows()) {
    if (row.verdict != Verdict::kNeedDetails) continue;
    ++asked;
    ObjectInfo src = *row.src, dst = *row.dst;
    src.has_details = dst.has_details = true;
    if (!src.tags) src.tags = storage::Tags{};  // what a Stat with tags fills in
    if (!dst.tags) dst.tags = storage::Tags{};
    const Decision again = Decide(&src, &dst, row.options);
    if (row.options.checksum && again.verdict == Verdict::kNeedDetails) {
      EXPECT_EQ(again.reason, kReasonCompareContent) << row.name;
      continue;
    }
    EXPECT_NE(again.verdict, Verdict::kNeedDetails) << row.name;
  }
  EXPECT_GE(asked, 8);
}

// Rule 5, S3's additional checksums: both sides' full-object checksums of one algorithm decide;
// other algorithms, composite values or a side without details do not.
TEST(DecideTest, DeclaredFullObjectChecksumsOfOneAlgorithmDecide) {
  const TimePoint later = kT0 + seconds(60);
  auto with = [](ObjectInfo o, checksum::Algorithm a, std::string value, int parts = 0) {
    o.has_details = true;
    o.checksum = checksum::Declared{.algorithm = a, .value = std::move(value), .parts = parts};
    return o;
  };
  using checksum::Algorithm;
  const ObjectInfo src = with(S3(5, "abc-2", later), Algorithm::kCrc64Nvme, "AAAAAAAAAAE=");
  ObjectInfo same = with(S3(5, "def-3", kT0), Algorithm::kCrc64Nvme, "AAAAAAAAAAE=");
  ObjectInfo other = with(S3(5, "def-3", later), Algorithm::kCrc64Nvme, "AAAAAAAAAAI=");
  EXPECT_EQ(Decide(&src, &same, kPlain).reason, kReasonSameChecksum);
  EXPECT_EQ(Decide(&src, &other, kPlain).reason, kReasonChecksumDiffers);
  EXPECT_EQ(Decide(&src, &other, kPlain).verdict, Verdict::kCopy);
  // Another algorithm, or a composite value: not comparable; the times decide (rule 7).
  ObjectInfo crc32 = with(S3(5, "def-3", kT0), Algorithm::kCrc32, "AAAAAQ==");
  EXPECT_NE(Decide(&src, &crc32, kPlain).reason, kReasonSameChecksum);
  ObjectInfo composite = with(S3(5, "def-3", kT0), Algorithm::kCrc64Nvme, "AAAAAAAAAAE=", 3);
  EXPECT_NE(Decide(&src, &composite, kPlain).reason, kReasonSameChecksum);
  ObjectInfo listed = same;
  listed.has_details = false;
  EXPECT_EQ(Decide(&src, &listed, kPlain).verdict, Verdict::kNeedDetails);
}

// ferry-crc32c is a writer's claim (docs/design/integrity.md): issue 43's changed copy kept
// the source's claim (and ferry-mtime) over other bytes of the same size. Equal claims never
// skip by themselves: without them the decision is the same; under --checksum the content is
// compared (the engine reads). Unequal claims only ever add a copy.
TEST(DecideTest, FerryCrcClaimsNeverSkipByThemselves) {
  const TimePoint later = kT0 + seconds(60);
  auto strip = [](ObjectInfo o) {
    o.metadata.erase(storage::kMetaCrc32c);
    return o;
  };
  struct Case {
    ObjectInfo src, dst;
  };
  const std::vector<Case> cases = {
      // the source rewritten later with its stale claim and no ferry-mtime
      {Details(S3(5, "abc-2", later), "0a0b0c0d", std::nullopt),
       Details(S3(5, "def-3", kT0), "0a0b0c0d", kT0)},
      // a changed destination that kept both claims
      {Details(S3(5, "abc-2", kT0), "0a0b0c0d", kT0),
       Details(S3(5, "def-3", later), "0a0b0c0d", kT0)},
      // a foreign destination, older than the source, with a forged claim
      {Details(S3(5, "abc-2", later), "0a0b0c0d", std::nullopt),
       Details(S3(5, "def-3", kT0), "0a0b0c0d", std::nullopt)},
      // two SSE-KMS objects
      {[&] {
         ObjectInfo o = Details(S3(5, kMd5A, later), "0a0b0c0d", std::nullopt);
         o.etag_opaque = true;
         return o;
       }(),
       [&] {
         ObjectInfo o = Details(S3(5, kMd5B, kT0), "0a0b0c0d", std::nullopt);
         o.etag_opaque = true;
         return o;
       }()},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const ObjectInfo src = strip(c.src), dst = strip(c.dst);
    EXPECT_EQ(Decide(&c.src, &c.dst, kPlain), Decide(&src, &dst, kPlain)) << i;
    EXPECT_NE(Decide(&c.src, &c.dst, kPlain).reason, kReasonSameChecksum) << i;
    EXPECT_EQ(Decide(&c.src, &c.dst, kChecksum),
              (Decision{Verdict::kNeedDetails, std::string(kReasonCompareContent)}))
        << i;
  }
  // Unequal claims copy what the times would skip.
  const ObjectInfo a = Details(S3(5, "abc-2", kT0), "0a0b0c0d", kT0);
  const ObjectInfo b = Details(S3(5, "def-3", later), "ffffffff", kT0);
  EXPECT_EQ(Decide(&a, &b, kPlain),
            (Decision{Verdict::kCopy, std::string(kReasonChecksumDiffers)}));
}

TEST(DecideTest, VerdictNames) {
  EXPECT_EQ(VerdictName(Verdict::kSkip), "skip");
  EXPECT_EQ(VerdictName(Verdict::kCopy), "copy");
  EXPECT_EQ(VerdictName(Verdict::kDelete), "delete");
  EXPECT_EQ(VerdictName(Verdict::kNeedDetails), "need-details");
}

}  // namespace
}  // namespace ferry::plan
