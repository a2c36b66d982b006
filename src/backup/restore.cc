// `ferry restore`: backed-up objects written back from their archives, reading only their
// frames (contract in restore.h).
#include "backup/restore.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "archive/backend_io.h"
#include "archive/reader.h"
#include "archive/stream.h"
#include "checksum/checksum.h"
#include "backup/backup.h"
#include "transport/unpack.h"
#include "transfer/content.h"
#include "transfer/executor.h"
#include "transport/unpack_pipeline.h"

namespace ferry::backup {
namespace {

// What to do with a target: write it (it is absent, or differs under --force), or not. "Same"
// is the same size and the catalog's CRC32C (computed by the backup from the bytes it packed: a
// fact) over the target's bytes read back. The target's ferry-crc32c is a claim
// (docs/design/integrity.md §8): equal to the catalog's, it only says the target is worth
// reading; different or absent, the target differs (kept and reported, never overwritten
// without --force).
enum class Target { kAbsent, kSame, kDiffers, kMarker };

// Chunks of the read that confirms a target (under the executor's byte budget).
constexpr uint64_t kRestoreConfirmChunk = 8ull << 20;

Result<Target> LookAtTarget(storage::Backend& dst, const CatalogEntry& row,
                            transfer::ByteBudget& budget, std::stop_token stop) {
  if (!dst.features().folder_markers && row.size == 0 &&
      (row.key.empty() || row.key.back() == '/')) {
    return Target::kMarker;  // a folder there: implied by the keys under it
  }
  auto info = dst.Stat(row.key, false, stop);
  if (!info.ok() && info.status().code() == ErrorCode::kNotFound) return Target::kAbsent;
  FERRY_RETURN_IF_ERROR(info.status().WithContext("restore target " + row.key));
  if (info->size != row.size || info->crc32c() != row.crc32c) return Target::kDiffers;
  FERRY_ASSIGN_OR_RETURN(transfer::ContentDigest read,
                         transfer::ReadDigest(dst, *info, budget, kRestoreConfirmChunk,
                                              /*with_md5=*/false, stop));
  return read.crc32c == row.crc32c ? Target::kSame : Target::kDiffers;
}

// LookAtTarget for every row (one Stat each: a round trip), as tasks of `executor`, in row
// order.
std::vector<Result<Target>> LookAtTargets(storage::Backend& dst,
                                          std::span<const CatalogEntry> rows,
                                          transfer::Executor& executor, std::stop_token stop) {
  std::vector<Result<Target>> out(rows.size(), Status::Internal("not looked at"));
  transfer::RunAll(executor, rows.size(), [&](size_t i) {
    out[i] = LookAtTarget(dst, rows[i], executor.budget(), stop);
  });
  return out;
}

// Entries of one archive whose frames are read together: contiguous (or shared) frames.
struct FrameRun {
  uint32_t first = 0;  // frames [first, end)
  uint32_t end = 0;
  std::vector<const archive::Entry*> entries;  // in stream order
};

// The wanted entries, in the order of their bytes in the archive, cut into runs of frames that
// touch: each run is one front-to-back read, the frames between runs are never read. An empty
// entry (no frames) is a run of its own that reads nothing.
std::vector<FrameRun> RunsOf(std::vector<const archive::Entry*> wanted) {
  std::sort(wanted.begin(), wanted.end(), [](const archive::Entry* a, const archive::Entry* b) {
    if (a->first_frame != b->first_frame) return a->first_frame < b->first_frame;
    return a->offset_in_frame < b->offset_in_frame;
  });
  std::vector<FrameRun> runs;
  for (const archive::Entry* e : wanted) {
    if (e->frame_count == 0) {
      runs.push_back(FrameRun{.first = 0, .end = 0, .entries = {e}});
      continue;
    }
    const uint32_t end = e->first_frame + e->frame_count;
    // Frames are never read twice: an entry starting inside or right after the last run of
    // frames joins it (a shared frame, or the next frame: one read instead of two).
    FrameRun* last = nullptr;
    for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
      if (it->end > it->first) {
        last = &*it;
        break;
      }
    }
    if (last != nullptr && e->first_frame <= last->end) {
      last->end = std::max(last->end, end);
      last->entries.push_back(e);
    } else {
      runs.push_back(FrameRun{.first = e->first_frame, .end = end, .entries = {e}});
    }
  }
  return runs;
}

// The manifest of one run: its frames (offsets unchanged) and its entries, renumbered.
archive::Manifest SubManifest(const archive::Manifest& m, const FrameRun& run) {
  archive::Manifest sub;
  sub.frames.assign(m.frames.begin() + run.first, m.frames.begin() + run.end);
  for (const archive::Entry* e : run.entries) {
    archive::Entry copy = *e;
    if (copy.frame_count > 0) copy.first_frame -= run.first;
    sub.entries.push_back(std::move(copy));
  }
  return sub;
}

class ArchiveRestore {
 public:
  ArchiveRestore(storage::Backend& backup, storage::Backend& dst, const RestoreOptions& options,
                 RestoreResult& result, std::stop_token stop)
      : backup_(backup), dst_(dst), options_(options), result_(result), stop_(std::move(stop)) {}

  // Whether the entry of `key` was written by this restore (its row given to the report).
  bool WasWritten(const std::string& key) {
    std::lock_guard lock(written_mu_);
    return written_keys_.contains(key);
  }

  // Writes `rows` (all of archive `key`) from that archive.
  Status Restore(const std::string& key, const std::vector<CatalogEntry>& rows) {
    auto info = backup_.Stat(key, false, stop_);
    if (!info.ok() && info.status().code() == ErrorCode::kNotFound) {
      return Status::NotFound("backup archive " + key + " is missing from the backup location");
    }
    FERRY_RETURN_IF_ERROR(info.status().WithContext("backup archive " + key));
    // A range corrupted on the way fails its frame's (or the manifest's) checksum: the archive
    // is read again, a few times, as sync reads a corrupted object again. What the first
    // attempt wrote is found identical then and left as it is.
    constexpr int kAttempts = 3;
    Status s;
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
      archive::BackendRangeSource source(backup_, key, info->size, stop_,
                                         archive::kReadAheadToOpen);
      catalog_mismatch_ = false;
      s = RestoreFrom(key, rows, source);
      result_.ranged_reads += source.requests();
      result_.bytes_read += source.bytes_requested();
      if (s.code() != ErrorCode::kDataLoss || catalog_mismatch_ || stop_.stop_requested()) break;
    }
    ++result_.archives_read;
    result_.archive_bytes += info->size;
    return s;
  }

 private:
  Status RestoreFrom(const std::string& key, const std::vector<CatalogEntry>& rows,
                     archive::RangeSource& source) {
    auto reader = archive::Reader::Open(source);
    if (!reader.ok()) return reader.status().WithContext("backup archive " + key);
    const archive::Manifest& m = (*reader)->manifest();
    std::vector<const archive::Entry*> wanted;
    for (const CatalogEntry& row : rows) {
      if (row.entry >= m.entries.size() || m.entries[row.entry].header.key != row.key ||
          m.entries[row.entry].crc32c != row.crc32c) {
        catalog_mismatch_ = true;  // not a corrupted read: reading again would not help
        return Status::DataLoss("the catalog does not match backup archive " + key + " (entry " +
                                std::to_string(row.entry) +
                                "): run `ferry catalog rebuild` on the backup location");
      }
      wanted.push_back(&m.entries[row.entry]);
    }
    std::map<std::string, const CatalogEntry*> row_of;  // the report's rows name the entry
    for (const CatalogEntry& row : rows) row_of.emplace(row.key, &row);
    transport::UnpackOptions o;
    o.storage_class = options_.storage_class;
    o.preserve_lock = options_.preserve_lock;
    o.part_size = options_.part_size;
    o.before_write = options_.before_write;
    o.on_written = [this, &row_of](const archive::Entry& e, const storage::WriteResult&) {
      EntryWritten(row_of, e.header.key);
      return Status::Ok();
    };
    for (const FrameRun& run : RunsOf(std::move(wanted))) {
      const archive::Manifest sub = SubManifest(m, run);
      archive::EntryStream stream(sub, source);
      // the stream's input buffer and decoder in the budget (overdrawn: never waited for; the
      // stall rule keeps workers waiting for it from leaving the restore's writes unrun)
      const uint64_t stream_bytes = archive::EntryStream::MemoryFor(sub);
      options_.executor->budget().Overdraw(stream_bytes);
      const transfer::BudgetLease stream_lease(options_.executor->budget(), stream_bytes);
      // Small entries are decoded and checked here and PUT by unpack's writer threads (at most
      // 256 entries and 64 MiB ahead); a large one is written here, part by part.
      o.executor = options_.executor;
      transport::EntryWriters writers(dst_, o, 0, stop_);
      Status s = WriteRun(stream, sub, o, writers, row_of);
      if (!s.ok()) writers.Fail(s);
      const Status finished = writers.Finish();
      result_.objects_written += writers.written;
      result_.bytes_written += writers.bytes_written;
      FERRY_RETURN_IF_ERROR(s);
      FERRY_RETURN_IF_ERROR(finished);
    }
    return Status::Ok();
  }

  Status WriteRun(archive::EntryStream& stream, const archive::Manifest& sub,
                  const transport::UnpackOptions& o, transport::EntryWriters& writers,
                  const std::map<std::string, const CatalogEntry*>& row_of) {
    NoJournal journal;
    for (size_t i = 0; i < sub.entries.size(); ++i) {
      if (stop_.stop_requested()) return Status::Cancelled("restore interrupted");
      const archive::Entry& e = sub.entries[i];
      if (e.header.size > options_.whole_limit && dst_.features().chunked_write) {
        // Its part buffers are in the process's budget while it is written (taken as a small
        // entry's bytes are; given back at the next WaitRoom or Finish).
        FERRY_RETURN_IF_ERROR(
            writers.WaitRoom(i, transport::LargeWrite::Held(o), journal, sub.entries.size()));
        FERRY_RETURN_IF_ERROR(
            transport::WriteLargeEntry(
                e, [&](archive::ByteSink& sink) { return stream.Read(i, sink); }, dst_, o, stop_)
                .WithContext(e.header.key));
        ++result_.objects_written;
        result_.bytes_written += e.header.size;
        EntryWritten(row_of, e.header.key);
        writers.Done(i);
        continue;
      }
      FERRY_RETURN_IF_ERROR(writers.WaitRoom(i, e.header.size, journal, sub.entries.size()));
      transport::EntryWriters::Task task;
      task.index = i;
      task.entry = &e;
      archive::StringSink bytes;
      bytes.bytes.reserve(e.header.size);
      FERRY_RETURN_IF_ERROR(stream.Read(i, bytes).WithContext(e.header.key));  // checked here
      task.bytes = std::move(bytes.bytes);
      writers.Push(std::move(task));
    }
    return Status::Ok();
  }

  // Records `key` written and gives its row to the report, once (an archive read again after a
  // corrupted range writes its entries again). From the writes' tasks.
  void EntryWritten(const std::map<std::string, const CatalogEntry*>& row_of,
                    const std::string& key) {
    {
      std::lock_guard lock(written_mu_);
      if (!written_keys_.insert(key).second) return;
    }
    auto it = row_of.find(key);
    if (options_.report != nullptr && it != row_of.end()) {
      options_.report->Add(restore_rows::Written(*it->second));
    }
  }

  // Restore resumes nothing: the writers' watermark is recorded nowhere.
  class NoJournal : public transport::UnpackJournal {
   public:
    Result<std::optional<uint64_t>> Load() override { return std::optional<uint64_t>(); }
    Status Record(uint64_t, uint64_t, bool) override { return Status::Ok(); }
  };

  storage::Backend& backup_;
  storage::Backend& dst_;
  const RestoreOptions& options_;
  RestoreResult& result_;
  std::stop_token stop_;
  bool catalog_mismatch_ = false;  // the last RestoreFrom found the catalog stale
  std::mutex written_mu_;
  std::set<std::string> written_keys_;  // GUARDED_BY(written_mu_): entries written
};

report::Row RestoreEntryRow(const CatalogEntry& e, report::Action action, report::Outcome outcome,
                     std::string_view checksum) {
  report::Row row;
  row.key = e.key;
  row.version_id = e.version_id;
  row.size = e.size;
  row.action = action;
  row.outcome = outcome;
  row.checksum = std::string(checksum);
  return row;
}

void AddRestoreRow(const RestoreOptions& options, report::Row row) {
  if (options.report != nullptr) options.report->Add(std::move(row));
}

}  // namespace

namespace restore_rows {
report::Row Written(const CatalogEntry& e) {
  return RestoreEntryRow(e, report::Action::kCopied, report::Outcome::kOk, report::checksum_used::kCrc32c);
}
report::Row Identical(const CatalogEntry& e) {
  return RestoreEntryRow(e, report::Action::kSkipped, report::Outcome::kSkipped,
                  report::checksum_used::kCrc32c);
}
report::Row Marker(const CatalogEntry& e) {
  return RestoreEntryRow(e, report::Action::kSkipped, report::Outcome::kSkipped,
                  report::checksum_used::kNone);
}
report::Row Kept(const CatalogEntry& e) {
  return Failed(e, Status::AlreadyExists("the target exists and differs (--force overwrites)"));
}
report::Row Failed(const CatalogEntry& e, const Status& status) {
  report::Row row = report::FailedRow(e.key, e.size, "restore", status);
  row.version_id = e.version_id;
  return row;
}
}  // namespace restore_rows

Result<RestoreResult> RestoreEntries(storage::Backend& backup,
                                     std::span<const CatalogEntry> entries, storage::Backend& dst,
                                     const RestoreOptions& options, std::stop_token stop) {
  if (options.executor == nullptr) return Status::InvalidArgument("RestoreEntries: no executor");
  RestoreResult result;
  const std::vector<Result<Target>> targets = LookAtTargets(dst, entries, *options.executor, stop);
  std::map<std::string, std::vector<CatalogEntry>> by_archive;
  for (size_t i = 0; i < entries.size(); ++i) {
    const CatalogEntry& row = entries[i];
    if (!targets[i].ok()) {  // this key alone: the others are restored
      result.failures.emplace_back(row.key, targets[i].status().message());
      AddRestoreRow(options, restore_rows::Failed(row, targets[i].status()));
      continue;
    }
    const Target t = *targets[i];
    if (t == Target::kMarker) {
      ++result.markers_skipped;
      AddRestoreRow(options, restore_rows::Marker(row));
      continue;
    }
    if (t == Target::kSame && !options.force) {
      ++result.identical;
      AddRestoreRow(options, restore_rows::Identical(row));
      continue;
    }
    if (t == Target::kSame) {
      // Its recorded checksum says nothing of the bytes it holds now (a target damaged in
      // place keeps its metadata): --force writes it again.
      ++result.overwritten;
    }
    if (t == Target::kDiffers) {
      if (!options.force) {
        ++result.kept;
        result.kept_keys.push_back(row.key);
        AddRestoreRow(options, restore_rows::Kept(row));
        continue;
      }
      ++result.overwritten;
    }
    by_archive[row.archive].push_back(row);
  }
  ArchiveRestore restore(backup, dst, options, result, stop);
  for (auto it = by_archive.begin(); it != by_archive.end(); ++it) {
    const Status s = restore.Restore(it->first, it->second);
    if (s.ok()) continue;
    if (options.report != nullptr) {  // what this restore did not write fails with it
      for (auto rest = it; rest != by_archive.end(); ++rest) {
        for (const CatalogEntry& row : rest->second) {
          if (!restore.WasWritten(row.key)) AddRestoreRow(options, restore_rows::Failed(row, s));
        }
      }
    }
    return s;
  }
  return result;
}

}  // namespace ferry::backup
