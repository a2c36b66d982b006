// Expire: the compare-and-delete pass (see expire.h for the order of steps and why).
#include "cache/expire.h"

#include <set>

namespace ferry::cache {

Result<ExpireResult> ExpirePass(CacheIndex& index, storage::Backend& cache,
                                const ExpireOptions& options, std::stop_token stop) {
  ExpireResult result;
  if (options.approve) {
    FERRY_ASSIGN_OR_RETURN(uint64_t expired, index.CountExpired());
    FERRY_ASSIGN_OR_RETURN(CacheTotals held, index.Totals());
    FERRY_RETURN_IF_ERROR(options.approve(expired, held.objects));
  }
  std::set<std::string> seen;  // each row is looked at once per pass
  for (;;) {
    if (stop.stop_requested()) return Status::Cancelled("interrupted");
    FERRY_ASSIGN_OR_RETURN(std::vector<Entry> rows, index.Expired(options.batch));
    uint64_t fresh = 0;
    for (Entry& e : rows) {
      if (!seen.insert(e.key).second) continue;
      fresh++;
      if (options.before_mark) options.before_mark(e);
      FERRY_ASSIGN_OR_RETURN(bool marked, index.MarkExpiring(e, options.mark_lease));
      if (!marked) {
        result.kept++;
        continue;
      }
      FERRY_ASSIGN_OR_RETURN(bool held, index.HoldMark(e, options.mark_lease));
      if (!held) {
        result.kept++;
        continue;
      }
      if (Status s = cache.Delete(e.key, stop); !s.ok() && s.code() != ErrorCode::kNotFound) {
        result.failed++;
        result.failures.push_back(KeyFailure{
            .key = e.key, .error = s.message(), .request = "expire", .at_ms = index.NowMs()});
        continue;
      }
      FERRY_ASSIGN_OR_RETURN(bool deleted, index.DeleteMarked(e));
      if (deleted) {
        result.expired++;
        result.bytes += e.size;
      } else {
        result.kept++;  // taken over meanwhile: that warm copies the object again
      }
    }
    if (fresh == 0 || rows.size() < static_cast<size_t>(options.batch)) break;
  }
  return result;
}

void Serve(CacheIndex& index, storage::Backend& cache, const ExpireOptions& options,
           std::chrono::milliseconds interval,
           const std::function<void(const Result<ExpireResult>&)>& on_pass, std::stop_token stop) {
  while (!stop.stop_requested()) {
    Result<ExpireResult> r = ExpirePass(index, cache, options, stop);
    if (stop.stop_requested()) return;
    if (on_pass) on_pass(r);
    index.clock().SleepFor(interval, stop);
  }
}

}  // namespace ferry::cache
