// FilesFrom (files_from.h): the list opened and sorted, then the run's keys looked up on both
// sides per batch and merged into the planner.
#include "app/files_from.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "inventory/row_checks.h"
#include "inventory/run_keys.h"
#include "lists/key_list.h"
#include "lists/line_source.h"
#include "obs/log.h"
#include "storage/find_keys.h"
#include "plan/decide.h"
#include "plan/merge.h"
#include "plan/vector_cursor.h"
#include "jobs/list_scan.h"
#include "jobs/list_scan_rows.h"
#include "transfer/executor.h"

namespace ferry::app {
namespace {

// Where the list's bytes come from, openable again from the start (except stdin).
struct ListOrigin {
  std::function<Result<std::unique_ptr<lists::ByteSource>>()> open;
  bool reopenable = true;
  std::unique_ptr<storage::Backend> store;  // the list's store, when it is an object
};

Result<ListOrigin> ListOriginOf(Wiring& wiring, const std::string& list, std::stop_token stop) {
  ListOrigin origin;
  if (list == "-") {
    origin.open = [] { return lists::OpenFileSource("-"); };
    origin.reopenable = false;
    return origin;
  }
  FERRY_ASSIGN_OR_RETURN(Location loc, ParseLocation(list));
  if (!loc.is_s3()) {
    origin.open = [path = loc.path] { return lists::OpenFileSource(path); };
    return origin;
  }
  if (list.ends_with('/') || loc.prefix.empty()) {
    return Status::InvalidArgument("--files-from " + list + ": names a bucket or a folder, not "
                                   "the list's object");
  }
  std::string key = loc.prefix.substr(0, loc.prefix.size() - 1);  // ParseLocation added '/'
  loc.prefix.clear();
  FERRY_ASSIGN_OR_RETURN(origin.store, wiring.OpenBackend(loc, /*create_local=*/false));
  origin.open = [store = origin.store.get(), key, list, stop] {
    return lists::OpenObjectSource(*store, key, stop, list);
  };
  return origin;
}

// A KeyStream read through, not owned (SortKeys reads its whole input before it returns).
class BorrowedKeyStream : public lists::KeyStream {
 public:
  explicit BorrowedKeyStream(lists::KeyStream& keys) : keys_(keys) {}
  Result<std::optional<std::string>> Next() override { return keys_.Next(); }

 private:
  lists::KeyStream& keys_;
};

// One inventory opened, checked and its current keys under `side`'s prefix sorted.
struct InventoryKeys {
  OpenedInventory opened;
  std::unique_ptr<lists::SortedKeyCursor> keys;  // row records (inventory/run_rows.h)
  bool rows_compare = false;  // the rows have what a comparison needs (RowsCanCompare)
};

// The rows can stand for a listing when they carry what a comparison reads: without Size,
// LastModifiedDate and ETag columns, every row would look like every other (size 0, no time).
bool RowsCanCompare(const inventory::Manifest& manifest) {
  auto has = [&manifest](inventory::Field f) {
    return std::find(manifest.columns.begin(), manifest.columns.end(), f) !=
           manifest.columns.end();
  };
  return has(inventory::Field::kSize) && has(inventory::Field::kLastModifiedDate) &&
         has(inventory::Field::kETag);
}

Result<InventoryKeys> SortedInventoryKeys(Wiring& wiring, const FilesFromSettings& settings,
                                          const std::string& location, const Location& side,
                                          const std::string& flag, std::stop_token stop) {
  if (!side.is_s3()) {
    return Status::InvalidArgument(flag + " needs an S3 location on its side of the run, not " +
                                   side.text);
  }
  InventoryKeys out;
  inventory::RowsOptions rows_options;
  rows_options.spool_dir = settings.temp_dir;
  auto opened = OpenInventory(wiring, location, rows_options, stop);
  if (!opened.ok()) return opened.status().WithContext(flag);
  out.opened = std::move(opened).value();
  const inventory::Manifest& manifest = out.opened.rows->manifest();
  FERRY_RETURN_IF_ERROR(inventory::CheckInventoryBucket(manifest, side.bucket, flag));
  out.rows_compare = RowsCanCompare(manifest);
  inventory::RunKeyStream stream(*out.opened.rows, manifest, side.prefix, /*whole_rows=*/true);
  lists::SortKeysOptions sort;
  sort.memory_bytes = settings.sort_memory / 2;  // the two sides' sorted keys live at once
  sort.temp_dir = settings.temp_dir;
  FERRY_ASSIGN_OR_RETURN(out.keys,
                         lists::SortKeys(std::make_unique<BorrowedKeyStream>(stream), sort));
  const lists::SortKeysStats& s = out.keys->stats();
  obs::Log(obs::Level::kInfo, "inventory read",
           {{"inventory", manifest.location},
            {"rows", std::to_string(stream.stats().rows)},
            {"keys", std::to_string(s.keys_read)},
            {"not_current", std::to_string(stream.stats().not_current)},
            {"outside_prefix", std::to_string(stream.stats().outside_prefix)},
            {"sorted", s.in_order ? "already" : s.runs_spilled > 0 ? "on disk" : "in memory"},
            {"runs_spilled", std::to_string(s.runs_spilled)}});
  return out;
}

// The run's --report as it is when a driver runs (the command opens it after making the driver).
report::RowSink* RunReport(const transfer::SyncOptions* run) {
  return run != nullptr ? run->transfer.report : nullptr;
}

class KeyListDriver {
 public:
  // `keys`: the sorted keys (nullptr at the end). `in_source_list`: in an inventory run (null
  // for a list), whether the key `keys` gave last is the source inventory's: only such a key
  // counts as missing when the source lacks it. `run` (may be null): its --report, as it is
  // when the driver runs, gets a row per missing key.
  KeyListDriver(std::function<Result<const std::string*>()> keys,
                std::function<bool()> in_source_list, size_t batch, transfer::Stats& stats,
                const transfer::SyncOptions* run)
      : keys_(std::move(keys)),
        in_source_list_(std::move(in_source_list)),
        batch_(batch),
        stats_(stats),
        run_(run) {}

  Status Run(transfer::Executor& executor, storage::Backend& src, storage::Backend& dst,
             plan::ListingVisitor& planner, std::stop_token stop) {
    std::vector<std::string> batch;
    for (;;) {
      batch.clear();
      not_in_source_list_.clear();
      while (batch.size() < batch_) {
        FERRY_ASSIGN_OR_RETURN(const std::string* key, keys_());
        if (key == nullptr) break;
        batch.push_back(*key);
        if (in_source_list_ && !in_source_list_()) {
          not_in_source_list_.insert(*key);
        }
      }
      if (batch.empty()) return Status::Ok();
      if (stop.stop_requested()) return Status::Cancelled("interrupted");
      FERRY_RETURN_IF_ERROR(MergeBatch(executor, src, dst, batch, planner, stop));
    }
  }

 private:
  // Both sides' objects of `keys` (jobs::LookUpKeys: lookups as tasks of the run's executor,
  // their requests counted in its budget like the copies'), merged into the run's planner.
  Status MergeBatch(transfer::Executor& executor, storage::Backend& src, storage::Backend& dst,
                    const std::vector<std::string>& keys, plan::ListingVisitor& planner,
                    std::stop_token stop) {
    FERRY_ASSIGN_OR_RETURN(jobs::KeysFound found,
                           jobs::LookUpKeys(executor, src, dst, keys, stop));
    if (!not_in_source_list_.empty()) {  // a destination inventory's keys: not "missing"
      std::erase_if(found.missing,
                    [this](const std::string& key) { return not_in_source_list_.contains(key); });
    }
    jobs::ReportNotOnSource(found.missing, found.destination, jobs::kListedNotOnSource,
                            RunReport(run_));
    jobs::CountMissing(found.missing, stats_);
    plan::VectorCursor src_objects(std::move(found.source));
    plan::VectorCursor dst_objects(std::move(found.destination));
    return plan::MergeListings(src_objects, dst_objects, planner);
  }

  std::function<Result<const std::string*>()> keys_;
  std::function<bool()> in_source_list_;
  std::set<std::string> not_in_source_list_;  // of the current batch
  const size_t batch_;
  transfer::Stats& stats_;
  const transfer::SyncOptions* const run_;  // its --report: a row per missing key; may be null
};

// The run's plan as inventory::ChecksFor asks it (null: unknown, so every row's key is read).
std::optional<jobs::RowPlan> RowPlanOf(const transfer::SyncOptions* run) {
  if (run == nullptr) return std::nullopt;
  return jobs::RowPlan{
      .filter = &run->filter, .decide = run->transfer.decide, .delete_extra = run->delete_extra};
}

// An inventory run planned from the rows (inventory/row_checks.h): per batch, the pairs of rows
// (the destination looked up instead when it has no inventory), the facts read now where the
// plan would act (jobs::ReadRowFacts: a Stat each, as tasks of the run's executor), then merged
// into the planner. A durable run's workers do the same per list-scan job (jobs::ScanRows).
class InventoryRowsDriver {
 public:
  InventoryRowsDriver(inventory::RowPairCursor& pairs, const transfer::SyncOptions* run,
                      bool destination_current, size_t batch, transfer::Stats& stats)
      : pairs_(pairs),
        plan_(RowPlanOf(run)),
        checks_(jobs::RowCheckOptionsOf(plan_ ? &*plan_ : nullptr, destination_current)),
        batch_(batch),
        stats_(stats),
        run_(run) {}

  Status Run(transfer::Executor& executor, storage::Backend& src, storage::Backend& dst,
             plan::ListingVisitor& planner, std::stop_token stop) {
    std::vector<inventory::RowPair> batch;
    batch.reserve(batch_);
    for (;;) {
      batch.clear();
      while (batch.size() < batch_) {
        FERRY_ASSIGN_OR_RETURN(inventory::RowPair* pair, pairs_.Next());
        if (pair == nullptr) break;
        batch.push_back(std::move(*pair));  // the cursor's pair: moved, not copied
      }
      if (batch.empty()) return Status::Ok();
      if (stop.stop_requested()) return Status::Cancelled("interrupted");
      FERRY_ASSIGN_OR_RETURN(std::vector<std::string> gone,
                             jobs::ReadRowFacts(executor, src, dst, batch, checks_, stop));
      jobs::ReportGoneSinceInventory(gone, batch, RunReport(run_));
      jobs::CountGoneSinceInventory(gone, stats_);
      jobs::RowSideCursor src_cursor(batch, jobs::RowSideCursor::Side::kSource);
      jobs::RowSideCursor dst_cursor(batch, jobs::RowSideCursor::Side::kDestination);
      FERRY_RETURN_IF_ERROR(plan::MergeListings(src_cursor, dst_cursor, planner));
    }
  }

 private:
  inventory::RowPairCursor& pairs_;
  const std::optional<jobs::RowPlan> plan_;  // checks_ points into it
  const inventory::RowCheckOptions checks_;
  const size_t batch_;
  transfer::Stats& stats_;
  const transfer::SyncOptions* const run_;  // its --report: a row per key gone since; may be null
};

}  // namespace

FilesFrom::FilesFrom(FilesFromSettings settings, std::unique_ptr<storage::Backend> list_store,
                     std::unique_ptr<lists::SortedKeyCursor> keys)
    : settings_(std::move(settings)), list_store_(std::move(list_store)), keys_(std::move(keys)) {}

FilesFrom::~FilesFrom() = default;

Result<std::unique_ptr<FilesFrom>> FilesFrom::Open(Wiring& wiring, FilesFromSettings settings,
                                                   std::stop_token stop) {
  lists::KeyListOptions list_options;
  if (settings.format.empty()) {
    list_options.format = lists::FormatForName(settings.list);
  } else {
    FERRY_ASSIGN_OR_RETURN(list_options.format, lists::ParseListFormat(settings.format));
  }
  if (settings.source.is_s3()) list_options.bucket = settings.source.bucket;
  if (settings.source.is_s3()) list_options.prefix = settings.source.prefix;
  FERRY_ASSIGN_OR_RETURN(ListOrigin origin, ListOriginOf(wiring, settings.list, stop));
  auto open_keys = [open = origin.open, list_options]() -> Result<std::unique_ptr<lists::KeyStream>> {
    FERRY_ASSIGN_OR_RETURN(auto bytes, open());
    return std::unique_ptr<lists::KeyStream>(
        new lists::KeyListReader(std::move(bytes), list_options));
  };
  lists::SortKeysOptions sort;
  sort.memory_bytes = settings.sort_memory;
  sort.temp_dir = settings.temp_dir;
  if (origin.reopenable) sort.reopen = open_keys;
  auto first = open_keys();
  if (!first.ok() && first.status().code() == ErrorCode::kNotFound) {
    return Status::InvalidArgument(first.status().message());  // bad input: exit 2
  }
  if (!first.ok()) return first.status();
  FERRY_ASSIGN_OR_RETURN(auto keys, lists::SortKeys(std::move(*first), sort));
  const lists::SortKeysStats& s = keys->stats();
  obs::Log(obs::Level::kInfo, "key list read",
           {{"list", settings.list},
            {"keys", std::to_string(s.keys_read)},
            {"sorted", s.in_order ? "already" : s.runs_spilled > 0 ? "on disk" : "in memory"},
            {"runs_spilled", std::to_string(s.runs_spilled)}});
  return std::unique_ptr<FilesFrom>(
      new FilesFrom(std::move(settings), std::move(origin.store), std::move(keys)));
}

Result<std::unique_ptr<FilesFrom>> FilesFrom::OpenInventories(Wiring& wiring,
                                                              FilesFromSettings settings,
                                                              std::stop_token stop) {
  if (settings.source_inventory.empty()) {
    return Status::InvalidArgument("--dest-inventory needs --source-inventory: a run planned "
                                   "from the destination's inventory alone would list the source");
  }
  FERRY_ASSIGN_OR_RETURN(InventoryKeys source,
                         SortedInventoryKeys(wiring, settings, settings.source_inventory,
                                             settings.source, "--source-inventory", stop));
  InventoryKeys dest;
  if (!settings.dest_inventory.empty()) {
    FERRY_ASSIGN_OR_RETURN(dest, SortedInventoryKeys(wiring, settings, settings.dest_inventory,
                                                     settings.destination, "--dest-inventory",
                                                     stop));
  }
  const bool rows_compare = source.rows_compare && (dest.keys == nullptr || dest.rows_compare);
  const bool dest_rows = dest.keys != nullptr;
  auto run = std::unique_ptr<FilesFrom>(new FilesFrom(std::move(settings), nullptr, nullptr));
  run->pairs_ =
      std::make_unique<inventory::RowPairCursor>(std::move(source.keys), std::move(dest.keys));
  run->inventories_.push_back(std::move(source.opened));
  if (dest.opened.store != nullptr) run->inventories_.push_back(std::move(dest.opened));
  run->rows_compare_ = rows_compare;
  run->dest_rows_ = dest_rows;
  if (!rows_compare) {
    obs::Log(obs::Level::kInfo, "an inventory without Size, LastModifiedDate and ETag columns: "
                                "its keys are looked up on both sides, its rows not compared");
  }
  return run;
}

Result<std::vector<jobs::JobSpec>> FilesFrom::ListScanJobs(int max_attempts) {
  if (pairs_ != nullptr && rows_compare_) {  // a durable inventory run: its rows
    return jobs::ListScanRowJobs(0, max_attempts, /*destination_current=*/!dest_rows_,
                                 [this] { return pairs_->Next(); });
  }
  if (pairs_ != nullptr) {  // inventories without the columns: keys, looked up by the workers
    return jobs::ListScanJobs(0, max_attempts, [this]() -> Result<const std::string*> {
      FERRY_ASSIGN_OR_RETURN(const inventory::RowPair* pair, pairs_->Next());
      return pair == nullptr ? nullptr : &pair->key;
    });
  }
  return jobs::ListScanJobs(0, max_attempts, [this] { return keys_->Next(); });
}

transfer::ListingDriver FilesFrom::Driver(transfer::Stats& stats,
                                          const transfer::SyncOptions* run) {
  if (pairs_ != nullptr && rows_compare_) {
    auto driver = std::make_shared<InventoryRowsDriver>(*pairs_, run, !dest_rows_,
                                                        settings_.batch, stats);
    return [driver](transfer::Executor& executor, storage::Backend& src, storage::Backend& dst,
                    plan::ListingVisitor& planner, std::stop_token stop) {
      return driver->Run(executor, src, dst, planner, stop);
    };
  }
  std::shared_ptr<KeyListDriver> driver;
  if (pairs_ != nullptr) {  // inventories whose rows cannot be compared: their keys only
    inventory::RowPairCursor* pairs = pairs_.get();
    auto last = std::make_shared<bool>(false);  // whether the last key was the source's
    driver = std::make_shared<KeyListDriver>(
        [pairs, last]() -> Result<const std::string*> {
          FERRY_ASSIGN_OR_RETURN(const inventory::RowPair* pair, pairs->Next());
          if (pair == nullptr) return nullptr;
          *last = pair->source.has_value();
          return &pair->key;
        },
        [last] { return *last; }, settings_.batch, stats, run);
  } else {
    driver = std::make_shared<KeyListDriver>([this] { return keys_->Next(); }, nullptr,
                                             settings_.batch, stats, run);
  }
  return [driver](transfer::Executor& executor, storage::Backend& src, storage::Backend& dst,
                  plan::ListingVisitor& planner, std::stop_token stop) {
    return driver->Run(executor, src, dst, planner, stop);
  };
}

}  // namespace ferry::app
