// ferry verify SRC DST: a read-only audit of DST against SRC (verify/verify.h,
// docs/design/verify.md). Exit codes: 0 no difference; 1 differences; 2 bad input (a flag, a
// location, a bucket that does not exist or refuses our credentials); 3 errors (a key or a
// listing could not be checked).
#include <cstdio>
#include <memory>

#include "app/engine.h"
#include "app/files_from.h"
#include "app/location.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/report_flags.h"
#include "cli/engine_options.h"
#include "plan/filter.h"
#include "transfer/adaptive.h"
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
  if (Status s = CheckReportArgs(a.report, /*durable=*/false); !s.ok()) return Fail(s);
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
                                                                : transfer::ListingDriver{}},
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
  cmd->callback([args, &ctx] { ctx.exit_code = Run(*args, ctx); });
}

}  // namespace ferry::cli
