// TransportStore: the progress of every staged archive, kept in the state database
// (component "transport", SQLite or PostgreSQL through state::SqlSession), like replicate's
// StatusStore and the cache index.
//
// One row per (staging location, archive key, destination location): its state, how many
// entries it holds, and the unpack watermark `written`: every entry below it is known to be on
// the destination (entries are unpacked in manifest order, one at a time). The pack side adds
// the row (kStaged) once the archive is complete on the staging location; the unpacker moves it
// to kUnpacking as it records its watermark, to kUnpacked once every entry meant for its
// destination is written, and to kDone once the archive is deleted. An archive meant for several
// destinations (one row each) is deleted by the unpacker whose Unpacked call finds every row of
// it unpacked (one transaction decides: the rows are locked first), then ArchiveDeleted marks
// them all done. A crash between the two leaves the rows kUnpacked: the next Unpacked call of
// any of them (a retried unpack) finds them all unpacked again and deletes. A crashed unpack resumes at the watermark (unpack.h says how the entries
// between it and the crash are recognised without writing them twice).
//
// Errors: the session's (kUnavailable when the database cannot be reached, kFailedPrecondition
// for a database written by a newer ferry). Thread-safety: thread-safe (the session is).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "state/sql_session.h"

namespace ferry::transport {

enum class ArchiveState { kStaged, kUnpacking, kUnpacked, kDone };
// "staged", "unpacking", "unpacked", "done"
std::string_view ArchiveStateName(ArchiveState s);

struct ArchiveRow {
  std::string staging;      // staging location text ("remote:bucket/prefix")
  std::string archive;      // the archive's key under it
  std::string destination;  // destination location text
  ArchiveState state = ArchiveState::kStaged;
  uint64_t entries = 0;       // in the archive (0 = not known yet)
  uint64_t written = 0;       // watermark: entries [0, written) are on the destination
  uint64_t archive_bytes = 0;
  int64_t updated_ns = 0;
};

// The regions of a run's `--unpack-region` text: "" (none), "A" or a list "A,B" (in order,
// empty items left out).
std::vector<std::string> RegionList(std::string_view regions);
// The `destination` of the progress row of `region` for an archive of a run whose entries are
// meant for several regions (a list): "<destination> @<region>", so that each region's unpack
// has a row of its own and the last one deletes the archive (Unpacked). One region or none:
// `destination` itself.
std::string RegionDestination(std::string_view destination, std::string_view region,
                              bool several_regions);

class TransportStore {
 public:
  // Migrates component "transport" of `session`'s database; `session` must outlive the store,
  // and so must `clock`, which stamps the rows' `updated` (ArchiveRow::updated_ns).
  static Result<std::unique_ptr<TransportStore>> Open(state::SqlSession& session,
                                                      Clock& clock = SystemClock::Default());

  // Records a complete staged archive (inserted as kStaged; a row that exists is left alone:
  // a pack that ran again after its archive was recorded must not reset an unpack).
  Status Staged(const ArchiveRow& row);
  // The row of (staging, archive, destination); nullopt when none.
  Result<std::optional<ArchiveRow>> Get(std::string_view staging, std::string_view archive,
                                        std::string_view destination);
  // Sets the watermark (and the entry count) and the state: inserts the row when missing.
  Status Progress(const ArchiveRow& row);
  // Marks the row of `row` (staging, archive, destination) kUnpacked (inserted when missing; a
  // kDone row stays done) and tells, in the same transaction, whether every row of the archive
  // is now kUnpacked or kDone: then the caller deletes the archive and calls ArchiveDeleted.
  Result<bool> Unpacked(const ArchiveRow& row);
  // Every row of (staging, archive) becomes kDone: the archive is deleted.
  Status ArchiveDeleted(std::string_view staging, std::string_view archive);
  // Rows of `staging` ("" = every staging location), by archive key.
  Result<std::vector<ArchiveRow>> Rows(std::string_view staging);

 private:
  TransportStore(state::SqlSession& session, Clock& clock) : session_(session), clock_(clock) {}
  int64_t NowNs() const;
  state::SqlSession& session_;
  Clock& clock_;
};

}  // namespace ferry::transport
