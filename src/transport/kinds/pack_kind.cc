// The "pack" kind (compressed runs, kinds.h): packs the job's objects into one archive
// written to the run's staging location, records it in the archive progress store, and
// finishes enqueuing the unpack job of the archive (in the region the run names) in the same
// transaction. The archive's key is fixed per job, so a retry (its worker died after the
// archive was complete) writes the same archive again rather than a second one; nothing is
// unpacked before the job is done. Without an explicit level (0), the batch is packed at the
// level the adaptive level's bandit picks for its content class, and what it measured is fed
// back (transport/level_advisor.h). In a run that keeps its archives (TransportOptions::backup:
// a backup) the archive stays where it is written and the run's ArchiveKeeper keeps it (a
// backup records it with its entries in its catalog) instead; no unpack job follows.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "archive/backend_io.h"
#include "checksum/checksum.h"
#include "jobs/payload.h"
#include "obs/log.h"
#include "plan/decide.h"
#include "transport/kinds/kinds.h"
#include "transport/level_advisor.h"
#include "transport/level_cpu.h"
#include "transport/pack.h"
#include "transport/run_archives.h"
#include "transport/staging_requests.h"
#include "transport/upload_order.h"

namespace ferry::transport {
namespace {

using jobs::JobContext;
using jobs::JobResult;
using jobs::JobSpec;
using jobs::RunContext;
using jobs::TransportOptions;

// The run's archive of job `job` (transport/run_archives.h: "<run>-<job>-<8 hex>.fza", a
// backup's "b..."; `ferry unpack` takes only the former, IsRunArchive).
std::string ArchiveKey(const RunContext& run, jobs::JobId job) {
  return SyncArchiveNames{.run = run.run.id,
                                     .source = run.run.spec.source,
                                     .destination = run.run.spec.destination,
                                     .created_ticks = run.run.created.time_since_epoch().count(),
                                     .backup = run.options.transport.backup}
      .KeyOf(job);
}

// The packs of this process that write to one staging location share its link: they send in
// the order they started, so their archives are complete (and unpacked) one after another
// instead of all near the end (transport/upload_order.h). One order per staging location,
// for the life of the process.
UploadOrder& UploadOrderOf(const std::string& staging) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<UploadOrder>> orders;
  std::lock_guard lock(mu);
  auto& order = orders[staging];
  if (order == nullptr) order = std::make_unique<UploadOrder>();
  return *order;
}

class PackHandler : public jobs::JobHandler {
 public:
  explicit PackHandler(std::shared_ptr<const ArchiveKeeper> keeper) : keeper_(std::move(keeper)) {}

  std::string_view name() const override { return kPackKind; }
  int phase() const override { return 0; }
  // The unpack jobs count the objects (once each), when they reach the destination.
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return false; }
  // A pack keeps zstd's workers busy: about two full batches at a time per worker, more when
  // the batches are small (in proportion to their bytes).
  size_t ObjectsInFlight(const jobs::Job& job, const RunContext& run,
                         const jobs::WorkerOptions& options) const override {
    const uint64_t full = std::max<uint64_t>(1, run.options.transport.batch_bytes);
    const uint64_t c = static_cast<uint64_t>(std::max(1, options.concurrency));
    return static_cast<size_t>(std::clamp<uint64_t>(c * job.spec.bytes / full, c / 4 + 1, c));
  }

  JobResult Run(JobContext& ctx) const override {
    Clock& clock = ClockOr(ctx.options.clock);
    const auto started = clock.MonoNow();
    const jobs::Job& j = ctx.claimed.job;
    auto objects = jobs::DecodeTransfer(j.spec.payload);
    if (!objects.ok()) return jobs::FailedAtOnce(objects.status());
    RunContext& run = ctx.run;
    const TransportOptions& t = run.options.transport;
    if (t.backup && keeper_ == nullptr) {
      ctx.control.CannotServe(Status::NotSupported("run " + std::to_string(run.run.id) +
                                                   " keeps its archives (a backup): this worker "
                                                   "cannot"));
      return JobResult{};
    }
    auto compressed = CompressedRunOf(run);
    if (!compressed.ok()) return Failed(ctx, compressed.status());
    CompressedRun& c = **compressed;
    auto listed = ObjectsOfPack(ctx, *objects);
    if (!listed.ok()) return Failed(ctx, listed.status());
    if (!t.backup && listed->empty()) return JobResult{};  // no archive
    const std::string key = ArchiveKey(run, j.id);
    PackOptions o;
    o.executor = ctx.options.executor;  // the process's: its reads are the executor's tasks
    o.clock = &clock;                   // times the stages, the writer's too
    o.writer.level = t.level;
    // Its place among the packs sending to this staging location: by job id, the listing's order.
    UploadOrder& order = UploadOrderOf(t.staging);
    o.order = &order;
    o.order_ticket = order.Join(static_cast<uint64_t>(j.id));
    struct Leave {
      UploadOrder& order;
      uint64_t ticket;
      ~Leave() { order.Leave(ticket); }
    } leave{order, o.order_ticket};
    std::unique_ptr<AdaptiveLevel> adaptive;
    if (t.level == 0) {
      adaptive = StartAdaptive(c.levels.get(), t, *listed);
      o.writer.level = adaptive ? adaptive->level() : kStartLevel;
    }
    // One region, or a list ("A,B": every entry meant for each; with unpack jobs, one job and
    // one progress row per region, the archive deleted by the last: transport/store.h).
    const std::vector<std::string> regions = RegionList(t.region);
    o.destinations = regions;
    if (t.backup && j.attempts > 1) {
      // An attempt that died after keeping its archive (a backup: recorded in the catalog): the
      // archive is there, complete, and rows point into it. Packing again would overwrite it
      // under those rows.
      auto kept = keeper_->Kept(ctx, key);
      if (!kept.ok()) return Failed(ctx, kept.status());
      if (*kept) return JobResult{};
    }
    if (j.attempts > 1) AbortEarlierUploads(*c.staging, key, ctx.cancel);
    auto packed = PackAndSend(ctx, c, key, *listed, o, started);
    if (!packed.ok()) return Failed(ctx, packed.status());
    const archive::WriteSummary& w = packed->pack.summary;
    if (Status s = RecordArchive(ctx, c, key, regions, w); !s.ok()) return Failed(ctx, s);
    if (adaptive) FinishAdaptive(ctx, *adaptive, w);
    CountPacked(ctx, key, *packed);
    if (!t.unpack_jobs) return JobResult{};  // the destination side lists the staging prefix
    return UnpackJobsOf(run, key, regions, w);
  }

 private:
  // What one pack wrote and measured, for the run's counters and the log.
  struct PackedArchive {
    PackResult pack;
    uint64_t part_size = 0;
    bool likely_one_part = false;
    double cpu_seconds = 0;
    double setup_seconds = 0;  // from the job's start to the staging upload opened
    double close_seconds = 0;  // sending the last part and completing the upload
  };

  // The objects the job packs: a backup's as planned (from its catalog: nothing left
  // undecided); a transfer's with the ones the listing could not decide looked at again, those
  // found unchanged (or gone) counted as skipped, as a plain copy counts them.
  static Result<std::vector<storage::ObjectInfo>> ObjectsOfPack(
      JobContext& ctx, const std::vector<transfer::CopyRequest>& objects) {
    std::vector<storage::ObjectInfo> listed;
    if (ctx.run.options.transport.backup) {
      listed.reserve(objects.size());
      for (const auto& r : objects) listed.push_back(r.src);
      return listed;
    }
    auto to_pack = ObjectsToPack(ctx.run, *ctx.options.executor, objects, ctx.cancel);
    if (!to_pack.ok()) return to_pack.status();
    listed = std::move(to_pack).value();
    ctx.stats.objects_skipped += objects.size() - listed.size();
    return listed;
  }

  // Packs `listed` into the archive `key` on the staging location, uploaded as it is written,
  // its last part sent in the pack's turn of `o.order`; the upload completed. Errors carry
  // "staging KEY" (the upload not opened) or "packing KEY".
  static Result<PackedArchive> PackAndSend(JobContext& ctx, CompressedRun& c,
                                           const std::string& key,
                                           const std::vector<storage::ObjectInfo>& listed,
                                           const PackOptions& o, Clock::MonoTime started) {
    Clock& clock = *o.clock;
    auto since = [&clock](Clock::MonoTime t) {
      return std::chrono::duration<double>(clock.MonoNow() - t).count();
    };
    const jobs::Job& j = ctx.claimed.job;
    PackedArchive out;
    // A batch of fewer raw bytes than a part makes an archive of one part, most likely: written
    // in one PUT (archive/backend_io.h).
    out.part_size = archive::ArchivePartSize(j.spec.bytes);
    out.likely_one_part = j.spec.bytes < out.part_size;
    // Its parts under way are bytes on the link: the packs behind wait for them as for its
    // queued bytes (UploadOrder::SetSending).
    UploadOrder& order = *o.order;
    auto sink = archive::BackendSink::Open(
        *c.staging, key, out.part_size, *ctx.options.executor, ctx.cancel,
        {.likely_one_part = out.likely_one_part, .on_sending = [&order, ticket = o.order_ticket](
                                                                   bool sending) {
           order.SetSending(ticket, sending);
         }});
    if (!sink.ok()) return sink.status().WithContext("staging " + key);
    out.setup_seconds = since(started);
    const uint64_t cpu_id = CpuShare::Process().Begin();
    auto packed = PackObjects(*ctx.run.src, listed, **sink, o, ctx.cancel);
    out.cpu_seconds = CpuShare::Process().End(cpu_id);
    Status s = packed.status();
    const auto closing = clock.MonoNow();
    if (s.ok()) {
      // The last part starts crossing the link in turn (an archive smaller than a part sends
      // all here); the packs behind wait until the parts under way end (they count as
      // sending), not for the completion (no bytes), which runs out of turn.
      s = CloseInTurn(&order, o.order_ticket, [&] { return (*sink)->SendLast(); },
                                 ctx.cancel);
      if (s.ok()) s = (*sink)->Close();
      // A create of the multipart upload whose reply was lost (the upload made, the request
      // sent again) left an upload nobody completes: with the archive complete, every upload
      // still pending for its key (this job's alone) is such a one, billed on staging for good
      // (found by tests/tools/convergence_transport.py, BUG_ORPHAN_UPLOAD: a truncated reply).
      if (s.ok() && (*sink)->wrote_in_parts()) AbortEarlierUploads(*c.staging, key, ctx.cancel);
    }
    out.close_seconds = since(closing);
    if (!s.ok()) return s.WithContext("packing " + key);
    out.pack = std::move(packed).value();
    return out;
  }

  // A backup keeps the archive (its keeper records it with its entries in the catalog, in one
  // transaction: backup/kinds/keeper.h); a transfer stages it for its unpack job, one progress
  // row per region of a list.
  Status RecordArchive(JobContext& ctx, CompressedRun& c, const std::string& key,
                       const std::vector<std::string>& regions,
                       const archive::WriteSummary& w) const {
    const TransportOptions& t = ctx.run.options.transport;
    if (t.backup) return keeper_->Keep(ctx, key, w.archive_bytes);
    const bool several = regions.size() > 1;
    Status s;
    for (size_t i = 0; s.ok() && i < std::max<size_t>(1, regions.size()); ++i) {
      s = c.archives->Staged(ArchiveRow{
          .staging = t.staging,
          .archive = key,
          .destination = RegionDestination(
              ctx.run.run.spec.destination, several ? regions[i] : std::string(), several),
          .state = ArchiveState::kStaged,
          .entries = w.entries,
          .written = 0,
          .archive_bytes = w.archive_bytes,
          .updated_ns = 0});
    }
    return s;
  }

  // The run's transport counters of one archive, and its line in the verbose log.
  static void CountPacked(JobContext& ctx, const std::string& key, const PackedArchive& p) {
    const archive::WriteSummary& w = p.pack.summary;
    ctx.stats.archives_staged += 1;
    ctx.stats.entries_packed += w.entries;
    ctx.stats.entries_stored_raw += w.stored_entries;
    ctx.stats.transport_bytes_in += w.raw_bytes;
    ctx.stats.transport_bytes_wire += w.archive_bytes;
    const Requests requests =
        ArchiveWriteRequests(w.archive_bytes, p.part_size, p.likely_one_part);
    ctx.stats.transport_cpu_us += static_cast<uint64_t>(p.cpu_seconds * 1e6);
    ctx.stats.transport_extra_puts += requests.put;
    ctx.stats.objects_planned += w.entries;
    ctx.stats.bytes_planned += w.raw_bytes;
    if (ctx.options.verbose) {
      obs::Log(obs::Level::kInfo, "packed",
               {{"archive", key}, {"entries", w.entries}, {"bytes", w.raw_bytes},
                {"archive_bytes", w.archive_bytes}, {"cpu_seconds", p.cpu_seconds},
                {"staging_puts", requests.put}, {"seconds", p.pack.seconds},
                {"read_wait_seconds", p.pack.read_wait_seconds},
                {"upload_wait_seconds", p.pack.sink_wait_seconds + p.pack.drain_seconds},
                {"setup_seconds", p.setup_seconds}, {"close_seconds", p.close_seconds}});
    }
  }

  // One unpack job per region of a list, each of that region (and its progress row).
  static JobResult UnpackJobsOf(const RunContext& run, const std::string& key,
                                const std::vector<std::string>& regions,
                                const archive::WriteSummary& w) {
    const bool several = regions.size() > 1;
    JobResult result;
    for (size_t i = 0; i < std::max<size_t>(1, regions.size()); ++i) {
      JobSpec unpack;
      unpack.run = run.run.id;
      unpack.kind = kUnpackKind;
      unpack.payload = EncodeUnpack(UnpackPayload{.archive = key, .objects = w.entries,
                                                  .bytes = w.raw_bytes});
      unpack.objects = w.entries;
      unpack.bytes = w.raw_bytes;
      unpack.max_attempts = run.options.max_attempts;
      unpack.region = several ? regions[i] : run.options.transport.region;
      result.more.push_back(std::move(unpack));
    }
    return result;
  }

  // The adaptive level of this batch; nullptr (pack at kStartLevel, learn nothing) when the
  // history cannot be read: the level is an optimisation, never a reason to fail a pack.
  static std::unique_ptr<AdaptiveLevel> StartAdaptive(
      LevelStore* levels, const TransportOptions& t, std::span<const storage::ObjectInfo> objects) {
    if (levels == nullptr) return nullptr;
    AdaptiveLevel::Options options;
    options.prices = LevelPricesFrom(t.price_per_gib, t.price_per_cpu_second);
    auto a = AdaptiveLevel::Start(*levels, objects, options);
    if (!a.ok()) {
      obs::Log(obs::Level::kWarn, "adaptive level unavailable", {{"error", a.status().message()}});
      return nullptr;
    }
    return std::move(a).value();
  }
  static void FinishAdaptive(JobContext& ctx, AdaptiveLevel& a,
                             const archive::WriteSummary& w) {
    ctx.stats.AddLevelUsed(a.content_class(), a.level());
    if (Status s = a.Finish(w.raw_bytes, w.archive_bytes); !s.ok()) {
      obs::Log(obs::Level::kWarn, "level history not recorded", {{"error", s.message()}});
    }
    if (ctx.options.verbose) {
      obs::Log(obs::Level::kInfo, "adaptive level",
               {{"class", a.content_class()}, {"level", a.level()}, {"best", a.choice().best}});
    }
  }

  static JobResult Failed(JobContext& ctx, const Status& s) {
    obs::Log(obs::Level::kWarn, "pack failed", {{"error", s.message()}});
    return jobs::EndedWith(s, ctx.claimed.job.attempts);
  }

  const std::shared_ptr<const ArchiveKeeper> keeper_;  // a backup's; may be null
};

// Whether the object `r` (the listing could not decide it) is still to be copied, decided
// again with both sides' details: TransferEngine::Refresh's look, tags fetched only when the
// planner compares what describes two objects of the same bytes. A source object gone since:
// no. A --checksum comparison of contents is not made here: yes (packed, as before).
Result<bool> StillToCopy(RunContext& ctx, const transfer::CopyRequest& r, std::stop_token stop) {
  if (!r.src.unreadable.empty()) return true;  // the pack reports it
  bool with_tags = r.reason == plan::kReasonCompareMetadata;
  for (;;) {
    auto src = ctx.src->Stat(r.src.key, with_tags, stop);
    if (!src.ok() && src.status().code() == ErrorCode::kNotFound) return false;
    if (!src.ok()) return src.status().WithContext("stat " + r.src.key);
    auto dst = ctx.dst->Stat(r.destination_key(), with_tags, stop);
    if (!dst.ok() && dst.status().code() != ErrorCode::kNotFound) {
      return dst.status().WithContext("stat destination " + r.destination_key());
    }
    const plan::Decision again =
        plan::Decide(&src.value(), dst.ok() ? &dst.value() : nullptr, ctx.options.decide);
    if (!with_tags && again.verdict == plan::Verdict::kNeedDetails &&
        again.reason == plan::kReasonCompareMetadata) {
      with_tags = true;  // the same bytes and a newer source: look at the tags too
      continue;
    }
    return again.verdict != plan::Verdict::kSkip;
  }
}

}  // namespace

// Before, a pack job packed every object of its batch as planned, also those the listing could
// not decide: every run re-sent each multipart source object without ferry's CRC32C to every
// region (found by tests/tools/convergence_transport.py, BUG_PACK_UNDECIDED). The looks (two
// HEADs each) run as tasks of the process's executor.
Result<std::vector<storage::ObjectInfo>> ObjectsToPack(
    RunContext& ctx, transfer::Executor& executor,
    const std::vector<transfer::CopyRequest>& planned, std::stop_token stop) {
  std::vector<size_t> undecided;
  for (size_t i = 0; i < planned.size(); ++i) {
    if (planned[i].need_details) undecided.push_back(i);
  }
  std::vector<char> keep(planned.size(), 1);
  if (!undecided.empty()) {
    std::mutex mu;
    Status first;  // GUARDED_BY(mu)
    // The looks are requests: tasks of the process's executor, as many at once as it allows.
    transfer::RunAll(executor, undecided.size(), [&](size_t n) {
      {
        std::lock_guard lock(mu);
        if (!first.ok() || stop.stop_requested()) return;
      }
      auto copy = StillToCopy(ctx, planned[undecided[n]], stop);
      std::lock_guard lock(mu);
      if (!copy.ok()) {
        if (first.ok()) first = copy.status();
        return;
      }
      keep[undecided[n]] = *copy ? 1 : 0;
    });
    if (!first.ok()) return first;
    if (stop.stop_requested()) return Status::Cancelled("pack cancelled");
  }
  std::vector<storage::ObjectInfo> out;
  out.reserve(planned.size());
  for (size_t i = 0; i < planned.size(); ++i) {
    if (keep[i]) out.push_back(planned[i].src);
  }
  return out;
}

std::shared_ptr<const jobs::JobHandler> MakePackHandler(
    std::shared_ptr<const ArchiveKeeper> keeper) {
  return std::make_shared<PackHandler>(std::move(keeper));
}

}  // namespace ferry::transport
