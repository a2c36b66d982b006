// ferry catalog ls|export|rebuild|prune BACKUP_LOC: the backup catalog of a location
// (docs/design/backup.md). `ls` prints one line per backed-up object version (keys deleted at
// the source only with --include-deleted), `export` every row as CSV (with a header) or JSON
// lines, `rebuild` recreates the catalog from the archives' manifests (a lost state file),
// `prune` (catalog_prune.cc) applies a retention policy. Also the helpers backup.cc and
// restore.cc share (backup_internal.h).
#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <nlohmann/json.hpp>

#include "app/state_files.h"
#include "app/wiring.h"
#include "base/clock.h"
#include "checksum/checksum.h"
#include "cli/commands.h"
#include "cli/commands/backup_internal.h"
#include "state/state.h"
#include "storage/key.h"
#include "transfer/progress.h"
#include "backup/backup.h"

namespace ferry::cli {

std::string BackupStateUrl(const std::string& state_flag, const BackupLocation& location) {
  if (!state_flag.empty()) return state_flag;
  return app::AutoStatePath("backup", "", location.text);
}

Result<OpenedCatalog> OpenCatalog(const std::string& url) {
  OpenedCatalog out;
  FERRY_ASSIGN_OR_RETURN(out.session, state::OpenSession(url, SystemClock::Default()));
  FERRY_ASSIGN_OR_RETURN(out.store, backup::CatalogStore::Open(*out.session));
  return out;
}

Result<OpenedBackup> OpenBackup(const std::string& config_path, const std::string& location_text,
                                const std::string& state_flag, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(auto config, app::LoadConfig(config_path));
  OpenedBackup out;
  FERRY_ASSIGN_OR_RETURN(out.location, ParseBackupLocation(location_text));
  out.wiring = std::make_unique<app::Wiring>(std::move(config));
  FERRY_ASSIGN_OR_RETURN(out.backend, out.wiring->OpenBackend(out.location.location, false));
  if (Status s = out.backend->Check(stop); !s.ok()) return s.WithContext("backup location");
  FERRY_ASSIGN_OR_RETURN(out.catalog, OpenCatalog(BackupStateUrl(state_flag, out.location)));
  return out;
}

Result<int64_t> ParseTimeMs(const std::string& text, const char* flag) {
  auto bad = [&] {
    return Status::InvalidArgument(std::string(flag) + ": \"" + text +
                                   "\" is not a time (2026-11-23T01:02:03Z, or unix seconds)");
  };
  if (text.empty()) return bad();
  if (text.find_first_not_of("0123456789.") == std::string::npos) {
    char* end = nullptr;
    const double seconds = std::strtod(text.c_str(), &end);
    if (end == nullptr || *end != '\0' || seconds <= 0) return bad();
    return static_cast<int64_t>(seconds * 1000.0);
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &year, &month, &day, &hour,
                  &minute, &second, &used) != 6) {
    return bad();
  }
  std::string rest = text.substr(static_cast<size_t>(used));
  int64_t millis = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t digits = 1;
    int64_t scale = 100;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
      millis += (rest[digits] - '0') * scale;
      scale /= 10;
      ++digits;
    }
    if (digits == 1) return bad();
    rest = rest.substr(digits);
  }
  if (rest != "Z" && rest != "" && rest != "+00:00") return bad();
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t t = timegm(&tm);
  if (t < 0) return bad();
  return static_cast<int64_t>(t) * 1000 + millis;
}


namespace {

struct CatalogArgs {
  std::string location;
  std::string prefix;
  std::string state;
  std::string format = "csv";
  std::string as_of;
  bool include_deleted = false;
  bool json = false;
};

// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
std::string Csv(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

constexpr const char* kCsvHeader =
    "location,key,version_id,size,etag,crc32c,mtime_ns,archive,entry,first_frame,frame_count,"
    "offset_in_frame,data_offset,data_bytes,backed_up";

std::string CsvRow(const backup::CatalogEntry& e) {
  const std::string fields[] = {Csv(e.location),
                                Csv(e.key),
                                Csv(e.version_id),
                                std::to_string(e.size),
                                Csv(e.etag),
                                checksum::Hex32(e.crc32c),
                                std::to_string(e.mtime_ns),
                                Csv(e.archive),
                                std::to_string(e.entry),
                                std::to_string(e.first_frame),
                                std::to_string(e.frame_count),
                                std::to_string(e.offset_in_frame),
                                std::to_string(e.data_offset),
                                std::to_string(e.data_bytes),
                                TimeText(e.backed_up_ms)};
  std::string out;
  for (const std::string& f : fields) out += (out.empty() ? "" : ",") + f;
  return out;
}

nlohmann::json JsonRow(const backup::CatalogEntry& e) {
  return nlohmann::json{{"location", e.location},
                        {"key", e.key},
                        {"version_id", e.version_id},
                        {"size", e.size},
                        {"etag", e.etag},
                        {"crc32c", checksum::Hex32(e.crc32c)},
                        {"mtime_ns", e.mtime_ns},
                        {"archive", e.archive},
                        {"entry", e.entry},
                        {"first_frame", e.first_frame},
                        {"frame_count", e.frame_count},
                        {"offset_in_frame", e.offset_in_frame},
                        {"data_offset", e.data_offset},
                        {"data_bytes", e.data_bytes},
                        {"backed_up", TimeText(e.backed_up_ms)}};
}

std::string Dump(const nlohmann::json& j) {
  // A key that is not UTF-8 (a local file name) prints with U+FFFD where it is not.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// `catalog ls`: one key's versions (newest first) as of `at_ms` (0: now); a key deleted by
// then only with --include-deleted, under a line that says when.
void PrintKey(const CatalogArgs& a, int64_t at_ms,
              const std::vector<backup::CatalogEntry>& versions,
              std::span<const backup::Tombstone> tombstones, uint64_t& hidden) {
  const backup::Selected pick = backup::SelectVersion(versions, tombstones, "", at_ms);
  if (!pick.entry) return;  // nothing backed up yet at that time
  if (pick.deleted_ms > 0) {
    if (!a.include_deleted) {
      ++hidden;
      return;
    }
    std::printf("%s %12s %s  (deleted at the source)\n", TimeText(pick.deleted_ms).c_str(), "-",
                storage::PrintableKey(pick.entry->key).c_str());
  }
  bool latest = true;  // the first line of a key is the version a restore takes
  for (const backup::CatalogEntry& e : versions) {
    if (at_ms > 0 && e.backed_up_ms > at_ms) continue;
    std::printf("%s %12" PRIu64 " %s%s%s  %s#%" PRIu64 "%s\n", TimeText(e.backed_up_ms).c_str(),
                e.size, storage::PrintableKey(e.key).c_str(),
                e.version_id.empty() ? "" : "  version ", e.version_id.c_str(), e.archive.c_str(),
                e.entry, latest ? "" : "  (older)");
    latest = false;
  }
}

int RunList(const CatalogArgs& a, bool export_rows) {
  auto loc = ParseBackupLocation(a.location);
  if (!loc.ok()) return ReportError(loc.status());
  int64_t at_ms = 0;
  if (!a.as_of.empty()) {
    auto t = ParseTimeMs(a.as_of, "--as-of");
    if (!t.ok()) return ReportError(t.status());
    at_ms = *t;
  }
  auto catalog = OpenCatalog(BackupStateUrl(a.state, *loc));
  if (!catalog.ok()) return ReportError(catalog.status());
  if (export_rows) {
    if (a.format == "csv") std::printf("%s\n", kCsvHeader);
    Status s = catalog->store->Visit(loc->text, a.prefix, [&](const backup::CatalogEntry& e) {
      std::printf("%s\n", a.format == "csv" ? CsvRow(e).c_str() : Dump(JsonRow(e)).c_str());
      return Status::Ok();
    });
    if (!s.ok()) return ReportError(s);
    return 0;
  }
  auto tombstones = catalog->store->Tombstones(loc->text, a.prefix);
  if (!tombstones.ok()) return ReportError(tombstones.status());
  size_t next = 0;  // both sorted by key
  uint64_t hidden = 0;
  std::vector<backup::CatalogEntry> versions;  // of one key
  auto flush = [&] {
    if (versions.empty()) return;
    const std::string& key = versions.front().key;
    while (next < tombstones->size() && (*tombstones)[next].key < key) ++next;
    size_t end = next;
    while (end < tombstones->size() && (*tombstones)[end].key == key) ++end;
    PrintKey(a, at_ms, versions,
             std::span<const backup::Tombstone>(tombstones->data() + next, end - next), hidden);
    versions.clear();
  };
  Status s = catalog->store->Visit(loc->text, a.prefix, [&](const backup::CatalogEntry& e) {
    if (!versions.empty() && versions.front().key != e.key) flush();
    versions.push_back(e);
    return Status::Ok();
  });
  if (!s.ok()) return ReportError(s);
  flush();
  if (hidden > 0) {
    std::fprintf(stderr, "catalog ls: %" PRIu64 " keys deleted at the source left out "
                 "(--include-deleted lists them)\n", hidden);
  }
  return 0;
}

int RunRebuild(const CatalogArgs& a, Context& ctx) {
  auto opened = OpenBackup(ctx.global.config_path, a.location, a.state, ctx.stop);
  if (!opened.ok()) return ReportError(opened.status());
  const BackupLocation* loc = &opened->location;
  auto r = backup::RebuildCatalog(*opened->catalog.store, *opened->backend, loc->text,
                                     ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  for (const std::string& f : r->failed) std::fprintf(stderr, "failed: %s\n", f.c_str());
  if (a.json) {
    const nlohmann::json j = {{"location", loc->text},        {"archives", r->archives},
                              {"entries", r->entries},         {"forgotten", r->forgotten},
                              {"bytes_read", r->bytes_read},   {"failed", r->failed},
                              {"ok", r->failed.empty()}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::fprintf(stderr,
                 "catalog rebuild: %" PRIu64 " archives, %" PRIu64 " entries recorded from their "
                 "manifests (%s read), %" PRIu64 " archives forgotten, %zu unreadable\n",
                 r->archives, r->entries,
                 transfer::HumanBytes(static_cast<double>(r->bytes_read)).c_str(), r->forgotten,
                 r->failed.size());
  }
  return r->failed.empty() ? 0 : 1;
}

}  // namespace

void RegisterCatalog(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("catalog", "the backup catalog of a backup location");
  cmd->require_subcommand(1);
  auto add = [&](const char* name, const char* help) {
    auto args = std::make_shared<CatalogArgs>();
    CLI::App* sub = cmd->add_subcommand(name, help);
    sub->add_option("BACKUP_LOC", args->location, "the backup location (REMOTE:bucket/prefix)")
        ->required();
    sub->add_option("--state", args->state,
                    "state store holding the catalog (SQLite path or postgres://...; default: "
                    "the backup location's file in ~/.local/state/ferry)");
    return std::make_pair(sub, args);
  };
  auto [ls, ls_args] = add("ls", "list the backed-up object versions, newest first per key");
  ls->add_option("--prefix", ls_args->prefix, "only keys starting with P");
  ls->add_option("--as-of", ls_args->as_of,
                 "the versions backed up at or before TIME; keys deleted by then left out");
  ls->add_flag("--include-deleted", ls_args->include_deleted,
               "also list keys deleted at the source (under a line saying when)");
  ls->callback([args = ls_args, &ctx] { ctx.exit_code = RunList(*args, false); });
  auto [ex, ex_args] = add("export", "print the catalog as CSV (with a header) or JSON lines");
  ex->add_option("--prefix", ex_args->prefix, "only keys starting with P");
  ex->add_option("--format", ex_args->format, "csv (default) or json (one object per line)")
      ->check(CLI::IsMember({"csv", "json"}));
  ex->callback([args = ex_args, &ctx] { ctx.exit_code = RunList(*args, true); });
  auto [rb, rb_args] = add("rebuild",
                           "recreate the catalog from the manifests of the archives at the "
                           "backup location (after the state file was lost)");
  rb->add_flag("--json", rb_args->json, "print a JSON summary on stdout");
  rb->callback([args = rb_args, &ctx] { ctx.exit_code = RunRebuild(*args, ctx); });

  auto prune_args = std::make_shared<PruneArgs>();
  CLI::App* pr = cmd->add_subcommand(
      "prune",
      "forget object versions outside a retention policy and delete the archives none of whose "
      "entries is kept (the newest version of a live key is always kept)");
  pr->add_option("BACKUP_LOC", prune_args->location, "the backup location (REMOTE:bucket/prefix)")
      ->required();
  pr->add_option("--state", prune_args->state,
                 "state store holding the catalog (SQLite path or postgres://...; default: "
                 "the backup location's file in ~/.local/state/ferry)");
  pr->add_option("--keep-last", prune_args->keep_last,
                 "keep the N newest states of each key (versions; a deletion counts as one)")
      ->check(CLI::Range(1, 1000000));
  pr->add_option("--keep-within", prune_args->keep_within,
                 "keep every version current within DURATION before now (e.g. 30d, 12h, 2w)");
  pr->add_flag("--dry-run", prune_args->dry_run,
               "print what would go (versions, archives, bytes); change nothing");
  pr->add_option("--max-delete", prune_args->max_delete,
                 "if the prune would forget more than N versions, or more than P% of the "
                 "versions the catalog holds at the location (N or P%), forget and delete "
                 "nothing, say so and exit 2 (default: [catalog] max_delete, else no limit)");
  pr->add_flag("--json", prune_args->json, "print a JSON summary on stdout");
  pr->callback([args = prune_args, &ctx] { ctx.exit_code = RunCatalogPrune(*args, ctx); });
}

}  // namespace ferry::cli
