// Compressed transport in durable runs (docs/design/transport.md, "A run"): the "pack" and
// "unpack" job kinds and the run hook of compressed runs (jobs/kinds/run_hook.h), registered by
// the composition root (app::Kinds(), src/app/kinds.cc). Transport depends on jobs; jobs names
// nothing of transport.
//  - The run hook takes the runs whose options name a staging location
//    (jobs::TransportOptions): it opens the staging location (checked like both sides), the
//    archive progress store and, without an explicit level, the level history, all in the
//    JobStore's database (CompressedRun, the run's kind state "transport"); its chunk plan
//    batches a scan's copies into pack jobs (batch.h: slow start, slow stop) and enqueues a
//    multi-region run's deletes once per region.
//  - pack_kind.cc packs a job's objects into one archive on staging and finishes enqueuing its
//    unpack jobs; unpack_kind.cc streams one staged archive into the destination.
//  - A run that keeps its archives (TransportOptions::backup) is a backup: what differs (its
//    source compared with a catalog, its archives recorded instead of unpacked) is its
//    ArchiveKeeper's, given by the composition root (src/backup: backup/kinds/keeper.h).
//
// Thread-safety: handlers, hooks and keepers are shared by every job and run (jobs/kinds/
// handler.h); a CompressedRun's members are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobs/kinds/handler.h"
#include "jobs/kinds/run_hook.h"
#include "jobs/run_context.h"
#include "storage/backend.h"
#include "transfer/engine.h"
#include "transfer/executor.h"
#include "transport/level_store.h"
#include "transport/store.h"

namespace ferry::transport {

inline constexpr char kPackKind[] = "pack";      // pack a batch into a staged archive
inline constexpr char kUnpackKind[] = "unpack";  // unpack a staged archive

// The payload of an unpack job: a staged archive.
//   {"archive":key, "objects":n, "bytes":n}
struct UnpackPayload {
  std::string archive;  // key under the run's staging location
  uint64_t objects = 0;
  uint64_t bytes = 0;
};
std::string EncodeUnpack(const UnpackPayload& p);
Result<UnpackPayload> DecodeUnpack(const std::string& json);

// What a compressed run keeps on a worker (its kind state "transport"), opened by the run hook.
struct CompressedRun {
  std::unique_ptr<storage::Backend> staging;
  std::unique_ptr<TransportStore> archives;  // in the JobStore's database
  // Without an explicit level: the adaptive level's history (in the same database).
  std::unique_ptr<LevelStore> levels;
};
inline constexpr char kCompressedRunState[] = "transport";

// The compressed run of `run` on this worker; kFailedPrecondition when the run was not opened
// as one (its options name no staging location).
Result<std::shared_ptr<CompressedRun>> CompressedRunOf(jobs::RunContext& run);

// What a run that keeps its archives (a backup) does besides packing them. Given to the run
// hook and the pack kind by the composition root; the run's options say whether it applies.
class ArchiveKeeper {
 public:
  virtual ~ArchiveKeeper() = default;
  // Opens what the keeper keeps for `run` on this worker (a catalog), once the compressed run
  // is open; an error fails the opening of the run.
  virtual Status Open(jobs::RunContext& run, const jobs::RunOpening& opening) const = 0;

  // The source of a chunk of the run's scan as the merge reads it: `listed` less what the
  // keeper holds unchanged (and noting what the listing lacks); unchanged() counts what it left
  // out. The scan then lists no destination.
  class Source : public storage::ListingCursor {
   public:
    virtual uint64_t unchanged() const = 0;
  };
  virtual std::unique_ptr<Source> SourceOf(jobs::RunContext& run,
                                           const jobs::WorkerOptions& options,
                                           storage::ListingCursor& listed,
                                           const jobs::ChunkListing& chunk) const = 0;

  // Whether the archive `key` was kept already (an earlier attempt of the pack job died after
  // keeping it: packing again would overwrite it under what points into it).
  virtual Result<bool> Kept(jobs::JobContext& ctx, const std::string& key) const = 0;
  // The archive `key` (`archive_bytes`, complete on the run's staging location) is kept.
  virtual Status Keep(jobs::JobContext& ctx, const std::string& key,
                      uint64_t archive_bytes) const = 0;
};

// The hook of compressed runs. `keeper` (may be null) serves the runs that keep their archives;
// without one such a run is kNotSupported on this worker.
std::shared_ptr<const jobs::RunHook> MakeRunHook(std::shared_ptr<const ArchiveKeeper> keeper);

// The "pack" kind (pack_kind.cc); `keeper` as for MakeRunHook (without one, a job of a run that
// keeps its archives is given back: JobControl::CannotServe).
std::shared_ptr<const jobs::JobHandler> MakePackHandler(
    std::shared_ptr<const ArchiveKeeper> keeper);
// The "unpack" kind (unpack_kind.cc): a sync's archive into the run's destination. (A
// replication pass's unpack jobs are replication's: src/replicate/kinds/kinds.h.)
std::shared_ptr<const jobs::JobHandler> MakeUnpackHandler();

// The objects a pack job of `run` packs (pack_kind.cc): the batch as planned, less those the
// listing could not decide (need details) that turn out unchanged with both sides' details, as
// a plain copy decides before it copies (TransferEngine::Refresh), and less those gone from
// the source since. The looks (two HEADs each) are tasks of `executor`. An error of a look
// fails the job.
Result<std::vector<storage::ObjectInfo>> ObjectsToPack(
    jobs::RunContext& run, transfer::Executor& executor,
    const std::vector<transfer::CopyRequest>& planned, std::stop_token stop);

}  // namespace ferry::transport
