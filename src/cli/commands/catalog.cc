// ferry catalog ls|export|rebuild BACKUP_LOC: the backup catalog of a location (docs/design/
// backup.md). `ls` prints one line per backed-up object version, `export` the same rows as CSV
// (with a header) or JSON lines, `rebuild` recreates the catalog from the archives' manifests
// (a lost state file). Also the helpers backup.cc and restore.cc share (backup_internal.h).
#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
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
#include "transport/backup.h"

namespace ferry::cli {

Result<BackupLocation> ParseBackupLocation(const std::string& text) {
  FERRY_ASSIGN_OR_RETURN(app::Location loc, app::ParseLocation(text));
  if (!loc.is_s3()) {
    return Status::InvalidArgument("backup location " + text +
                                   ": must be an S3 location (REMOTE:bucket/prefix or "
                                   "s3://bucket/prefix): archives are written as multipart "
                                   "uploads");
  }
  BackupLocation out;
  out.text = (loc.remote.empty() ? "s3://" : loc.remote + ":") + loc.bucket + "/" + loc.prefix;
  out.location = std::move(loc);
  return out;
}

std::string BackupStateUrl(const std::string& state_flag, const BackupLocation& location) {
  if (!state_flag.empty()) return state_flag;
  return app::AutoStatePath("backup", "", location.text);
}

Result<OpenedCatalog> OpenCatalog(const std::string& url) {
  OpenedCatalog out;
  FERRY_ASSIGN_OR_RETURN(out.session, state::OpenSession(url, SystemClock::Default()));
  FERRY_ASSIGN_OR_RETURN(out.store, transport::CatalogStore::Open(*out.session));
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

std::string TimeText(int64_t unix_ms) {
  const time_t t = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

namespace {

struct CatalogArgs {
  std::string location;
  std::string prefix;
  std::string state;
  std::string format = "csv";
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

std::string CsvRow(const transport::CatalogEntry& e) {
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

nlohmann::json JsonRow(const transport::CatalogEntry& e) {
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

int RunList(const CatalogArgs& a, bool export_rows) {
  auto loc = ParseBackupLocation(a.location);
  if (!loc.ok()) return ReportError(loc.status());
  auto catalog = OpenCatalog(BackupStateUrl(a.state, *loc));
  if (!catalog.ok()) return ReportError(catalog.status());
  if (export_rows && a.format == "csv") std::printf("%s\n", kCsvHeader);
  std::string last_key;
  bool first = true;
  Status s = catalog->store->Visit(loc->text, a.prefix, [&](const transport::CatalogEntry& e) {
    if (export_rows) {
      std::printf("%s\n", a.format == "csv" ? CsvRow(e).c_str() : Dump(JsonRow(e)).c_str());
    } else {
      // Newest first per key: the first line of a key is the version a restore takes.
      const bool latest = first || e.key != last_key;
      std::printf("%s %12" PRIu64 " %s%s%s  %s#%" PRIu64 "%s\n", TimeText(e.backed_up_ms).c_str(),
                  e.size, storage::PrintableKey(e.key).c_str(),
                  e.version_id.empty() ? "" : "  version ", e.version_id.c_str(),
                  e.archive.c_str(), e.entry, latest ? "" : "  (older)");
    }
    last_key = e.key;
    first = false;
    return Status::Ok();
  });
  if (!s.ok()) return ReportError(s);
  return 0;
}

int RunRebuild(const CatalogArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto loc = ParseBackupLocation(a.location);
  if (!loc.ok()) return ReportError(loc.status());
  app::Wiring wiring(std::move(config).value());
  auto backup = wiring.OpenBackend(loc->location, false);
  if (!backup.ok()) return ReportError(backup.status());
  if (Status s = (*backup)->Check(ctx.stop); !s.ok()) {
    return ReportError(s.WithContext("backup location"));
  }
  auto catalog = OpenCatalog(BackupStateUrl(a.state, *loc));
  if (!catalog.ok()) return ReportError(catalog.status());
  auto r = transport::RebuildCatalog(*catalog->store, **backup, loc->text, ctx.stop);
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
}

}  // namespace ferry::cli
