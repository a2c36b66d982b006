#include "verify/versions.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "verify/multipart_etag.h"

namespace ferry::verify {
namespace {

// Reads a version listing one key's history at a time.
class HistoryReader {
 public:
  explicit HistoryReader(std::unique_ptr<storage::ListingCursor> cursor)
      : cursor_(std::move(cursor)) {}

  // The next key's entries (newest first), or an empty vector at the end.
  Result<std::vector<storage::ObjectInfo>> Next() {
    std::vector<storage::ObjectInfo> out;
    if (!peeked_) {
      FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* first, cursor_->Next());
      if (first == nullptr) return out;
      peeked_ = *first;
    }
    out.push_back(std::move(*peeked_));
    peeked_.reset();
    while (true) {
      FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* next, cursor_->Next());
      if (next == nullptr) break;
      if (next->key != out.front().key) {
        if (next->key < out.front().key) {
          return Status::Internal("version listing out of order: " + next->key + " after " +
                                  out.front().key);
        }
        peeked_ = *next;
        break;
      }
      out.push_back(*next);
    }
    return out;
  }

 private:
  std::unique_ptr<storage::ListingCursor> cursor_;
  std::optional<storage::ObjectInfo> peeked_;
};

Entry EntryOf(const std::vector<storage::ObjectInfo>* s,
              const std::vector<storage::ObjectInfo>* d) {
  Entry e;
  e.key = s != nullptr ? s->front().key : d->front().key;
  if (s != nullptr) e.src_size = s->front().size, e.src_etag = s->front().etag;
  if (d != nullptr) e.dst_size = d->front().size, e.dst_etag = d->front().etag;
  return e;
}

}  // namespace

HistoryVerdict CompareHistories(std::span<const storage::ObjectInfo> src,
                                std::span<const storage::ObjectInfo> dst) {
  if (src.size() != dst.size()) {
    return {Verdict::kDiffer, "versions: " + std::to_string(src.size()) + " in SRC, " +
                                  std::to_string(dst.size()) + " in DST"};
  }
  HistoryVerdict v{Verdict::kIdentical, "versions"};
  for (size_t i = 0; i < src.size(); ++i) {
    const auto& s = src[i];
    const auto& d = dst[i];
    const std::string at = "versions: #" + std::to_string(i + 1) + " (newest = #1) ";
    if (s.delete_marker != d.delete_marker) return {Verdict::kDiffer, at + "delete marker"};
    if (s.delete_marker) continue;
    if (s.size != d.size) return {Verdict::kDiffer, at + "size"};
    if (s.etag == d.etag && !s.etag.empty()) continue;
    const ParsedETag se = ParseETag(s.etag, s.etag_opaque);
    const ParsedETag de = ParseETag(d.etag, d.etag_opaque);
    if (se.kind == ParsedETag::Kind::kMd5 && de.kind == ParsedETag::Kind::kMd5) {
      return {Verdict::kDiffer, at + "md5"};
    }
    v = {Verdict::kSizeOnly, "size only: " + at + "ETags not comparable"};
  }
  return v;
}

Status RunVerifyVersions(storage::Backend& src, storage::Backend& dst, Report& report,
                         std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(auto src_list, src.ListVersions("", "", ""));
  FERRY_ASSIGN_OR_RETURN(auto dst_list, dst.ListVersions("", "", ""));
  HistoryReader sr(std::move(src_list)), dr(std::move(dst_list));
  FERRY_ASSIGN_OR_RETURN(auto s, sr.Next());
  FERRY_ASSIGN_OR_RETURN(auto d, dr.Next());
  while (!s.empty() || !d.empty()) {
    if (stop.stop_requested()) return Status::Cancelled("interrupted");
    const int order = s.empty() ? 1 : d.empty() ? -1 : s.front().key.compare(d.front().key);
    if (order < 0) {
      Entry e = EntryOf(&s, nullptr);
      e.mark = Mark::kMissing;
      e.reason = "only in SRC";
      report.Add(e);
      FERRY_ASSIGN_OR_RETURN(s, sr.Next());
    } else if (order > 0) {
      Entry e = EntryOf(nullptr, &d);
      e.mark = Mark::kExtra;
      e.reason = "only in DST";
      report.Add(e);
      FERRY_ASSIGN_OR_RETURN(d, dr.Next());
    } else {
      Entry e = EntryOf(&s, &d);
      const HistoryVerdict v = CompareHistories(s, d);
      e.mark = v.verdict == Verdict::kIdentical ? Mark::kIdentical
               : v.verdict == Verdict::kDiffer  ? Mark::kDiffer
                                                : Mark::kSizeOnly;
      e.reason = v.reason;
      report.Add(e);
      FERRY_ASSIGN_OR_RETURN(s, sr.Next());
      FERRY_ASSIGN_OR_RETURN(d, dr.Next());
    }
  }
  return Status::Ok();
}

}  // namespace ferry::verify
