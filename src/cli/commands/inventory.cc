// ferry inventory ls LOCATION: the rows of an S3 Inventory (CSV), printed as `ferry ls` prints
// objects, on stdout:
//   <size> <mtime RFC3339> <etag or -> <key>
// and, where the inventory lists versions (a VersionId column), the version and its flags
// before the key: <size> <mtime> <etag or -> <version or -> <L|-><D|-> <key> (L: the latest,
// D: a delete marker). With --json: one JSON object per row (key, size, etag, mtime_ns,
// storage_class; version_id, is_latest, delete_marker when listed). The manifest's summary
// (source bucket, creation time, files, rows) goes to stderr once every row was read and
// checked. A corrupt inventory is one error line and a non-zero exit: 1 (a file whose MD5
// differs), 2 (a location, manifest or row that cannot be read).
// The opening and the checks are app::OpenInventory's (inventory/).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/inventory.h"
#include "cli/commands.h"

namespace ferry::cli {
namespace {

struct InventoryLsArgs {
  std::string location;
  bool json = false;
};

std::string InventoryTime(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return when;
}

void PrintInventoryRow(const storage::ObjectInfo& o, bool json, bool versions) {
  if (json) {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(o.mtime.time_since_epoch()).count();
    nlohmann::json j = {{"key", o.key},     {"size", o.size},
                        {"etag", o.etag},   {"mtime_ns", ns},
                        {"storage_class", o.storage_class}};
    if (versions) {
      j["version_id"] = o.version_id;
      j["is_latest"] = o.is_latest;
      j["delete_marker"] = o.delete_marker;
    }
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  const std::string when = InventoryTime(o.mtime);
  const char* etag = o.etag.empty() ? "-" : o.etag.c_str();
  if (versions) {
    std::printf("%12llu %s %s %s %c%c %s\n", static_cast<unsigned long long>(o.size),
                when.c_str(), etag, o.version_id.empty() ? "-" : o.version_id.c_str(),
                o.is_latest ? 'L' : '-', o.delete_marker ? 'D' : '-', o.key.c_str());
  } else {
    std::printf("%12llu %s %s %s\n", static_cast<unsigned long long>(o.size), when.c_str(),
                etag, o.key.c_str());
  }
}

int RunInventoryLs(const InventoryLsArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  app::Wiring wiring(std::move(config).value());
  auto opened = app::OpenInventory(wiring, a.location, {}, ctx.stop);
  if (!opened.ok()) return ReportError(opened.status());
  inventory::RowCursor& rows = *opened->rows;
  const auto& columns = rows.manifest().columns;
  const bool versions =
      std::find(columns.begin(), columns.end(), inventory::Field::kVersionId) != columns.end();
  static char buffer[64 * 1024];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
  for (;;) {
    auto next = rows.Next();
    if (!next.ok()) {
      std::fflush(stdout);
      return ReportError(next.status());
    }
    if (*next == nullptr) break;
    PrintInventoryRow(**next, a.json, versions);
  }
  std::fflush(stdout);
  const inventory::Manifest& m = rows.manifest();
  std::fprintf(stderr, "inventory of s3://%s made %s: %zu files, %llu rows (%s)\n",
               m.source_bucket.c_str(),
               m.created ? InventoryTime(*m.created).c_str() : "(no creationTimestamp)",
               m.files.size(), static_cast<unsigned long long>(rows.stats().rows),
               m.location.c_str());
  return 0;
}

}  // namespace

void RegisterInventory(CLI::App& app, Context& ctx) {
  CLI::App* inv = app.add_subcommand("inventory", "read S3 Inventory reports (CSV)");
  inv->require_subcommand(1);
  auto args = std::make_shared<InventoryLsArgs>();
  CLI::App* ls = inv->add_subcommand(
      "ls", "print an inventory's rows as `ferry ls` prints objects (manifest.checksum and "
      "each data file's MD5 checked before its rows are read)");
  ls->add_option("LOCATION", args->location,
                 "a manifest.json, or an inventory configuration's prefix (its newest run): "
                 "s3://bucket/key, NAME:bucket/key or a local path")
      ->required();
  ls->add_flag("--json", args->json, "one JSON object per row");
  ls->callback([args, &ctx] { ctx.exit_code = RunInventoryLs(*args, ctx); });
}

}  // namespace ferry::cli
