// ferry archive pack|ls|cat: make and open ferry archives (src/archive, docs/design/archive.md).
//   ferry archive pack SRC ARCHIVE [--level N] [--threads N]   every object under SRC, with its
//       metadata, into one archive (a local file, or an object NAME:bucket/key / s3://b/key)
//   ferry archive ls ARCHIVE [--json]   one line per entry: size, stored size, frames, key
//   ferry archive cat ARCHIVE KEY [--version V]   one entry's bytes to stdout, checked
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/wiring.h"
#include "archive/backend_io.h"
#include "archive/reader.h"
#include "archive/writer.h"
#include "app/engine.h"
#include "cli/commands.h"
#include "cli/engine_options.h"
#include "obs/log.h"
#include "transport/pack.h"

namespace ferry::cli {
namespace {

// Objects up to this size are read whole with their details in one request.
constexpr uint64_t kWholeReadLimit = 1ull << 20;

// Where an archive lives: a local file, or one object of an S3 location.
struct ArchivePlace {
  bool remote = false;
  std::string path;      // local file
  app::Location parent;  // remote: the location holding the object
  std::string key;       // remote: the object's key under `parent`
};

Result<ArchivePlace> ParseArchivePlace(const std::string& text) {
  FERRY_ASSIGN_OR_RETURN(app::Location loc, app::ParseLocation(text));
  ArchivePlace place;
  if (!loc.is_s3()) {
    place.path = loc.path;
    if (place.path.empty() || place.path.back() == '/') {
      return Status::InvalidArgument("archive " + text + ": name a file, not a folder");
    }
    return place;
  }
  std::string full = loc.prefix;
  if (!full.empty() && full.back() == '/') full.pop_back();
  if (full.empty()) {
    return Status::InvalidArgument("archive " + text + ": name an object (bucket/key)");
  }
  const size_t slash = full.rfind('/');
  place.remote = true;
  place.key = slash == std::string::npos ? full : full.substr(slash + 1);
  place.parent = loc;
  place.parent.prefix = slash == std::string::npos ? "" : full.substr(0, slash + 1);
  return place;
}

std::string Escaped(std::string_view key) {  // keys on one line: control bytes as \xNN
  std::string out;
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// An opened archive and what keeps it readable.
struct OpenArchive {
  std::unique_ptr<app::Wiring> wiring;
  std::unique_ptr<storage::Backend> backend;
  std::unique_ptr<archive::RangeSource> source;
  std::unique_ptr<archive::Reader> reader;
};

Result<OpenArchive> Open(const std::string& text, Context& ctx) {
  FERRY_ASSIGN_OR_RETURN(ArchivePlace place, ParseArchivePlace(text));
  OpenArchive a;
  if (place.remote) {
    FERRY_ASSIGN_OR_RETURN(app::Config config, app::LoadConfig(ctx.global.config_path));
    a.wiring = std::make_unique<app::Wiring>(std::move(config));
    FERRY_ASSIGN_OR_RETURN(a.backend, a.wiring->OpenBackend(place.parent, false));
    FERRY_ASSIGN_OR_RETURN(storage::ObjectInfo info, a.backend->Stat(place.key, false, ctx.stop));
    a.source = std::make_unique<archive::BackendRangeSource>(*a.backend, place.key, info.size,
                                                             ctx.stop, archive::kReadAheadToOpen);
  } else {
    FERRY_ASSIGN_OR_RETURN(a.source, archive::FileRangeSource::Open(place.path));
  }
  auto reader = archive::Reader::Open(*a.source);
  if (!reader.ok()) return reader.status().WithContext(text);
  a.reader = std::move(reader).value();
  return a;
}

// ---- pack ----

struct PackArgs {
  std::string source;
  std::string archive;
  int level = 3;
  int threads = 0;
  bool no_fsync = false;
  EngineArgs engine;  // --concurrency, --memory
};

// Listed a batch at a time and packed by the one pack pipeline (transport::Packer), the next
// batch listed while one is packed. The small objects of a batch are read ahead of the writer
// as tasks of the command's executor (at most kReadWindow of them and kReadWindowBytes held),
// so that reading many small files or objects overlaps their compression. The window is
// counted in bytes too: a zstd job takes 1 MiB of input, and 32 files of a few KiB held the
// writer to a fraction of one; a larger window (4-8 MiB) only touched more memory (more page
// faults, more CPU) packing /usr/share/doc. Large objects of a bucket are read in ranged GETs
// ahead of the writer (4 in flight, 4 of 4 MiB held); a folder's large files on the writer's
// thread (pack.h).
constexpr size_t kPackBatch = 4096;
constexpr size_t kFirstPackBatch = 256;
constexpr size_t kReadWindow = 1024;
constexpr uint64_t kReadWindowBytes = 2ull << 20;

// The seconds PackAll's thread spent listing (beside the pack's own waits).
struct PackWaits {
  double listing = 0;
};

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One batch of the listing: up to `limit` objects after the previous batch.
struct ListedBatch {
  Status status;
  std::vector<storage::ObjectInfo> objects;
  bool last = false;  // the listing ended in this batch
  double seconds = 0;
};

ListedBatch ListBatch(storage::ListingCursor& cursor, const std::string& skip_key, size_t limit,
                      std::stop_token stop) {
  ListedBatch b;
  const auto start = std::chrono::steady_clock::now();
  while (b.objects.size() < limit) {
    if (stop.stop_requested()) {
      b.status = Status::Cancelled("interrupted");
      break;
    }
    auto next = cursor.Next();
    if (!next.ok()) {
      b.status = next.status();
      break;
    }
    const storage::ObjectInfo* listed = *next;
    if (listed == nullptr) {
      b.last = true;
      break;
    }
    if (!skip_key.empty() && listed->key == skip_key) continue;
    if (listed->not_followed) {  // a symbolic link to a folder: not entered, not packed
      obs::Log(obs::Level::kWarn, "symbolic link to a folder not followed: not packed",
               {{"key", listed->key}});
      continue;
    }
    if (!listed->unreadable.empty()) {
      b.status = Status::Unavailable(listed->key + ": " + listed->unreadable);
      break;
    }
    b.objects.push_back(*listed);
  }
  b.seconds = SecondsSince(start);
  return b;
}

// Every object of `src` into `packer`, batch by batch. `skip_key`: the archive itself, when it
// is written inside the folder being packed.
Status PackAll(storage::Backend& src, transport::Packer& packer, const std::string& skip_key,
               std::stop_token stop, PackWaits& waits) {
  FERRY_ASSIGN_OR_RETURN(auto cursor, src.List(""));
  // The next batch is listed on a thread of its own while this one is packed: walking a
  // folder of small files (a stat per file) took an eighth of packing /usr/share/doc when it
  // ran between batches. The first batches are small, so that packing starts early.
  size_t limit = kFirstPackBatch;
  ListedBatch next = ListBatch(*cursor, skip_key, limit, stop);
  waits.listing += next.seconds;
  for (;;) {
    FERRY_RETURN_IF_ERROR(next.status);
    const std::vector<storage::ObjectInfo> batch = std::move(next.objects);
    const bool last = next.last;
    limit = std::min(limit * 2, kPackBatch);
    std::future<ListedBatch> listing;
    if (!last) {
      listing = std::async(std::launch::async, [&cursor, &skip_key, limit, stop] {
        return ListBatch(*cursor, skip_key, limit, stop);
      });
    }
    // Joins the listing before returning (a std::async future's destructor waits for it).
    FERRY_RETURN_IF_ERROR(packer.Add(batch));
    if (last) return Status::Ok();
    const auto waiting = std::chrono::steady_clock::now();
    next = listing.get();
    waits.listing += SecondsSince(waiting);
  }
}

// The command's executor: its reads and uploads are its tasks (it outlives the sink). Local
// files: two readers keep up with two zstd workers; objects: one GET per round trip; an archive
// written to a bucket: 4 at least, for its parts' uploads.
int PackReads(const app::Location& src) { return src.is_s3() ? 16 : 2; }
app::EngineSettings PackEngine(const PackArgs& a, int reads, bool remote_archive) {
  return WithEngineArgs(
      app::EngineSettings{.profile = app::EngineProfile::kRequests,
                          .default_concurrency = remote_archive ? std::max(reads, 4) : reads},
      a.engine);
}

// Where the archive's bytes go: a local file or a multipart upload to a bucket.
struct PackSink {
  std::unique_ptr<storage::Backend> dst;
  std::unique_ptr<archive::FileSink> file;
  std::unique_ptr<archive::BackendSink> object;
  archive::ByteSink* sink = nullptr;

  Status Close() { return object ? object->Close() : file->Close(); }
};

Result<PackSink> OpenPackSink(const PackArgs& a, const ArchivePlace& place, app::Wiring& wiring,
                              transfer::Executor& executor, std::stop_token stop) {
  PackSink out;
  if (place.remote) {
    FERRY_ASSIGN_OR_RETURN(out.dst, wiring.OpenBackend(place.parent, false));
    FERRY_RETURN_IF_ERROR(out.dst->Check(stop));
    FERRY_ASSIGN_OR_RETURN(out.object,
                           archive::BackendSink::Open(*out.dst, place.key,
                                                      archive::ArchivePartSize(0), executor, stop));
    out.sink = out.object.get();
  } else {
    FERRY_ASSIGN_OR_RETURN(out.file, archive::FileSink::Open(place.path, !a.no_fsync));
    out.sink = out.file.get();
  }
  return out;
}

// The archive's key under the source, when it is written inside the local folder being packed
// (not packed into itself); "" otherwise.
std::string ArchiveKeyInSource(const app::Location& src, const ArchivePlace& place) {
  if (src.is_s3() || place.remote) return "";
  std::error_code ec;
  const auto root = std::filesystem::weakly_canonical(src.path, ec);
  const auto file = std::filesystem::weakly_canonical(place.path, ec);
  const auto rel = file.lexically_relative(root);
  if (!ec && !rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return "";
}

void PrintPacked(const transport::PackResult& packed, const PackWaits& waits, double secs) {
  const archive::WriteSummary* summary = &packed.summary;
  const double ratio =
      summary->archive_bytes == 0
          ? 0
          : static_cast<double>(summary->raw_bytes) / static_cast<double>(summary->archive_bytes);
  std::fprintf(stderr,
               "packed %llu objects, %llu bytes into %llu bytes (ratio %.3f, %llu frames, %llu "
               "stored raw) in %.2fs\n",
               static_cast<unsigned long long>(summary->entries),
               static_cast<unsigned long long>(summary->raw_bytes),
               static_cast<unsigned long long>(summary->archive_bytes), ratio,
               static_cast<unsigned long long>(summary->frames),
               static_cast<unsigned long long>(summary->stored_entries), secs);
  if (packed.vanished > 0) {
    std::fprintf(stderr, "%llu objects were gone from the source when read: not packed\n",
                 static_cast<unsigned long long>(packed.vanished));
  }
  // Where the writer's thread spent that time (docs/design/archive.md, "Where pack waits"):
  // for whoever tunes the pipeline (--log-level debug; bench/bench-codec.sh), not every user.
  const auto ms = [](double seconds) { return std::round(seconds * 1000) / 1000; };
  obs::Log(obs::Level::kDebug, "writer thread stages",
           {{"listing_s", ms(waits.listing)},
            {"waiting_for_reads_s", ms(packed.read_wait_seconds)},
            {"reading_s", ms(summary->read_seconds)},
            {"feeding_zstd_s", ms(summary->feed_seconds)},
            {"waiting_at_frame_ends_s", ms(summary->frame_end_seconds)},
            {"writing_s", ms(summary->sink_seconds)},
            {"waiting_for_the_sink_s", ms(packed.sink_wait_seconds + packed.drain_seconds)}});
}

int RunPack(const PackArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto loc = app::ParseLocation(a.source);
  if (!loc.ok()) return ReportError(loc.status());
  auto place = ParseArchivePlace(a.archive);
  if (!place.ok()) return ReportError(place.status());
  const int reads = PackReads(*loc);
  auto engine = app::Engine::Open(PackEngine(a, reads, place->remote), *config);
  if (!engine.ok()) return ReportError(engine.status());
  transfer::Executor& executor = (*engine)->executor();
  app::Wiring wiring(std::move(config).value());
  auto src = wiring.OpenBackend(*loc, false);
  if (!src.ok()) return ReportError(src.status());
  if (Status s = (*src)->Check(ctx.stop); !s.ok()) return ReportError(s);
  auto sink = OpenPackSink(a, *place, wiring, executor, ctx.stop);
  if (!sink.ok()) return ReportError(sink.status());
  const auto start = std::chrono::steady_clock::now();
  transport::PackOptions p;
  p.writer.level = a.level;
  p.writer.threads = a.threads;
  p.executor = &executor;
  p.whole_read_limit = kWholeReadLimit;
  // never more reads at once than the executor has workers (--concurrency below the default)
  p.reads = static_cast<size_t>(std::min(reads, (*engine)->requests()));
  p.read_window = kReadWindow;
  p.read_window_bytes = kReadWindowBytes;
  // Every detail of the object as read, ferry's own metadata included: the archive is the
  // user's copy of the tree, not a transport's.
  p.header_of = [](size_t, const storage::ObjectInfo& object) {
    return archive::HeaderOf(object);
  };
  auto packer = transport::Packer::Open(**src, *sink->sink, p, ctx.stop);
  if (!packer.ok()) return ReportError(packer.status());
  PackWaits waits;
  if (Status s = PackAll(**src, **packer, ArchiveKeyInSource(*loc, *place), ctx.stop, waits);
      !s.ok()) {
    return ReportError(s);
  }
  auto packed = (*packer)->Finish();
  if (!packed.ok()) return ReportError(packed.status());
  if (Status s = sink->Close(); !s.ok()) return ReportError(s);
  PrintPacked(*packed, waits, SecondsSince(start));
  return 0;
}

// ---- ls ----

struct LsArgs {
  std::string archive;
  bool json = false;
};

int RunLs(const LsArgs& a, Context& ctx) {
  auto opened = Open(a.archive, ctx);
  if (!opened.ok()) return ReportError(opened.status());
  const archive::Reader& r = *opened->reader;
  for (const archive::Entry& e : r.entries()) {
    const archive::EntryHeader& h = e.header;
    if (a.json) {
      nlohmann::json j = {{"key", h.key},
                          {"size", h.size},
                          {"stored_size", r.StoredSize(e)},
                          {"frames", e.frame_count},
                          {"stored_raw", e.stored},
                          {"crc32c", e.crc32c},
                          {"version_id", h.version_id},
                          {"etag", h.etag},
                          {"mtime_ns", h.mtime_ns},
                          {"storage_class", h.storage_class},
                          {"content_type", h.content.content_type},
                          {"content_encoding", h.content.content_encoding},
                          {"content_language", h.content.content_language},
                          {"content_disposition", h.content.content_disposition},
                          {"cache_control", h.content.cache_control},
                          {"expires", h.content.expires},
                          {"metadata", h.metadata},
                          {"destinations", h.destinations}};
      if (h.lock.any()) {  // format 2: the source's retention and legal hold
        j["object_lock"] = {
            {"mode", h.lock.mode},
            {"retain_until_ns", std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    h.lock.retain_until.time_since_epoch())
                                    .count()},
            {"legal_hold", h.lock.legal_hold}};
      }
      if (h.tags.has_value()) {
        j["tags"] = nlohmann::json::array();
        for (const auto& [k, v] : *h.tags) j["tags"].push_back({k, v});
      }
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::printf("%12llu %12llu %4u %s\n", static_cast<unsigned long long>(h.size),
                  static_cast<unsigned long long>(r.StoredSize(e)), e.frame_count,
                  Escaped(h.key).c_str());
    }
  }
  return 0;
}

// ---- cat ----

struct CatArgs {
  std::string archive;
  std::string key;
  std::string version;
};

class StdoutSink : public archive::ByteSink {
 public:
  Status Write(std::span<const std::byte> data) override {
    if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
      return Status::Unavailable("cannot write to stdout");
    }
    return Status::Ok();
  }
};

int RunCat(const CatArgs& a, Context& ctx) {
  auto opened = Open(a.archive, ctx);
  if (!opened.ok()) return ReportError(opened.status());
  const archive::Entry* e = opened->reader->Find(a.key, a.version);
  if (e == nullptr) {
    return ReportError(Status::NotFound(a.archive + ": no entry " + Escaped(a.key) +
                                        (a.version.empty() ? "" : " version " + a.version)));
  }
  StdoutSink out;
  Status s = opened->reader->ReadEntry(*e, out);
  if (std::fflush(stdout) != 0 && s.ok()) s = Status::Unavailable("cannot write to stdout");
  if (!s.ok()) return ReportError(s.WithContext(a.archive));
  return 0;
}

}  // namespace

void RegisterArchive(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("archive", "make and read ferry archives (.fza)");
  cmd->require_subcommand(1);

  auto pack = std::make_shared<PackArgs>();
  CLI::App* p = cmd->add_subcommand("pack", "pack every object under a location into an archive");
  p->add_option("SRC", pack->source, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  p->add_option("ARCHIVE", pack->archive, "a local file, or NAME:bucket/key, s3://bucket/key")
      ->required();
  p->add_option("--level", pack->level, "zstd level, 1..22 (default 3)");
  p->add_option("--threads", pack->threads, "zstd worker threads (default: one per CPU)");
  p->add_flag("--no-fsync", pack->no_fsync,
              "do not flush a local archive file to disk before reporting success");
  AddEngineOptions(p, pack->engine, app::EngineSettings{},
                   "16 for a bucket, 2 for a folder, 4 at least when ARCHIVE is an object");
  p->callback([pack, &ctx] { ctx.exit_code = RunPack(*pack, ctx); });

  auto ls = std::make_shared<LsArgs>();
  CLI::App* l =
      cmd->add_subcommand("ls", "list an archive's entries: size, stored size, frames, key");
  l->add_option("ARCHIVE", ls->archive, "a local file, or NAME:bucket/key, s3://bucket/key")
      ->required();
  l->add_flag("--json", ls->json, "one JSON object per entry, with all its metadata");
  l->callback([ls, &ctx] { ctx.exit_code = RunLs(*ls, ctx); });

  auto cat = std::make_shared<CatArgs>();
  CLI::App* c = cmd->add_subcommand("cat", "write one entry's bytes to stdout (checked)");
  c->add_option("ARCHIVE", cat->archive, "a local file, or NAME:bucket/key, s3://bucket/key")
      ->required();
  c->add_option("KEY", cat->key, "the entry's key")->required();
  c->add_option("--version", cat->version, "the entry's version id (when the key repeats)");
  c->callback([cat, &ctx] { ctx.exit_code = RunCat(*cat, ctx); });
}

}  // namespace ferry::cli
