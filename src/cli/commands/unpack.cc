// ferry unpack STAGING DST: the destination side of compressed transport where no state store
// is shared with the source side (`ferry sync --compress --pack-only` without --state): lists
// the staging prefix and unpacks every archive there into DST (transport/unpack.h: checked,
// with all metadata, resumable, then deleted), one after another. Its progress lives in a
// state store of its own (--state, or an automatic file per staging and destination, removed
// once nothing is left unfinished). With --follow it lists again every N seconds until
// interrupted. Archives meant for several regions: each region's unpacker (--region) leaves a
// marker next to the archive once its entries are written, and the one that finds every
// region's marker deletes it (transport/unpack_listed.h). Several unpackers of one region and
// prefix (for speed, or on a second machine) claim each archive before unpacking it
// (transport/claim.h): where the staging store honours create-only writes (probed once at the
// start), an archive is unpacked by one of them at a time, a stalled one is fenced and taken
// over after --claim-ttl seconds; elsewhere (Swift) a warning says one unpacker per region and
// prefix. Without --follow it lists again while archives are held by others, until none is; an
// archive found held is tried again a quarter of --claim-ttl later, also with a longer --follow
// and between the archives of a pass.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/state_files.h"
#include "app/wiring.h"
#include "base/clock.h"
#include "cli/commands.h"
#include "obs/log.h"
#include "plan/filter.h"
#include "state/state.h"
#include "transfer/progress.h"
#include "transfer/executor.h"
#include "transport/claim.h"
#include "transport/unpack.h"
#include "transport/unpack_listed.h"

namespace ferry::cli {
namespace {

struct UnpackArgs {
  std::string staging;
  std::string dst;
  std::string region;
  std::string state;
  std::string storage_class;
  bool preserve_lock = false;
  int follow = 0;  // seconds between listings; 0 = one pass
  int claim_ttl = 60;  // seconds
  bool json = false;
};

struct Totals {
  uint64_t archives = 0, failed = 0, entries = 0, written = 0, bytes = 0, present = 0,
           verified = 0, archive_bytes = 0, skipped = 0, deleted = 0, held = 0, lost = 0;
};

// What every pass of the command unpacks from, to and with.
struct UnpackSetup {
  storage::Backend& staging;         // the staging prefix: the archives
  storage::Backend& dst;             // where their entries are written
  transport::TransportStore& store;  // the archives' progress (the command's state store)
  // The claims on archives; null where the staging store does not honour create-only writes.
  const transport::ClaimOptions* claims;
  transfer::Executor& executor;  // the command's: an archive's entries are its tasks
};

// One listing of the staging prefix, every archive unpacked in key order (UnpackPass). `held`:
// the archives other unpackers hold, tried again a quarter of the claim's ttl after they were
// found held, also between the archives of this pass.
Status Pass(const UnpackArgs& a, const UnpackSetup& setup, Totals& t,
            transport::HeldArchives& held, std::stop_token stop) {
  auto try_archive = [&](const std::string& key) -> bool {
    transport::StoreUnpackJournal journal(
        setup.store, transport::ArchiveRow{.staging = a.staging,
                                           .archive = key,
                                           .destination = a.dst,
                                           .state = transport::ArchiveState::kUnpacking,
                                           .entries = 0,
                                           .written = 0,
                                           .archive_bytes = 0,
                                           .updated_ns = 0});
    transport::ListedOptions o;
    o.unpack.executor = &setup.executor;
    o.unpack.region = a.region;
    o.unpack.storage_class = a.storage_class;
    o.unpack.preserve_lock = a.preserve_lock;
    o.claims = setup.claims;
    auto listed_r = transport::UnpackListed(setup.staging, key, setup.dst, journal, o, stop);
    if (!listed_r.ok()) {
      ++t.failed;
      if (listed_r.status().code() == ErrorCode::kFailedPrecondition &&
          listed_r.status().message().find("lost to another unpacker") != std::string::npos) {
        ++t.lost;
      }
      std::fprintf(stderr, "failed: unpack %s: %s\n", key.c_str(),
                   listed_r.status().message().c_str());
      return false;
    }
    t.deleted += listed_r->unpack.archive_deleted ? 1 : 0;
    if (listed_r->held) {
      ++t.held;
      return true;
    }
    if (listed_r->skipped) {
      ++t.skipped;
      return false;
    }
    const transport::UnpackResult* r = &listed_r->unpack;
    ++t.archives;
    t.entries += r->entries;
    t.written += r->written;
    t.bytes += r->bytes_written;
    t.present += r->already_present;
    t.verified += r->checksums_verified;
    t.archive_bytes += r->archive_bytes;
    return false;
  };
  return transport::UnpackPass(setup.staging, held, try_archive, stop);
}

int RunUnpack(const UnpackArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto staging_loc = app::ParseLocation(a.staging);
  if (!staging_loc.ok()) return ReportError(staging_loc.status());
  auto dst_loc = app::ParseLocation(a.dst);
  if (!dst_loc.ok()) return ReportError(dst_loc.status());
  app::Wiring wiring(std::move(config).value());
  auto staging = wiring.OpenBackend(*staging_loc, false);
  if (!staging.ok()) return ReportError(staging.status());
  auto dst = wiring.OpenBackend(*dst_loc, true);
  if (!dst.ok()) return ReportError(dst.status());
  if (Status s = (*staging)->Check(ctx.stop); !s.ok()) return ReportError(s.WithContext("staging"));
  if (Status s = (*dst)->Check(ctx.stop); !s.ok()) return ReportError(s.WithContext("destination"));
  if (a.preserve_lock) {
    if (Status s = CheckPreserveLock(**dst, ctx.stop); !s.ok()) return ReportError(s);
  }
  const bool automatic = a.state.empty();
  const std::string url = automatic ? app::AutoStatePath("unpack", a.staging, a.dst) : a.state;
  auto session = state::OpenSession(url, SystemClock::Default());
  if (!session.ok()) return ReportError(session.status());
  auto store = transport::TransportStore::Open(**session);
  if (!store.ok()) return ReportError(store.status());
  // Claims where the staging store honours create-only writes (probed: a store may ignore the
  // header); otherwise one unpacker per region and prefix, as before.
  transport::ClaimOptions claim_options{.region = a.region,
                                        .ttl = std::chrono::seconds(a.claim_ttl),
                                        .owner = transport::NewOwnerId(),
                                        .clock = nullptr};
  auto honoured = transport::ProbeCreateOnly(**staging, claim_options.owner, ctx.stop);
  if (!honoured.ok()) return ReportError(honoured.status().WithContext("staging"));
  if (!*honoured) {
    std::fprintf(stderr,
                 "warning: %s does not honour create-only writes: run only one `ferry unpack` "
                 "per region and staging prefix\n",
                 (*staging)->Describe().c_str());
  }
  const transport::ClaimOptions* claims = *honoured ? &claim_options : nullptr;
  const auto start = std::chrono::steady_clock::now();
  // The command's executor: an archive's entries written 32 at a time, within its memory.
  transfer::Executor executor(transfer::ExecutorOptions{.concurrency = 32});
  Totals t;
  Status s;
  // Archives held by another unpacker are listed again a quarter of the ttl after they were
  // found held, whatever --follow says (a stalled holder's claim expires after the ttl).
  transport::HeldArchives held(claim_options.ttl, SystemClock::Default());
  const std::chrono::milliseconds interval = std::chrono::seconds(a.follow);
  const UnpackSetup setup{.staging = **staging,
                          .dst = **dst,
                          .store = **store,
                          .claims = claims,
                          .executor = executor};
  for (;;) {
    s = Pass(a, setup, t, held, ctx.stop);
    if (!s.ok() || ctx.stop.stop_requested()) break;
    // One pass: again while another unpacker holds archives (it may stall; its claim expires).
    if (a.follow <= 0 && held.empty()) break;
    const auto until = std::chrono::steady_clock::now() + held.NextListingIn(interval);
    while (!ctx.stop.stop_requested() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(100), until - std::chrono::steady_clock::now()));
    }
    if (ctx.stop.stop_requested()) break;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // An automatic store goes once nothing is left unfinished (as a run's state file does).
  bool unfinished = t.failed > 0 || !s.ok();
  if (auto rows = (*store)->Rows(a.staging); rows.ok()) {
    for (const auto& r : *rows) unfinished |= r.state != transport::ArchiveState::kDone;
  }
  store->reset();
  session->reset();
  if (automatic && !unfinished) app::RemoveStateFile(url);
  if (a.json) {
    nlohmann::json j = {{"staging", a.staging},       {"destination", a.dst},
                        {"archives", t.archives},     {"archives_failed", t.failed},
                        {"entries", t.entries},       {"objects_written", t.written},
                        {"bytes_written", t.bytes},   {"already_present", t.present},
                        {"checksums_verified", t.verified},
                        {"archive_bytes", t.archive_bytes}, {"seconds", secs},
                        {"archives_skipped", t.skipped}, {"archives_deleted", t.deleted},
                        {"archives_held", t.held}, {"claims_lost", t.lost},
                        {"claims", claims != nullptr},
                        {"ok", s.ok() && t.failed == 0}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::fprintf(stderr,
                 "unpack: %llu archives (%s), %llu objects written (%s), %llu already there, "
                 "%llu checksums verified, %llu archives failed (%llu claims lost) in %.2f s\n",
                 static_cast<unsigned long long>(t.archives),
                 transfer::HumanBytes(static_cast<double>(t.archive_bytes)).c_str(),
                 static_cast<unsigned long long>(t.written),
                 transfer::HumanBytes(static_cast<double>(t.bytes)).c_str(),
                 static_cast<unsigned long long>(t.present),
                 static_cast<unsigned long long>(t.verified),
                 static_cast<unsigned long long>(t.failed),
                 static_cast<unsigned long long>(t.lost), secs);
  }
  if (!s.ok()) return ReportError(s);
  return t.failed > 0 ? 1 : 0;
}

}  // namespace

void RegisterUnpack(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<UnpackArgs>();
  CLI::App* cmd = app.add_subcommand(
      "unpack",
      "unpack the archives staged by `ferry sync --compress --pack-only` into DST; several "
      "may run for one region and staging prefix (each archive is claimed by one of them)");
  cmd->add_option("STAGING", args->staging, "the staging location (REMOTE:bucket/prefix)")
      ->required();
  cmd->add_option("DST", args->dst, "the destination the archives were packed for")->required();
  cmd->add_option("--region", args->region,
                  "write only the entries meant for this region (default: every entry)");
  cmd->add_option("--storage-class", args->storage_class, "storage class of written objects");
  cmd->add_flag("--preserve-lock", args->preserve_lock,
                "write each object with the retention and legal hold its archive entry recorded "
                "(S3 Object Lock; DST must have object lock)");
  cmd->add_option("--state", args->state,
                  "progress store (SQLite path or postgres://...; default: a file per staging "
                  "and destination, removed once nothing is left unfinished)");
  cmd->add_option("--follow", args->follow, "list the staging prefix again every N seconds")
      ->check(CLI::Range(0, 86400));
  cmd->add_option("--claim-ttl", args->claim_ttl,
                  "seconds an unpacker's claim on an archive lasts unless renewed; a stalled "
                  "unpacker's archive is taken over by another of its region after it "
                  "(default 60)")
      ->check(CLI::Range(2, 86400));
  cmd->add_flag("--json", args->json, "print a JSON summary on stdout");
  cmd->callback([args, &ctx] { ctx.exit_code = RunUnpack(*args, ctx); });
}

}  // namespace ferry::cli
