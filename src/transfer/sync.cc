#include "transfer/sync.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <condition_variable>
#include <mutex>

#include "obs/log.h"
#include "plan/merge.h"
#include "storage/sorted_listing.h"
#include "transfer/key_spool.h"
#include "transfer/move_source.h"
#include "transfer/planner.h"
#include "transfer/prefetch_cursor.h"
#include "transfer/progress.h"
#include "transfer/report_rows.h"

namespace ferry::transfer {
namespace {

// Copies go straight to the engine; deletes to the spool. In a dry run, what the listing
// decided is reported here, on the listing thread: only copies that need a closer look (HEADs)
// go to the engine's workers.
// A move's copies are watched (their end decides the source delete) and a --backup-dir run's
// overwrites keep the replaced object first.
struct SinkHooks {
  SourceDeletes* moves = nullptr;     // ferry move; null otherwise
  const BackupDir* backup = nullptr;  // --backup-dir; null otherwise
  std::stop_token stop;               // the run's, for the backup copies
};

class EngineSink : public PlanSink {
 public:
  EngineSink(TransferEngine& engine, KeySpool& spool, Stats& stats, Cutoff* cutoff,
             SinkHooks hooks)
      : engine_(engine), spool_(spool), stats_(stats), cutoff_(cutoff), hooks_(hooks) {}
  Status Copy(CopyRequest request) override {
    if (hooks_.moves != nullptr) hooks_.moves->Watch(request);
    if (hooks_.backup != nullptr && request.dst && !engine_.options().dry_run) {
      request.before_write = hooks_.backup->BeforeWrite(
          *request.dst, std::move(request.before_write), hooks_.stop);
    }
    if (cutoff_ != nullptr && !Admit(request)) {
      // Past the deadline the listing stops too: a cutover window is not spent listing.
      if (cutoff_->reason() == CutoffReason::kMaxDuration) {
        return Status::Cancelled("--max-duration reached");
      }
      return Status::Ok();
    }
    const TransferOptions& o = engine_.options();
    // An archived source takes a HEAD to tell whether it is readable (archived.cc).
    if (!o.dry_run || request.need_details || request.src.archive.archived) {
      engine_.Copy(std::move(request));
      return Status::Ok();
    }
    // What TransferEngine::RunCopy and Complete do for a dry-run copy, without the hand-over.
    if (cutoff_ != nullptr && !cutoff_->MayStart(request.src.size)) {
      cutoff_->Left(request.src.size);
      return Status::Ok();
    }
    obs::Log(obs::Level::kInfo, "would copy",
             {{"key", request.src.key}, {"reason", request.reason}});
    stats_.objects_copied += 1;
    stats_.bytes_copied += request.src.size;
    if (o.verbose) {
      obs::Log(obs::Level::kInfo, "would copy", {{"key", request.destination_key()}});
    }
    if (o.report != nullptr) {
      o.report->Add(CopyRow({.request = request, .what = "would copy", .status = Status::Ok(),
                             .dry_run = true, .checksum = {}}));
    }
    if (request.finished) request.finished(request, "would copy", Status::Ok(), false);
    if (request.done) request.done(Status::Ok());
    return Status::Ok();
  }
  Status Delete(const storage::ObjectInfo& dst) override { return spool_.Add(dst.key); }
  void Skipped(const storage::ObjectInfo& src, std::string_view reason) override {
    if (report::RowSink* r = engine_.options().report; r != nullptr) r->Add(SkipRow(src, reason));
    if (hooks_.moves != nullptr) hooks_.moves->Identical(src, reason);
  }

 private:
  // False when the run is cut already (`request` is left); else its end is told to the cutoff
  // (the engine asks the cutoff as it starts it: CutoffStartGate).
  bool Admit(CopyRequest& request) {
    const uint64_t size = request.src.size;
    if (cutoff_->CutNow()) {
      cutoff_->Left(size);
      return false;
    }
    request.done = [cutoff = cutoff_, size, done = std::move(request.done)](const Status& s) {
      cutoff->Ended(size, s);
      if (done) done(s);
    };
    return true;
  }

  TransferEngine& engine_;
  KeySpool& spool_;
  Stats& stats_;
  Cutoff* cutoff_;  // null: no limit
  SinkHooks hooks_;
};

// The engine's TransferOptions::may_start of a run with a cutoff: asks `cutoff` as each copy
// starts, and in hard mode cancels the copies in flight when it cuts the run. `engine` is set
// once the engine exists (before any copy is handed to it).
std::function<bool(const CopyRequest&)> CutoffStartGate(Cutoff& cutoff,
                                                        TransferEngine* const& engine) {
  return [&cutoff, &engine](const CopyRequest& request) {
    if (cutoff.MayStart(request.src.size)) return true;
    if (cutoff.ShouldCancel()) engine->Cancel();
    return false;
  };
}

// --max-duration: wakes at the deadline on the run's clock and cuts the run (hard mode: the
// copies in flight are cancelled). Stopped (and joined) when the run ends first.
std::jthread CutoffTimer(Cutoff& cutoff, Clock& clock, TransferEngine& engine) {
  return std::jthread([&cutoff, &clock, &engine](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    clock.WaitUntil(cv, lock, stop, cutoff.deadline(), [] { return false; });
    if (stop.stop_requested()) return;
    cutoff.DeadlinePassed();
    if (cutoff.ShouldCancel()) engine.Cancel();
  });
}

// A dry run's deletes, reported on this thread (as TransferEngine::RunDelete would).
void ReportDeletes(std::vector<std::string> keys, Stats& stats, report::RowSink* report) {
  for (const auto& k : keys) {
    obs::Log(obs::Level::kInfo, "would delete", {{"key", k}, {"reason", "destination only"}});
    if (report != nullptr) report->Add(DeleteRow(k, Status::Ok(), /*dry_run=*/true));
  }
  stats.objects_deleted += keys.size();
}

// The run was cut: its status says which limit and what is left, in place of what the stopped
// listing or the cancelled copies said.
void ApplyCut(const Cutoff& cutoff, SyncResult& result) {
  result.cutoff = cutoff.reason();
  result.objects_left = cutoff.objects_left();
  result.bytes_left = cutoff.bytes_left();
  const bool listing_stopped = cutoff.reason() == CutoffReason::kMaxDuration;
  result.status = Status::Cancelled(cutoff.Describe(listing_stopped));
}

// sync --delete's deletes, replayed from the spool after every copy: none when a copy failed
// or the run was stopped; none at all past --max-delete.
struct ExtraDeletes {
  const SyncOptions& options;
  KeySpool& spool;
  TransferEngine& engine;
  uint64_t scope;  // destination objects in scope (--max-delete P%)
  Stats& stats;
  std::stop_token stop;
};
void DeleteExtras(const ExtraDeletes& d, SyncResult& result) {
  const SyncOptions& options = d.options;
  if (d.stats.failures() > 0 || d.stop.stop_requested()) {
    result.deletes_skipped = true;
  } else if (options.max_delete.Exceeded(d.spool.count(), d.scope)) {
    // Decided on the whole plan before the first delete: nothing is ever half deleted.
    result.delete_limit_tripped = true;
    result.status = Status::FailedPrecondition(plan::DeleteLimitRefusal(
        options.max_delete, d.spool.count(), d.scope, options.transfer.dry_run));
  } else {
    // A --backup-dir delete copies each key first: smaller batches spread them over workers.
    const size_t batch = options.backup.enabled() ? 50 : 1000;
    result.status = d.spool.Replay(batch, [&](std::vector<std::string> keys) {
      if (options.transfer.dry_run) {
        return ReportDeletes(std::move(keys), d.stats, options.transfer.report);
      }
      d.engine.Delete(std::move(keys));
    });
    d.engine.Wait();
  }
}

// ferry move's source deletes, after every copy ended: those the destination proved, each
// object on its own (a failed copy keeps its source only); none when the run was cut,
// interrupted or its listing failed (a rerun finds them identical and deletes them then); none
// at all past --max-delete.
struct MovedSources {
  const SyncOptions& options;
  SourceDeletes& moves;
  Executor& executor;
  storage::Backend& src;
  uint64_t scope;  // source objects in scope (--max-delete P%)
  bool cut;
  std::stop_token stop;
};
void DeleteMovedSources(const MovedSources& m, SyncResult& result) {
  if (m.moves.count() == 0) return;
  if (m.cut || !result.status.ok() || m.stop.stop_requested()) {
    result.deletes_skipped = true;
    return;
  }
  if (m.options.max_delete.Exceeded(m.moves.count(), m.scope)) {
    result.delete_limit_tripped = true;
    result.status = Status::FailedPrecondition(plan::DeleteLimitRefusal(
        m.options.max_delete, m.moves.count(), m.scope, m.options.transfer.dry_run, "source"));
    return;
  }
  result.status = m.moves.Run(m.executor, m.src, m.stop);
}

}  // namespace

SyncResult RunSync(Executor& executor, storage::Backend& src, storage::Backend& dst,
                   const SyncOptions& options, Stats& stats, std::stop_token stop) {
  Clock& clock = ClockOr(options.clock);
  const auto start = clock.MonoNow();
  SyncResult result;
  std::optional<Cutoff> cutoff;
  if (options.cutoff.any()) cutoff.emplace(options.cutoff, clock, start);
  TransferOptions transfer = options.transfer;
  // Written objects become durable together, by the dst.Sync below (storage/backend.h).
  transfer.defer_durability = true;
  TransferEngine* engine_ptr = nullptr;
  if (cutoff) {
    transfer.may_start = CutoffStartGate(*cutoff, engine_ptr);
    transfer.cut = [c = &*cutoff] { return c->cut(); };
  }
  std::optional<BackupDir> backup;
  if (options.backup.enabled()) {
    backup.emplace(options.backup, dst, stats);
    transfer.before_delete = backup->BeforeDelete();
  }
  // Before the engine: the callbacks of its copies point here until it is gone.
  std::optional<SourceDeletes> moves;
  if (options.move) moves.emplace(stats, options.transfer.dry_run, options.transfer.report);
  TransferEngine engine(executor, std::move(transfer), src, dst, stats);
  engine_ptr = &engine;
  std::stop_callback cancel(stop, [&engine] { engine.Cancel(); });
  std::unique_ptr<ProgressLine> progress;
  if (options.progress) progress = std::make_unique<ProgressLine>(stats, &engine.budget(), &clock);

  // A dry run prints a line per object: written in blocks, not one write(2) each.
  std::optional<obs::BufferedLines> buffered;
  if (options.transfer.dry_run) buffered.emplace();

  std::jthread timer;
  if (cutoff && options.cutoff.max_duration.count() > 0) {
    timer = CutoffTimer(*cutoff, clock, engine);
  }

  KeySpool spool;
  const uint64_t listed_before = stats.objects_listed.load();
  EngineSink sink(engine, spool, stats, cutoff ? &*cutoff : nullptr,
                  {.moves = moves ? &*moves : nullptr,
                   .backup = backup ? &*backup : nullptr,
                   .stop = stop});
  Planner planner(options.filter, options.transfer.decide, options.delete_extra,
                  dst.features().folder_markers, stats, sink);
  result.status = [&]() -> Status {
    if (options.listing) {
      FERRY_RETURN_IF_ERROR(options.listing(executor, src, dst, planner, stop));
      return planner.Finish();
    }
    // Both sides are listed at once, each on a thread of its own, and compared as their
    // pages arrive (prefetch_cursor.h); the cursors end (and their threads stop) here.
    // A side whose store lists out of order (a directory bucket) is sorted first, on its
    // prefetch thread, with bounded memory (storage/sorted_listing.h): never merged as it comes.
    FERRY_ASSIGN_OR_RETURN(auto src_list, storage::ListSorted(src, options.src_prefix));
    FERRY_ASSIGN_OR_RETURN(auto dst_list, storage::ListSorted(dst, options.src_prefix));
    PrefetchCursor src_cursor(std::move(src_list));
    PrefetchCursor dst_cursor(std::move(dst_list));
    FERRY_RETURN_IF_ERROR(plan::MergeListings(src_cursor, dst_cursor, planner));
    return planner.Finish();
  }();
  engine.Wait();
  // Every copy durable before anything counts on it: the summary printed once this returns,
  // the sources a move deletes. A failure fails the run (and skips the move's deletes).
  if (Status durable = dst.Sync(stop); !durable.ok() && result.status.ok()) {
    result.status = durable.WithContext("make the copies durable in " + dst.Describe());
  }
  if (timer.joinable()) timer.request_stop(), timer.join();
  const bool cut = cutoff && cutoff->cut();
  if (cut) ApplyCut(*cutoff, result);

  if (cut && spool.count() > 0) {
    result.deletes_skipped = true;  // a partial run never deletes
  } else if (result.status.ok() && spool.count() > 0) {
    DeleteExtras({.options = options, .spool = spool, .engine = engine,
                  .scope = planner.destination_in_scope(), .stats = stats, .stop = stop},
                 result);
  }
  if (moves) {
    const uint64_t scope = stats.objects_listed.load() - listed_before;
    DeleteMovedSources({.options = options, .moves = *moves, .executor = executor, .src = src,
                        .scope = scope, .cut = cut, .stop = stop},
                       result);
  }
  if (stop.stop_requested() && result.status.ok()) result.status = Status::Cancelled("interrupted");
  buffered.reset();
  progress.reset();
  result.peak_buffer_bytes = engine.budget().peak();
  result.seconds = std::chrono::duration<double>(clock.MonoNow() - start).count();
  return result;
}

}  // namespace ferry::transfer
