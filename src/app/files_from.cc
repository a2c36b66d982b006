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
#include "storage/find_keys.h"
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

// One side's objects of a batch of keys, in key order.
struct SideLookup {
  storage::Backend* backend = nullptr;
  std::vector<storage::ObjectInfo> listed;  // what the listing phase found
  size_t decided = 0;                       // keys decided by the listing phase
  std::vector<std::optional<storage::ObjectInfo>> statted;  // keys[decided..], by Stat
  std::vector<bool> seen;  // per key: found, or under a folder that could not be entered
  Status status;
};

void ListSide(SideLookup& side, const std::vector<std::string>& keys, std::stop_token stop) {
  side.seen.assign(keys.size(), false);
  auto found = [&side](const storage::ObjectInfo& o, size_t first, size_t end) {
    side.listed.push_back(o);
    for (size_t i = first; i < end; ++i) side.seen[i] = true;
    return Status::Ok();
  };
  auto decided = storage::FindKeysByListing(*side.backend, keys, found, stop);
  if (!decided.ok()) {
    side.status = decided.status();
    return;
  }
  side.decided = *decided;
  side.statted.resize(keys.size() - side.decided);
}

// The side's objects in key order: the listing phase's, then the Stats' (all after them).
std::vector<storage::ObjectInfo> SideObjects(SideLookup& side) {
  std::vector<storage::ObjectInfo> out = std::move(side.listed);
  for (auto& o : side.statted) {
    if (o) out.push_back(std::move(*o));
  }
  return out;
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
  Status MergeBatch(transfer::Executor& executor, storage::Backend& src, storage::Backend& dst,
                    const std::vector<std::string>& keys, plan::ListingVisitor& planner,
                    std::stop_token stop) {
    SideLookup sides[2];
    sides[0].backend = &src;
    sides[1].backend = &dst;
    // Both sides' listings at once, then every Stat of both sides, each a task of the run's
    // executor (their requests count in its budget like the copies').
    transfer::RunAll(executor, 2, [&](size_t i) { ListSide(sides[i], keys, stop); });
    for (SideLookup& side : sides) FERRY_RETURN_IF_ERROR(side.status);
    const size_t src_stats = sides[0].statted.size();
    std::vector<Status> errors(src_stats + sides[1].statted.size());
    transfer::RunAll(executor, errors.size(), [&](size_t i) {
      SideLookup& side = i < src_stats ? sides[0] : sides[1];
      const size_t at = i < src_stats ? i : i - src_stats;
      auto info = storage::StatKey(*side.backend, keys[side.decided + at], stop);
      if (!info.ok()) {
        errors[i] = info.status().WithContext(i < src_stats ? "source" : "destination");
      } else {
        side.statted[at] = std::move(*info);
      }
    });
    for (const Status& e : errors) FERRY_RETURN_IF_ERROR(e);
    CountMissing(sides[0], keys);
    plan::VectorCursor src_objects(SideObjects(sides[0]));
    plan::VectorCursor dst_objects(SideObjects(sides[1]));
    return plan::MergeListings(src_objects, dst_objects, planner);
  }

  // Listed keys the source lacks: counted, and the first kNamedMissingAtMost named.
  void CountMissing(const SideLookup& source, const std::vector<std::string>& keys) {
    for (size_t i = 0; i < keys.size(); ++i) {
      const bool present =
          source.seen[i] || (i >= source.decided && source.statted[i - source.decided]);
      if (present) continue;
      const uint64_t n = ++stats_.listed_not_found;
      if (n <= kNamedMissingAtMost) {
        obs::Log(obs::Level::kWarn, "listed but not found on the source", {{"key", keys[i]}});
      } else if (n == kNamedMissingAtMost + 1) {
        obs::Log(obs::Level::kWarn, "more listed keys not found on the source: counted in "
                                       "the summary, not named");
      }
    }
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
  if (settings.durable) {
    return Status::InvalidArgument("--files-from runs in memory only for now: add --no-state "
                                   "(or --dry-run)");
  }
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

transfer::ListingDriver FilesFrom::Driver(transfer::Stats& stats) {
  auto driver = std::make_shared<KeyListDriver>(*keys_, settings_.batch, stats);
  return [driver](transfer::Executor& executor, storage::Backend& src, storage::Backend& dst,
                  plan::ListingVisitor& planner, std::stop_token stop) {
    return driver->Run(executor, src, dst, planner, stop);
  };
}

}  // namespace ferry::app
