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
// and between the archives of a pass. Opening, a pass and the follow loop are app's, shared with
// `ferry serve`'s [[serve.unpack]] roles (app/unpack_follow.h).
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/engine.h"
#include "app/state_files.h"
#include "app/unpack_follow.h"
#include "app/wiring.h"
#include "base/clock.h"
#include "cli/commands.h"
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

int RunUnpack(const UnpackArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  app::Wiring wiring(std::move(config).value());
  auto opened = app::OpenUnpacker(
      wiring,
      app::UnpackTarget{.staging = a.staging,
                        .dst = a.dst,
                        .region = a.region,
                        .state = a.state,
                        .storage_class = a.storage_class,
                        .preserve_lock = a.preserve_lock,
                        .claim_ttl = std::chrono::seconds(a.claim_ttl)},
      SystemClock::Default(), ctx.stop);
  if (!opened.ok()) return ReportError(opened.status());
  app::Unpacker& u = **opened;
  if (u.claims() == nullptr) {
    std::fprintf(stderr,
                 "warning: %s does not honour create-only writes: run only one `ferry unpack` "
                 "per region and staging prefix\n",
                 u.staging->Describe().c_str());
  }
  const auto start = std::chrono::steady_clock::now();
  // The command's engine (app/engine.h): an archive's entries written 32 at a time, within its
  // memory (128MiB).
  auto engine = app::Engine::Open(app::EngineSettings{.profile = app::EngineProfile::kRequests,
                                                      .concurrency = 32,
                                                      .default_concurrency = 32},
                                  wiring.config().transfer);
  if (!engine.ok()) return ReportError(engine.status());
  transfer::Executor& executor = (*engine)->executor();
  app::UnpackTotals t;
  app::UnpackFollowOptions follow;
  follow.interval = std::chrono::seconds(a.follow);
  const Status s = app::FollowStaging(u, executor, t, follow, ctx.stop);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // An automatic store goes once nothing is left unfinished (as a run's state file does).
  bool unfinished = t.failed > 0 || !s.ok();
  if (auto rows = u.store->Rows(a.staging); rows.ok()) {
    for (const auto& r : *rows) unfinished |= r.state != transport::ArchiveState::kDone;
  }
  u.store.reset();
  u.session.reset();
  if (u.automatic_state && !unfinished) app::RemoveStateFile(u.state_url);
  const bool claims = u.claims() != nullptr;
  if (a.json) {
    nlohmann::json j = {{"staging", a.staging},       {"destination", a.dst},
                        {"archives", t.archives},     {"archives_failed", t.failed},
                        {"entries", t.entries},       {"objects_written", t.written},
                        {"bytes_written", t.bytes},   {"already_present", t.present},
                        {"checksums_verified", t.verified},
                        {"archive_bytes", t.archive_bytes}, {"seconds", secs},
                        {"archives_skipped", t.skipped}, {"archives_deleted", t.deleted},
                        {"archives_held", t.held}, {"claims_lost", t.lost},
                        {"claims", claims},
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
