// ferry cp SRC DST / ferry sync SRC DST: option parsing, opening both sides, running
// transfer::RunSync and printing the summary (text, or JSON with --json).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/wiring.h"
#include "cli/commands.h"
#include "plan/filter.h"
#include "transfer/progress.h"
#include "transfer/sync.h"

namespace ferry::cli {
namespace {

struct CopyArgs {
  std::string src;
  std::string dst;
  bool sync = false;
  bool dry_run = false;
  bool delete_extra = false;
  bool json = false;
  bool progress = false;
  bool no_progress = false;
  bool checksum = false;
  bool size_only = false;
  bool update = false;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::string min_size, max_size, newer_than, older_than;
  std::string storage_class;
  int concurrency = 0;
  std::string memory, part_size, threshold;
};

Status ApplySize(const std::string& text, const std::optional<std::string>& fallback,
                 const char* flag, uint64_t& out) {
  const std::string& t = text.empty() ? fallback.value_or("") : text;
  if (t.empty()) return Status::Ok();
  auto v = plan::ParseSize(t);
  if (!v.ok()) return v.status().WithContext(flag);
  out = *v;
  return Status::Ok();
}

Result<transfer::SyncOptions> BuildOptions(const CopyArgs& a, const app::Config& config,
                                           bool verbose) {
  transfer::SyncOptions o;
  transfer::TransferOptions& t = o.transfer;
  t.concurrency = a.concurrency > 0 ? a.concurrency : config.transfer.concurrency.value_or(64);
  if (t.concurrency > 1024) return Status::InvalidArgument("--concurrency: at most 1024");
  FERRY_RETURN_IF_ERROR(ApplySize(a.memory, config.transfer.memory, "--memory", t.memory_budget));
  FERRY_RETURN_IF_ERROR(
      ApplySize(a.part_size, config.transfer.part_size, "--part-size", t.part_size));
  FERRY_RETURN_IF_ERROR(ApplySize(a.threshold, config.transfer.multipart_threshold,
                                  "--multipart-threshold", t.multipart_threshold));
  if (t.part_size < (5u << 20)) return Status::InvalidArgument("--part-size: at least 5MiB");
  if (t.memory_budget < t.part_size) {
    return Status::InvalidArgument("--memory must be at least --part-size");
  }
  t.storage_class = a.storage_class;
  t.dry_run = a.dry_run;
  t.verbose = verbose;
  t.decide.delete_extra = a.delete_extra;
  t.decide.checksum = a.checksum;
  t.decide.size_only = a.size_only;
  t.decide.update_only_newer = a.update;
  o.delete_extra = a.delete_extra;
  o.progress = !a.json && !a.no_progress && (a.progress || isatty(STDERR_FILENO));
  return o;
}

Result<plan::Filter> BuildFilter(const CopyArgs& a) {
  plan::FilterOptions f;
  f.include = a.include;
  f.exclude = a.exclude;
  const auto now = std::chrono::system_clock::now();
  auto size = [](const std::string& text, const char* flag) -> Result<std::optional<uint64_t>> {
    if (text.empty()) return std::optional<uint64_t>();
    auto v = plan::ParseSize(text);
    if (!v.ok()) return v.status().WithContext(flag);
    return std::optional<uint64_t>(*v);
  };
  auto age = [&](const std::string& text, const char* flag)
      -> Result<std::optional<std::chrono::system_clock::time_point>> {
    if (text.empty()) return std::optional<std::chrono::system_clock::time_point>();
    auto v = plan::ParseAge(text);
    if (!v.ok()) return v.status().WithContext(flag);
    return std::optional<std::chrono::system_clock::time_point>(now - *v);
  };
  FERRY_ASSIGN_OR_RETURN(f.min_size, size(a.min_size, "--min-size"));
  FERRY_ASSIGN_OR_RETURN(f.max_size, size(a.max_size, "--max-size"));
  FERRY_ASSIGN_OR_RETURN(f.newer_than, age(a.newer_than, "--newer-than"));
  FERRY_ASSIGN_OR_RETURN(f.older_than, age(a.older_than, "--older-than"));
  return plan::Filter::Make(f, now);
}

void PrintSummary(const CopyArgs& a, const transfer::Stats& s, const transfer::SyncResult& r) {
  const auto failures = s.KeptFailures();
  if (a.json) {
    nlohmann::json j;
    j["command"] = a.sync ? "sync" : "cp";
    j["source"] = a.src;
    j["destination"] = a.dst;
    j["dry_run"] = a.dry_run;
    j["ok"] = r.status.ok() && s.failures() == 0;
    if (!r.status.ok()) j["error"] = r.status.message();
    j["objects_listed"] = s.objects_listed.load();
    j["objects_copied"] = s.objects_copied.load();
    j["bytes_copied"] = s.bytes_copied.load();
    j["objects_unchanged"] = s.objects_skipped.load();
    j["objects_deleted"] = s.objects_deleted.load();
    j["objects_failed"] = s.failures();
    j["server_side_copies"] = s.objects_server_side.load();
    j["multipart_copies"] = s.objects_multipart.load();
    j["details_fetched"] = s.details_fetched.load();
    j["deletes_skipped"] = r.deletes_skipped;
    j["seconds"] = r.seconds;
    j["peak_buffer_bytes"] = r.peak_buffer_bytes;
    auto& list = j["failures"] = nlohmann::json::array();
    for (const auto& f : failures) {
      list.push_back({{"key", f.key}, {"action", f.action}, {"error", f.status.message()}});
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  for (const auto& f : failures) {
    std::fprintf(stderr, "failed: %s %s: %s\n", f.action.c_str(), f.key.c_str(),
                 f.status.message().c_str());
  }
  if (s.failures() > failures.size()) {
    std::fprintf(stderr, "... and %llu more failures\n",
                 static_cast<unsigned long long>(s.failures() - failures.size()));
  }
  const double rate = r.seconds > 0 ? static_cast<double>(s.bytes_copied.load()) / r.seconds : 0;
  std::fprintf(stderr,
               "%s%s: %llu objects listed, %llu %s (%s), %llu unchanged, %llu %s, %llu failed "
               "in %.2f s (%s/s)\n",
               a.dry_run ? "dry run: " : "", a.sync ? "sync" : "cp",
               static_cast<unsigned long long>(s.objects_listed.load()),
               static_cast<unsigned long long>(s.objects_copied.load()),
               a.dry_run ? "to copy" : "copied",
               transfer::HumanBytes(static_cast<double>(s.bytes_copied.load())).c_str(),
               static_cast<unsigned long long>(s.objects_skipped.load()),
               static_cast<unsigned long long>(s.objects_deleted.load()),
               a.dry_run ? "to delete" : "deleted",
               static_cast<unsigned long long>(s.failures()), r.seconds,
               transfer::HumanBytes(rate).c_str());
  if (r.deletes_skipped) {
    std::fprintf(stderr, "not deleting %llu destination objects because of the failures above\n",
                 static_cast<unsigned long long>(s.deletes_planned.load()));
  }
}

int Run(const CopyArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto options = BuildOptions(a, *config, ctx.global.verbose);
  if (!options.ok()) return ReportError(options.status());
  auto filter = BuildFilter(a);
  if (!filter.ok()) return ReportError(filter.status());
  auto src_loc = app::ParseLocation(a.src);
  if (!src_loc.ok()) return ReportError(src_loc.status());
  auto dst_loc = app::ParseLocation(a.dst);
  if (!dst_loc.ok()) return ReportError(dst_loc.status());

  app::Wiring wiring(std::move(config).value());
  auto src = wiring.OpenBackend(*src_loc, /*create_local=*/false);
  if (!src.ok()) return ReportError(src.status());
  auto dst = wiring.OpenBackend(*dst_loc, /*create_local=*/!a.dry_run);
  if (!dst.ok()) return ReportError(dst.status());
  if (Status s = (*src)->Check(ctx.stop); !s.ok()) return ReportError(s.WithContext("source"));
  if (Status s = (*dst)->Check(ctx.stop); !s.ok()) {
    return ReportError(s.WithContext("destination"));
  }

  transfer::Stats stats;
  transfer::SyncResult result = transfer::RunSync(**src, **dst, *filter, *options, stats, ctx.stop);
  PrintSummary(a, stats, result);
  if (!result.status.ok()) {
    ReportError(result.status);
    return 1;
  }
  return stats.failures() > 0 ? 1 : 0;
}

void AddCommand(CLI::App& app, Context& ctx, bool sync) {
  auto args = std::make_shared<CopyArgs>();
  args->sync = sync;
  CLI::App* cmd = app.add_subcommand(
      sync ? "sync" : "cp",
      sync ? "make DST like SRC: copy what is missing or changed (--delete removes extras)"
           : "copy what is missing or changed from SRC to DST; never deletes");
  cmd->add_option("SRC", args->src, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  cmd->add_option("DST", args->dst, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  cmd->add_flag("-n,--dry-run", args->dry_run, "show what would be done, change nothing");
  if (sync) cmd->add_flag("--delete", args->delete_extra, "delete destination-only objects");
  cmd->add_option("--include", args->include, "copy only keys matching GLOB (repeatable)");
  cmd->add_option("--exclude", args->exclude, "skip keys matching GLOB (repeatable)");
  cmd->add_option("--min-size", args->min_size, "skip objects smaller than SIZE (10k, 5MiB)");
  cmd->add_option("--max-size", args->max_size, "skip objects larger than SIZE");
  cmd->add_option("--newer-than", args->newer_than, "only objects modified within AGE (2h, 7d)");
  cmd->add_option("--older-than", args->older_than, "only objects modified before AGE ago");
  cmd->add_option("--storage-class", args->storage_class, "storage class of written objects");
  cmd->add_flag("--checksum", args->checksum, "compare content checksums, not times");
  cmd->add_flag("--size-only", args->size_only, "compare sizes only");
  cmd->add_flag("--update", args->update, "skip objects that are newer on the destination");
  cmd->add_option("--concurrency", args->concurrency, "requests in flight (default 64)");
  cmd->add_option("--memory", args->memory, "buffer memory budget (default 256MiB)");
  cmd->add_option("--part-size", args->part_size, "multipart part size (default 16MiB)");
  cmd->add_option("--multipart-threshold", args->threshold,
                  "objects from this size are copied in parts (default 64MiB)");
  cmd->add_flag("--json", args->json, "print a JSON summary on stdout");
  cmd->add_flag("--progress", args->progress, "show progress even when stderr is not a TTY");
  cmd->add_flag("--no-progress", args->no_progress, "never show progress");
  cmd->callback([args, &ctx] { ctx.exit_code = Run(*args, ctx); });
}

}  // namespace

void RegisterCopy(CLI::App& app, Context& ctx) {
  AddCommand(app, ctx, false);
  AddCommand(app, ctx, true);
}

}  // namespace ferry::cli
