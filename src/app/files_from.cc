// FilesFrom (files_from.h): the list opened and sorted, then the run's keys looked up on both
// sides per batch and merged into the planner.
#include "app/files_from.h"

#include <optional>
#include <utility>
#include <vector>

#include "lists/key_list.h"
#include "lists/line_source.h"
#include "obs/log.h"
#include "plan/merge.h"
#include "plan/vector_cursor.h"
#include "jobs/list_scan.h"
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

class KeyListDriver {
 public:
  KeyListDriver(lists::SortedKeyCursor& keys, size_t batch, transfer::Stats& stats)
      : keys_(keys), batch_(batch), stats_(stats) {}

  Status Run(transfer::Executor& executor, storage::Backend& src, storage::Backend& dst,
             plan::ListingVisitor& planner, std::stop_token stop) {
    std::vector<std::string> batch;
    for (;;) {
      batch.clear();
      while (batch.size() < batch_) {
        FERRY_ASSIGN_OR_RETURN(const std::string* key, keys_.Next());
        if (key == nullptr) break;
        batch.push_back(*key);
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
    jobs::CountMissing(found.missing, stats_);
    plan::VectorCursor src_objects(std::move(found.source));
    plan::VectorCursor dst_objects(std::move(found.destination));
    return plan::MergeListings(src_objects, dst_objects, planner);
  }

  lists::SortedKeyCursor& keys_;
  const size_t batch_;
  transfer::Stats& stats_;
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

Result<std::vector<jobs::JobSpec>> FilesFrom::ListScanJobs(int max_attempts) {
  return jobs::ListScanJobs(0, max_attempts, [this] { return keys_->Next(); });
}

transfer::ListingDriver FilesFrom::Driver(transfer::Stats& stats) {
  auto driver = std::make_shared<KeyListDriver>(*keys_, settings_.batch, stats);
  return [driver](transfer::Executor& executor, storage::Backend& src, storage::Backend& dst,
                  plan::ListingVisitor& planner, std::stop_token stop) {
    return driver->Run(executor, src, dst, planner, stop);
  };
}

}  // namespace ferry::app
