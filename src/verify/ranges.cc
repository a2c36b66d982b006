#include "verify/ranges.h"

#include <optional>
#include <string>

namespace ferry::verify {
namespace {

bool Splittable(const storage::Backend& b) {
  const auto& f = b.features();
  return f.sorted_listing && f.start_after && !f.cheap_reads;
}

}  // namespace

Result<RangePlan> PlanRanges(storage::Backend& src, storage::Backend& dst,
                             const RangePlanOptions& options) {
  RangePlan plan;
  auto one_more = [&plan](std::string start_after) {
    plan.ranges.push_back(jobs::KeyRange{std::move(start_after), std::nullopt});
    return plan;
  };
  if (options.max_ranges <= 1 || options.first_page == 0 || !Splittable(src) ||
      !Splittable(dst)) {
    return one_more("");
  }
  // The first page: the first range holds it whole.
  std::string last_listed;
  {
    FERRY_ASSIGN_OR_RETURN(auto cursor, src.List(""));
    plan.requests += 1;
    for (size_t i = 0; i < options.first_page; ++i) {
      FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
      if (o == nullptr) return one_more("");
      last_listed = o->key;
    }
  }
  std::string start_after;     // of the range being cut
  std::string before = last_listed;  // the last key known to be in it
  while (plan.ranges.size() + 1 < options.max_ranges) {
    plan.requests += 1;
    FERRY_ASSIGN_OR_RETURN(std::optional<std::string> first, src.FirstKeyAfter(before));
    if (!first) break;
    int probes = 0;
    auto split = jobs::FindSplit(src, jobs::KeyRange{before, std::nullopt}, *first, &probes);
    plan.requests += probes;
    if (!split.ok()) return split.status();
    if (!*split) break;
    plan.ranges.push_back(jobs::KeyRange{start_after, **split});
    start_after = **split;
    before = **split;
  }
  return one_more(start_after);
}

}  // namespace ferry::verify
