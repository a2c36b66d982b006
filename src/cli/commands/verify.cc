// ferry verify SRC DST: a read-only audit of DST against SRC (verify/verify.h,
// docs/design/verify.md). Exit codes: 0 no difference; 1 differences; 2 bad input (a flag, a
// location, a bucket that does not exist or refuses our credentials); 3 errors (a key or a
// listing could not be checked).
#include <cstdio>
#include <memory>

#include <algorithm>
#include <chrono>

#include "app/durable.h"
#include "app/engine.h"
#include "app/files_from.h"
#include "app/location.h"
#include "app/report_open.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/report_flags.h"
#include "cli/engine_options.h"
#include "plan/filter.h"
#include "state/state_url.h"
#include "transfer/adaptive.h"
#include "verify/kinds/kinds.h"
#include "verify/verify.h"
#include "verify/versions.h"

namespace ferry::cli {
namespace {

struct VerifyArgs {
  std::string src;
  std::string dst;
  bool download = false;
  bool metadata = false;
  bool json = false;
  bool versions = false;
  std::string combined;  // report file ("" = stdout)
  EngineArgs engine;  // --concurrency, --memory
  int list_ranges = 1;
  std::string files_from;         // --files-from: compare only the listed keys
  std::string files_from_format;  // plain, csv ("" = by the list's name)
  ReportArgs report;              // --report: a row per key (report_flags.h)
  std::vector<std::string> include, exclude;  // --include, --exclude (plan/glob.h)
  std::string max_age, min_age;               // rclone's: younger / older than this
  // A durable run (--state URL): key-range jobs any `ferry worker` of the store claims.
  std::string state;
  bool detach = false;
  bool restart = false;
  int max_attempts = 5;
  ListingArgs listing;  // --listers, --scan-chunk of this process's worker
};

// Requests adapted to the link up to 64 unless a number is given; reads need 8 MiB at least.
app::EngineSettings VerifyEngine() {
  return app::EngineSettings{.profile = app::EngineProfile::kRequests,
                             .default_concurrency = transfer::kAdaptiveMaxConcurrency,
                             .adaptive_allowed = true,
                             .min_memory = 8u << 20};
}

// Bad input is exit 2; anything else that stops the run, 3.
int Fail(const Status& s) {
  std::fprintf(stderr, "ferry: error: %s\n", s.message().c_str());
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kUnauthenticated:
      return 2;
    default:
      return 3;
  }
}

// The flags a --files-from run cannot take, each refused in one line.
Status CheckListFlags(const VerifyArgs& a) {
  if (a.files_from.empty()) {
    if (!a.files_from_format.empty()) {
      return Status::InvalidArgument("--files-from-format needs --files-from");
    }
    return Status::Ok();
  }
  if (a.versions) {
    return Status::InvalidArgument("--versions cannot take --files-from yet (the version ids "
                                   "of a csv list are not honoured)");
  }
  if (a.list_ranges > 1) {
    return Status::InvalidArgument("--list-ranges cuts the full listings, and --files-from "
                                   "lists nothing else than its keys: give one or the other");
  }
  return Status::Ok();
}

// --include, --exclude, --max-age and --min-age as the filter's options (rclone's ages: --max-age
// keeps objects younger than it, --min-age older ones), ages counted from `now`.
Result<plan::FilterOptions> FilterOf(const VerifyArgs& a,
                                     std::chrono::system_clock::time_point now) {
  plan::FilterOptions f;
  f.include = a.include;
  f.exclude = a.exclude;
  if (!a.max_age.empty()) {
    FERRY_ASSIGN_OR_RETURN(auto age, plan::ParseAge(a.max_age));
    f.newer_than = now - age;
  }
  if (!a.min_age.empty()) {
    FERRY_ASSIGN_OR_RETURN(auto age, plan::ParseAge(a.min_age));
    f.older_than = now - age;
  }
  if (f.newer_than && f.older_than && *f.newer_than > *f.older_than) {
    return Status::InvalidArgument("--max-age " + a.max_age + " is below --min-age " + a.min_age +
                                   ": no object is younger than the first and older than the "
                                   "second");
  }
  FERRY_RETURN_IF_ERROR(plan::Filter::Make(f, now).status());  // a bad pattern
  return f;
}

// The flags a durable run (--state) cannot take, and the durable flags without --state.
Status CheckDurableFlags(const VerifyArgs& a) {
  if (a.state.empty()) {
    if (a.detach) return Status::InvalidArgument("--detach needs --state URL (a durable run)");
    if (a.restart) return Status::InvalidArgument("--restart needs --state URL (a durable run)");
    return Status::Ok();
  }
  auto refuse = [](const char* flag) {
    return Status::InvalidArgument(std::string(flag) + " does not go with --state yet (a durable "
                                   "verify prints its differences when it ends, and --report "
                                   "has every one)");
  };
  if (a.versions) return refuse("--versions");
  if (a.json) return refuse("--json");
  if (!a.combined.empty()) return refuse("--combined");
  if (a.list_ranges > 1) {
    return Status::InvalidArgument("--list-ranges does not go with --state: a durable run's "
                                   "key ranges are its jobs, split as workers have room");
  }
  if (a.max_attempts < 1) return Status::InvalidArgument("--max-attempts: must be at least 1");
  return Status::Ok();
}

// The end of a durable verify run that ran here: its recorded differences on stdout (in key
// order), the counts on stderr; the exit code as the in-memory audit's, 3 when the run did not
// finish (interrupted, dead jobs) or its report is incomplete.
int FinishDurableVerify(const app::DurableRunResult& r, jobs::JobStore& store) {
  auto tally = verify::RunTally(store, r.run);
  if (!tally.ok()) return Fail(tally.status());
  std::sort(tally->differences.begin(), tally->differences.end(),
            [](const verify::Entry& x, const verify::Entry& y) { return x.key < y.key; });
  for (const verify::Entry& e : tally->differences) {
    std::fprintf(stdout, "%s\n", verify::FormatLine(e, false).c_str());
  }
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", verify::SummaryLine(tally->counts).c_str());
  if (tally->differences_left_out > 0) {
    std::fprintf(stderr, "verify: %zu more differences not listed here (--report has them all)\n",
                 tally->differences_left_out);
  }
  std::fprintf(stderr, "verify: run %lld%s\n", static_cast<long long>(r.run),
               r.resumed ? " (resumed)" : "");
  if (!r.report.ok()) return Fail(r.report);
  const uint64_t dead = r.counts.jobs[static_cast<size_t>(jobs::JobState::kDead)];
  if (r.progress != jobs::RunProgress::kDone) {
    std::fprintf(stderr, "ferry: error: the run did not finish (%llu dead jobs: ferry jobs dlq); "
                 "rerun to resume it\n", static_cast<unsigned long long>(dead));
    return 3;
  }
  return verify::ExitCodeFor(tally->counts);
}

// `ferry verify SRC DST --state URL [--detach]`: the audit as a durable run (verify/kinds/kinds.h)
// of key-range jobs that this process (unless detached) and any `ferry worker` of the store work.
int RunDurableVerify(const VerifyArgs& a, Context& ctx, app::Wiring& wiring,
                     const app::EngineSettings& engine_settings,
                     const plan::FilterOptions& filter, app::FilesFrom* files_from) {
  app::DurableRunRequest req;
  if (Status s = ApplyListingOptions(a.listing, req.worker); !s.ok()) return Fail(s);
  auto store = jobs::OpenJobStore(a.state);
  if (!store.ok()) return Fail(store.status());
  req.source = a.src;
  req.destination = a.dst;
  req.options.command = verify::kVerifyCommand;
  req.options.filter = filter;
  req.options.max_attempts = a.max_attempts;
  if (a.report.settings.wanted()) {  // checked now; every worker of the run writes its parts
    auto checked = app::OpenReport::Open(wiring, a.report.settings, {}, ctx.stop);
    if (!checked.ok()) return Fail(checked.status());
    req.options.report = {.location = a.report.settings.location,
                          .format = a.report.settings.format,
                          .level = a.report.settings.level};
  }
  const verify::CompareOptions compare{.download = a.download, .metadata = a.metadata};
  // A list's sorted keys become the run's verify-list jobs, stored with it (a rerun resumes from
  // them); else one verify-range job of the whole key space.
  if (files_from != nullptr) req.options.files_from = a.files_from;
  req.first_jobs = [compare, files_from,
                    attempts = a.max_attempts]() -> Result<std::vector<jobs::JobSpec>> {
    std::vector<jobs::JobSpec> first{verify::FirstVerifyJob(compare, attempts)};
    if (files_from != nullptr) {
      FERRY_ASSIGN_OR_RETURN(auto scans, files_from->ListScanJobs(attempts));
      FERRY_ASSIGN_OR_RETURN(first, verify::VerifyListJobs(std::move(scans), compare));
    }
    return first;
  };
  req.worker.owner = jobs::DefaultOwner();
  std::unique_ptr<app::Engine> engine;
  if (!a.detach) {
    auto opened = app::Engine::Open(engine_settings, wiring.config().transfer);
    if (!opened.ok()) return Fail(opened.status());
    engine = std::move(opened).value();
    req.worker.concurrency = engine->requests();
    req.worker.executor = &engine->executor();
  }
  req.worker.verbose = ctx.global.verbose;
  req.worker.only_run_checked = true;  // Run checked both sides just now
  req.detach = a.detach;
  req.restart = a.restart;
  req.state_for_messages = state::RedactUrl(a.state);
  transfer::Stats stats;
  auto r = app::RunDurable(**store, wiring, req, stats, ctx.stop);
  if (!r.ok()) return Fail(r.status());
  if (a.detach) {
    std::fprintf(stderr, "run %lld queued; workers: ferry worker --state %s\n",
                 static_cast<long long>(r->run), state::RedactUrl(a.state).c_str());
    return 0;
  }
  return FinishDurableVerify(*r, **store);
}

// What the audit cost beyond the listings (tests and benchmarks read it).
void PrintCost(const verify::VerifyStats& stats, const app::FilesFrom* list,
               const transfer::Stats& list_stats) {
  std::fprintf(stderr, "verify: %llu HEADs, %llu layout asks, %llu objects read (%llu bytes), ",
               static_cast<unsigned long long>(stats.heads.load()),
               static_cast<unsigned long long>(stats.layout_asks.load()),
               static_cast<unsigned long long>(stats.reads.load()),
               static_cast<unsigned long long>(stats.bytes_read.load()));
  if (list == nullptr) {
    std::fprintf(stderr, "%llu key ranges listed\n",
                 static_cast<unsigned long long>(stats.ranges.load()));
    return;
  }
  std::fprintf(stderr, "%llu keys from --files-from (%llu not in SRC)\n",
               static_cast<unsigned long long>(list->sort_stats().keys_read -
                                               list->sort_stats().duplicates),
               static_cast<unsigned long long>(list_stats.listed_not_found.load()));
}

int Run(const VerifyArgs& a, Context& ctx) {
  if (a.versions && (a.download || a.metadata)) {
    return Fail(Status::InvalidArgument("--versions compares listings only: not with "
                                        "--download or --metadata"));
  }
  if (Status s = CheckListFlags(a); !s.ok()) return Fail(s);
  if (Status s = CheckDurableFlags(a); !s.ok()) return Fail(s);
  if (Status s = CheckReportArgs(a.report, /*durable=*/!a.state.empty()); !s.ok()) return Fail(s);
  auto filter_options = FilterOf(a, std::chrono::system_clock::now());
  if (!filter_options.ok()) return Fail(filter_options.status());
  const auto filter = plan::Filter::Make(*filter_options, std::chrono::system_clock::now());
  if (!filter.ok()) return Fail(filter.status());
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return Fail(config.status());
  // Checked before anything is opened; made (its workers started) only for a content audit.
  const app::EngineSettings engine_settings = WithEngineArgs(VerifyEngine(), a.engine);
  if (auto shape = app::ResolveEngine(engine_settings, config->transfer); !shape.ok()) {
    return Fail(shape.status());
  }
  const app::TransferDefaults transfer_defaults = config->transfer;
  auto src_loc = app::ParseLocation(a.src);
  if (!src_loc.ok()) return Fail(src_loc.status());
  auto dst_loc = app::ParseLocation(a.dst);
  if (!dst_loc.ok()) return Fail(dst_loc.status());
  app::Wiring wiring(std::move(config).value());
  auto src = wiring.OpenBackend(*src_loc, /*create_local=*/false);
  if (!src.ok()) return Fail(src.status().WithContext("SRC"));
  auto dst = wiring.OpenBackend(*dst_loc, /*create_local=*/false);
  if (!dst.ok()) return Fail(dst.status().WithContext("DST"));
  if (Status s = (*src)->Check(ctx.stop); !s.ok()) return Fail(s.WithContext("SRC"));
  if (Status s = (*dst)->Check(ctx.stop); !s.ok()) return Fail(s.WithContext("DST"));
  // Read, checked and sorted to its end before anything is compared (a bad line: exit 2).
  std::unique_ptr<app::FilesFrom> list;
  if (!a.files_from.empty()) {
    auto opened = app::FilesFrom::Open(
        wiring, {.list = a.files_from, .format = a.files_from_format, .source = *src_loc},
        ctx.stop);
    if (!opened.ok()) return Fail(opened.status());
    list = std::move(*opened);
  }
  if (!a.state.empty()) {
    return RunDurableVerify(a, ctx, wiring, engine_settings, *filter_options, list.get());
  }

  std::FILE* out = stdout;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(nullptr, &std::fclose);
  if (!a.combined.empty()) {
    file.reset(std::fopen(a.combined.c_str(), "w"));
    if (file == nullptr) {
      return Fail(Status::InvalidArgument("--combined: cannot write " + a.combined));
    }
    out = file.get();
  }
  auto rows = OpenReportOnly(a.report, wiring, ctx.stop);  // --report: checked before the audit
  if (!rows.ok()) return Fail(rows.status());
  verify::Report report(out, a.json, *rows ? &(*rows)->writer() : nullptr);
  verify::VerifyOptions options;
  options.compare.download = a.download;
  options.compare.metadata = a.metadata;
  options.list_ranges = static_cast<size_t>(a.list_ranges);
  verify::VerifyStats stats;
  transfer::Stats list_stats;  // the list's keys that SRC lacks (listed_not_found)
  Status status;
  if (a.versions) {
    status = verify::RunVerifyVersions(**src, **dst, report, ctx.stop);
    if (status.code() == ErrorCode::kNotSupported) {
      return Fail(Status::InvalidArgument("--versions needs version listings on both sides "
                                          "(S3 buckets): " + status.message()));
    }
  } else {
    auto engine = app::Engine::Open(engine_settings, transfer_defaults);
    if (!engine.ok()) return Fail(engine.status());
    status = verify::RunVerify(verify::VerifyRun{.executor = (*engine)->executor(),
                                                 .src = **src,
                                                 .dst = **dst,
                                                 .options = options,
                                                 .report = report,
                                                 .stats = stats,
                                                 .listing = list != nullptr
                                                                ? list->Driver(list_stats)
                                                                : transfer::ListingDriver{},
                                                 .filter = filter->AcceptsAll() ? nullptr
                                                                                : &*filter},
                               ctx.stop);
  }
  std::fflush(out);
  const verify::Counts counts = report.counts();
  std::fprintf(stderr, "%s\n", verify::SummaryLine(counts).c_str());
  if (!a.versions) PrintCost(stats, list.get(), list_stats);
  if (Status s = FinishReportOnly(rows->get(), status); !s.ok()) return Fail(s);
  if (!status.ok()) {
    std::fprintf(stderr, "ferry: error: %s\n", status.message().c_str());
    return 3;
  }
  return verify::ExitCodeFor(counts);
}

}  // namespace

void RegisterVerify(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "compare DST with SRC without changing either: report identical (=), missing in DST (-), "
      "only in DST (+), different (*), errors (!) and pairs only sizes could check (~)");
  cmd->add_option("SRC", args->src, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  cmd->add_option("DST", args->dst, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  cmd->add_flag("--download", args->download,
                "read both sides when no checksum lets one read decide (else such pairs are "
                "reported as size-only)");
  cmd->add_flag("--metadata", args->metadata,
                "also compare user metadata (x-amz-meta-*, ferry's own left out) and "
                "Content-Type (one HEAD per side)");
  cmd->add_flag("--json", args->json, "one JSON object per key instead of \"<mark> <key>\"");
  cmd->add_flag("--versions", args->versions,
                "compare version histories (versions and delete markers, newest first, by "
                "size and ETag) instead of the current objects");
  cmd->add_option("--combined", args->combined,
                  "write the report to FILE instead of stdout");
  AddEngineOptions(cmd, args->engine, VerifyEngine());
  AddReportOptions(cmd, args->report);  // report_flags.h
  cmd->add_option("--list-ranges", args->list_ranges,
                  "list each side in up to N key ranges in parallel (default 1: one listing per "
                  "side; cutting the ranges costs a page and up to 3 requests per cut, which pays "
                  "off on buckets of many pages)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--files-from", args->files_from,
                  "compare only the keys listed in FILE, - (stdin) or an object (s3://b/key): "
                  "one per line, relative to SRC; .csv: bucket,key rows. A listed key on one "
                  "side only is reported as usual; nothing unlisted is looked at");
  cmd->add_option("--files-from-format", args->files_from_format,
                  "plain or csv (default: by the list's name)");
  cmd->add_option("--include", args->include,
                  "compare only keys matching this glob (repeatable; rclone's syntax)");
  cmd->add_option("--exclude", args->exclude, "leave out keys matching this glob (repeatable)");
  cmd->add_option("--max-age", args->max_age,
                  "compare only objects younger than this (30s, 15m, 2h, 7d, 1w), as rclone");
  cmd->add_option("--min-age", args->min_age,
                  "compare only objects older than this (30s, 15m, 2h, 7d, 1w), as rclone");
  cmd->add_option("--state", args->state,
                  "a durable run in this state store (a SQLite file or postgres://...): key-range "
                  "jobs that this process and any `ferry worker --state URL` work; rerun to "
                  "resume");
  cmd->add_flag("--detach", args->detach,
                "with --state: only queue the run (ferry worker does it; --report gets its "
                "summary from the worker that finishes)");
  cmd->add_flag("--restart", args->restart,
                "with --state: discard the unfinished run of SRC and DST and start a new one");
  cmd->add_option("--max-attempts", args->max_attempts,
                  "with --state: attempts of a job before it is dead (default 5)");
  AddListingOptions(cmd, args->listing);  // --listers, --scan-chunk (the run's key-range jobs)
  cmd->callback([args, &ctx] { ctx.exit_code = Run(*args, ctx); });
}

}  // namespace ferry::cli
