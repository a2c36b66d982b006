// The staged archives of one run, by name, and their discard when the run is (`--restart`).
//
// A compressed sync's pack job names its archive "<run>-<job>-<8 hex>.fza" (a backup's:
// "b<run>-<job>-<8 hex>.fza"), the hex digits the CRC32C of the run's source, destination and
// creation time, so that runs of two state stores staging into one prefix never share a name
// (replication's archives: replicate/transport.h, RunArchiveNames). DiscardArchives removes
// every archive of a run from a staging location: its unfinished uploads aborted, its complete
// archives deleted (also those no progress row names: a job killed between its upload and its
// rows), its progress rows marked done.
//
// Thread-safety: pure functions and value types; DiscardArchives uses the backends as given.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/backend.h"
#include "transport/store.h"

namespace ferry::transport {

// The archive names of one compressed sync (or backup) run.
struct SyncArchiveNames {
  int64_t run = 0;
  std::string source;         // RunSpec::source
  std::string destination;    // RunSpec::destination
  int64_t created_ticks = 0;  // the run's creation time, time_since_epoch().count()
  bool backup = false;

  std::string KeyOf(int64_t job) const;
  // "<run>-" ("b<run>-"): every archive of the run starts with it (so may another store's).
  std::string Prefix() const;
  bool Owns(std::string_view key) const;  // an archive of this run, its hex digits too
};

// Which keys of a staging location are one run's archives: all start with `prefix`.
struct RunArchives {
  std::string prefix;
  std::function<bool(std::string_view key)> owns;
};

struct DiscardedArchives {
  uint64_t archives = 0;  // archives deleted from staging
  uint64_t uploads = 0;   // unfinished archive uploads aborted
  uint64_t rows = 0;      // progress rows marked done
};

// Aborts every unfinished upload of the archive `key` on `staging`. A job that writes the
// archive `key` (its name is that job's alone) calls it on a retry, before writing again: an
// earlier attempt that died mid-archive left its upload open, and so did a create whose reply
// was lost (sent again, it made a second upload); and once the archive is complete, for the
// latter. Best effort: a failure costs only storage until the bucket's lifecycle rules end it.
void AbortEarlierUploads(storage::Backend& staging, const std::string& key,
                         std::stop_token stop);

// Removes `run`'s archives from `staging` (named `staging_name` in the progress rows of
// `rows`; null: none kept). Call once no job of the run can still write there.
Result<DiscardedArchives> DiscardArchives(const std::string& staging_name,
                                          storage::Backend& staging, const RunArchives& run,
                                          TransportStore* rows, std::stop_token stop);

}  // namespace ferry::transport
