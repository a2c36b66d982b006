// ReadRowFacts, the rows form of a list-scan payload, ScanRows and its jobs (list_scan_rows.h).
#include "jobs/list_scan_rows.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "base/json_util.h"
#include "jobs/list_scan.h"
#include "jobs/payload.h"
#include "jobs/worker_internal.h"
#include "obs/log.h"
#include "storage/find_keys.h"
#include "storage/key.h"

namespace ferry::jobs {
namespace {

using json = nlohmann::json;

// One Stat of a batch: which pair, which side, what it found.
struct RowFactRead {
  size_t pair = 0;
  bool source = true;
  std::optional<storage::ObjectInfo> fact;
  Status status;
};

RowFactRead RowDestinationRead(size_t pair) {
  return RowFactRead{pair, false, std::nullopt, Status::Ok()};
}

// Runs every read of `reads` as a task of `executor`; the first error, naming its side.
Status RunRowReads(transfer::Executor& executor, storage::Backend& src, storage::Backend& dst,
                   const std::vector<inventory::RowPair>& batch, std::vector<RowFactRead>& reads,
                   std::stop_token stop) {
  transfer::RunAll(executor, reads.size(), [&](size_t i) {
    RowFactRead& r = reads[i];
    auto info = storage::StatKey(r.source ? src : dst, batch[r.pair].key, stop);
    if (!info.ok()) {
      r.status = info.status().WithContext(r.source ? "source" : "destination");
      return;
    }
    r.fact = std::move(*info);
    if (r.fact) r.fact->key = batch[r.pair].key;
  });
  for (const RowFactRead& r : reads) FERRY_RETURN_IF_ERROR(r.status);
  if (stop.stop_requested()) return Status::Cancelled("interrupted");
  return Status::Ok();
}

// The destination's objects of the batch's keys, now (no destination inventory): a listing of
// the range where they are dense, a Stat each for the rest (storage/find_keys.h).
Status LookUpRowsDestination(transfer::Executor& executor, storage::Backend& dst,
                             std::vector<inventory::RowPair>& batch, std::stop_token stop) {
  std::vector<std::string> keys;
  keys.reserve(batch.size());
  for (const inventory::RowPair& pair : batch) keys.push_back(pair.key);
  std::vector<RowFactRead> reads;
  auto found = [&](const storage::ObjectInfo& o, size_t first, size_t end) {
    if (o.key == keys[first] && end == first + 1) {
      batch[first].destination = o;
    } else {  // a folder the listing could not enter: each key under it is asked for
      for (size_t i = first; i < end; ++i) reads.push_back(RowDestinationRead(i));
    }
    return Status::Ok();
  };
  auto decided = storage::FindKeysByListing(dst, keys, found, stop);
  if (!decided.ok()) return decided.status().WithContext("destination");
  for (size_t i = *decided; i < keys.size(); ++i) reads.push_back(RowDestinationRead(i));
  FERRY_RETURN_IF_ERROR(RunRowReads(executor, dst, dst, batch, reads, stop));
  for (RowFactRead& r : reads) batch[r.pair].destination = std::move(r.fact);
  return Status::Ok();
}

// The current facts of every pair the plan would act on (ChecksFor), in place of its rows;
// the keys gone since the source's inventory appended to `gone`.
Status ReadCheckedFacts(transfer::Executor& executor, storage::Backend& src,
                        storage::Backend& dst, std::vector<inventory::RowPair>& batch,
                        const inventory::RowCheckOptions& options,
                        std::vector<std::string>& gone, std::stop_token stop) {
  std::vector<inventory::RowChecks> checks(batch.size());
  std::vector<RowFactRead> reads;
  for (size_t i = 0; i < batch.size(); ++i) {
    checks[i] = inventory::ChecksFor(batch[i], options);
    if (checks[i].source) reads.push_back(RowFactRead{i, true, std::nullopt, Status::Ok()});
    if (checks[i].destination) reads.push_back(RowDestinationRead(i));
  }
  FERRY_RETURN_IF_ERROR(RunRowReads(executor, src, dst, batch, reads, stop));
  // `reads` is in pair order (a pair's source read before its destination's): walked beside
  // the checked pairs, with no per-pair slots (most pairs of a large run are not read at all,
  // and an ObjectInfo slot per pair of every batch was most of an equal run's cost).
  size_t r = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!checks[i].any()) continue;
    std::optional<storage::ObjectInfo> src_fact, dst_fact;
    for (; r < reads.size() && reads[r].pair == i; ++r) {
      (reads[r].source ? src_fact : dst_fact) = std::move(reads[r].fact);
    }
    if (inventory::ApplyChecks(batch[i], checks[i], std::move(src_fact), std::move(dst_fact))) {
      gone.push_back(batch[i].key);
    }
  }
  return Status::Ok();
}

json RowSideJson(const storage::ObjectInfo& row) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(row.mtime.time_since_epoch()).count();
  auto bytes = [](const std::string& s) { return json_util::KeyJson(s, storage::IsValidUtf8(s)); };
  return json::array({row.size, ns < 0 ? 0 : ns, bytes(row.etag), bytes(row.storage_class),
                      bytes(row.version_id), row.archive.archived});
}

// A side's row of `key` as a listing gives it (has_details false, is_latest true); throws on a
// malformed one (ParseJson makes that the payload's error line).
storage::ObjectInfo RowSideFrom(const json& j, const std::string& key) {
  if (!j.is_array() || j.size() != 6) throw std::invalid_argument("a row is not 6 fields");
  storage::ObjectInfo o;
  o.key = key;
  o.size = j.at(0).get<uint64_t>();
  o.mtime = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(j.at(1).get<int64_t>())));
  o.etag = json_util::KeyFrom(j.at(2));
  o.storage_class = json_util::KeyFrom(j.at(3));
  o.version_id = json_util::KeyFrom(j.at(4));
  o.archive.archived = j.at(5).get<bool>();
  o.is_latest = true;
  return o;
}

constexpr char kRowsDestinationCurrent[] = "current";
constexpr char kRowsDestinationRows[] = "rows";

// The rows form's document (DecodeListScanRows); throws on a malformed member.
Result<ListScanRows> ReadListScanRows(const json& j) {
  ListScanRows out;
  const std::string destination = j.at("destination").get<std::string>();
  if (destination != kRowsDestinationCurrent && destination != kRowsDestinationRows) {
    return Status::InvalidArgument("list-scan payload: destination \"" + destination +
                                   "\" is neither rows nor current");
  }
  out.destination_current = destination == kRowsDestinationCurrent;
  const json& list = j.at("rows");
  if (list.size() > kListChunkKeys) {
    return Status::InvalidArgument("list-scan payload: more than " +
                                   std::to_string(kListChunkKeys) + " rows");
  }
  for (const json& p : list) {
    inventory::RowPair pair;
    pair.key = json_util::KeyFrom(p.at("k"));
    if (!out.pairs.empty() && out.pairs.back().key >= pair.key) {
      return Status::InvalidArgument("list-scan payload: key \"" + pair.key +
                                     "\" out of order or repeated");
    }
    if (p.contains("s")) pair.source = RowSideFrom(p.at("s"), pair.key);
    if (p.contains("d")) pair.destination = RowSideFrom(p.at("d"), pair.key);
    out.pairs.push_back(std::move(pair));
  }
  return out;
}

}  // namespace

inventory::RowCheckOptions RowCheckOptionsOf(const RowPlan* plan, bool destination_current) {
  inventory::RowCheckOptions o;
  o.destination_current = destination_current;
  if (plan == nullptr) {
    o.would_write = [](const storage::ObjectInfo*, const storage::ObjectInfo*) { return true; };
    o.would_delete = [](const storage::ObjectInfo&) { return true; };
    return o;
  }
  o.would_write = [plan](const storage::ObjectInfo* src, const storage::ObjectInfo* dst) {
    if (plan->filter != nullptr && !plan->filter->Matches(*src)) return false;
    const plan::Verdict v = plan::Decide(src, dst, plan->decide).verdict;
    return v == plan::Verdict::kCopy || v == plan::Verdict::kNeedDetails;
  };
  o.would_delete = [plan](const storage::ObjectInfo& dst) {
    return plan->delete_extra && (plan->filter == nullptr || plan->filter->Matches(dst));
  };
  return o;
}

Result<std::vector<std::string>> ReadRowFacts(transfer::Executor& executor,
                                              storage::Backend& src, storage::Backend& dst,
                                              std::vector<inventory::RowPair>& batch,
                                              const inventory::RowCheckOptions& options,
                                              std::stop_token stop) {
  std::vector<std::string> gone;
  if (options.destination_current) {
    FERRY_RETURN_IF_ERROR(LookUpRowsDestination(executor, dst, batch, stop));
  }
  FERRY_RETURN_IF_ERROR(ReadCheckedFacts(executor, src, dst, batch, options, gone, stop));
  return gone;
}

Result<const storage::ObjectInfo*> RowSideCursor::Next() {
  while (at_ < batch_.size()) {
    const inventory::RowPair& pair = batch_[at_++];
    const std::optional<storage::ObjectInfo>& o =
        side_ == Side::kSource ? pair.source : pair.destination;
    if (o) return &*o;
  }
  return static_cast<const storage::ObjectInfo*>(nullptr);
}

void ReportGoneSinceInventory(const std::vector<std::string>& gone,
                              const std::vector<inventory::RowPair>& batch,
                              report::RowSink* rows) {
  ReportNotOnSource(
      gone,
      [&batch](const std::string& key) {
        auto it = std::lower_bound(
            batch.begin(), batch.end(), key,
            [](const inventory::RowPair& p, const std::string& k) { return p.key < k; });
        return it != batch.end() && it->key == key && it->destination.has_value();
      },
      kGoneSinceInventory, rows);
}

void CountGoneSinceInventory(const std::vector<std::string>& gone, transfer::Stats& stats) {
  for (const std::string& key : gone) {
    const uint64_t n = ++stats.listed_not_found;
    if (n <= kNamedMissingAtMost) {
      obs::Log(obs::Level::kWarn, "skipped: gone since the inventory", {{"key", key}});
    } else if (n == kNamedMissingAtMost + 1) {
      obs::Log(obs::Level::kWarn, "more keys gone since the inventory: counted in the summary, "
                                  "not named");
    }
  }
}

std::string EncodeListScanRows(const ListScanRows& rows) {
  json list = json::array();
  list.get_ref<json::array_t&>().reserve(rows.pairs.size());
  for (const inventory::RowPair& pair : rows.pairs) {
    json p = {{"k", json_util::KeyJson(pair.key, storage::IsValidUtf8(pair.key))}};
    if (pair.source) p["s"] = RowSideJson(*pair.source);
    if (pair.destination) p["d"] = RowSideJson(*pair.destination);
    list.push_back(std::move(p));
  }
  return json_util::Dump(
      json{{"rows", std::move(list)},
           {"destination",
            rows.destination_current ? kRowsDestinationCurrent : kRowsDestinationRows}});
}

Result<ListScanRows> DecodeListScanRows(const std::string& text) {
  return json_util::ParseJson(text, "list-scan payload", ReadListScanRows);
}

bool IsListScanRows(const std::string& text) {
  // Both forms are compact JSON objects written by Dump, whose members sort by name: the keys
  // form is {"keys":...}, the rows form {"destination":...,"rows":...}.
  return text.starts_with("{\"destination\":");
}

Status ScanRows(const ScanContext& scan, ListScanRows rows, std::vector<JobSpec>& more,
                std::stop_token stop) {
  RunContext& ctx = scan.run;
  if (ctx.hook != nullptr) {
    return Status::NotSupported("an inventory run cannot be served by a run hook (--compress)");
  }
  FERRY_CHECK(scan.options.executor != nullptr);  // set by the Worker
  const RowPlan plan{.filter = ctx.filter ? &*ctx.filter : nullptr,
                     .decide = ctx.options.decide,
                     .delete_extra = ctx.options.delete_extra};
  const inventory::RowCheckOptions checks = RowCheckOptionsOf(&plan, rows.destination_current);
  FERRY_ASSIGN_OR_RETURN(std::vector<std::string> gone,
                         ReadRowFacts(*scan.options.executor, *ctx.src, *ctx.dst, rows.pairs,
                                      checks, stop));
  RowSideCursor src(rows.pairs, RowSideCursor::Side::kSource);
  RowSideCursor dst(rows.pairs, RowSideCursor::Side::kDestination);
  FERRY_RETURN_IF_ERROR(PlanObjects(scan, src, dst, more));
  ReportGoneSinceInventory(gone, rows.pairs, scan.rows);
  CountGoneSinceInventory(gone, scan.stats);
  return Status::Ok();
}

Result<std::vector<JobSpec>> ListScanRowJobs(
    RunId run, int max_attempts, bool destination_current,
    const std::function<Result<inventory::RowPair*>()>& next) {
  std::vector<JobSpec> jobs;
  ListScanRows chunk;
  chunk.destination_current = destination_current;
  auto flush = [&] {
    if (chunk.pairs.empty()) return;
    JobSpec spec;
    spec.run = run;
    spec.kind = kListScanKind;
    spec.payload = EncodeListScanRows(chunk);
    spec.max_attempts = max_attempts;
    jobs.push_back(std::move(spec));
    chunk.pairs.clear();
  };
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(inventory::RowPair* pair, next());
    if (pair == nullptr) break;
    chunk.pairs.push_back(std::move(*pair));
    if (chunk.pairs.size() == kListChunkKeys) flush();
  }
  flush();
  return jobs;
}

}  // namespace ferry::jobs
