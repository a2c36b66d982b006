// ferry verify SRC DST: a read-only audit of DST against SRC (verify/verify.h,
// docs/design/verify.md). Exit codes: 0 no difference; 1 differences; 2 bad input (a flag, a
// location, a bucket that does not exist or refuses our credentials); 3 errors (a key or a
// listing could not be checked).
#include <cstdio>
#include <memory>

#include "app/engine.h"
#include "app/location.h"
#include "app/wiring.h"
#include "cli/commands.h"
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

int Run(const VerifyArgs& a, Context& ctx) {
  if (a.versions && (a.download || a.metadata)) {
    return Fail(Status::InvalidArgument("--versions compares listings only: not with "
                                        "--download or --metadata"));
  }
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

  std::FILE* out = stdout;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(nullptr, &std::fclose);
  if (!a.combined.empty()) {
    file.reset(std::fopen(a.combined.c_str(), "w"));
    if (file == nullptr) {
      return Fail(Status::InvalidArgument("--combined: cannot write " + a.combined));
    }
    out = file.get();
  }
  verify::Report report(out, a.json);
  verify::VerifyOptions options;
  options.compare.download = a.download;
  options.compare.metadata = a.metadata;
  options.list_ranges = static_cast<size_t>(a.list_ranges);
  verify::VerifyStats stats;
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
                                                 .stats = stats},
                               ctx.stop);
  }
  std::fflush(out);
  const verify::Counts counts = report.counts();
  std::fprintf(stderr, "%s\n", verify::SummaryLine(counts).c_str());
  if (!a.versions) {
    // What the audit cost beyond the listings (tests and benchmarks read it).
    std::fprintf(stderr,
                 "verify: %llu HEADs, %llu layout asks, %llu objects read (%llu bytes), %llu "
                 "key ranges listed\n",
                 static_cast<unsigned long long>(stats.heads.load()),
                 static_cast<unsigned long long>(stats.layout_asks.load()),
                 static_cast<unsigned long long>(stats.reads.load()),
                 static_cast<unsigned long long>(stats.bytes_read.load()),
                 static_cast<unsigned long long>(stats.ranges.load()));
  }
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
  cmd->add_option("--list-ranges", args->list_ranges,
                  "list each side in up to N key ranges in parallel (default 1: one listing per "
                  "side; cutting the ranges costs a page and up to 3 requests per cut, which pays "
                  "off on buckets of many pages)")
      ->check(CLI::Range(1, 64));
  cmd->callback([args, &ctx] { ctx.exit_code = Run(*args, ctx); });
}

}  // namespace ferry::cli
