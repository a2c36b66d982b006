#include "transport/unpack.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>

#include "archive/backend_io.h"
#include "archive/reader.h"
#include "archive/stream.h"
#include "checksum/checksum.h"
#include "transport/unpack_pipeline.h"
#include "transport/unpack_source.h"

namespace ferry::transport {
namespace {

bool MeantFor(const archive::EntryHeader& h, const std::string& region) {
  if (region.empty() || h.destinations.empty()) return true;
  return std::find(h.destinations.begin(), h.destinations.end(), region) !=
             h.destinations.end() ||
         std::find(h.destinations.begin(), h.destinations.end(), "") != h.destinations.end();
}

}  // namespace

Status WriteLargeEntry(const archive::Entry& e, const EntryReader& read, storage::Backend& dst,
                       const UnpackOptions& options, std::stop_token stop,
                       storage::WriteResult* made) {
  FERRY_ASSIGN_OR_RETURN(auto write, LargeWrite::Start(e, read, dst, options, stop));
  return write->Finish(made);
}

Status PutEntry(const archive::Entry& e, std::span<const std::byte> bytes, storage::Backend& dst,
                const UnpackOptions& options, std::stop_token stop, storage::WriteResult* made) {
  const storage::WriteSpec spec = SpecOf(e, dst.features(), options);
  if (options.before_write) FERRY_RETURN_IF_ERROR(options.before_write());
  FERRY_ASSIGN_OR_RETURN(storage::WriteResult w, dst.Put(e.header.key, bytes, spec, stop));
  if (made != nullptr) *made = std::move(w);
  return Status::Ok();
}

Result<bool> UnpackJournal::Unpacked(uint64_t entries, const std::vector<std::string>& regions,
                                     const std::string& region) {
  const bool others = !region.empty() &&
                      std::any_of(regions.begin(), regions.end(),
                                  [&](const std::string& r) { return r != region; });
  if (others) FERRY_RETURN_IF_ERROR(Record(entries, entries, true));
  return !others;
}

Status UnpackJournal::Deleted(uint64_t entries) { return Record(entries, entries, true); }

Result<bool> StoreUnpackJournal::Unpacked(uint64_t entries, const std::vector<std::string>&,
                                          const std::string&) {
  ArchiveRow row = row_;
  row.written = entries;
  row.entries = entries;
  return store_.Unpacked(row);
}

Status StoreUnpackJournal::Deleted(uint64_t) {
  return store_.ArchiveDeleted(row_.staging, row_.archive);
}

std::vector<std::string> RegionsOf(const archive::Manifest& manifest) {
  std::set<std::string> regions;
  for (const archive::Entry& e : manifest.entries) {
    for (const std::string& r : e.header.destinations) {
      if (!r.empty()) regions.insert(r);
    }
  }
  return {regions.begin(), regions.end()};
}

Result<std::optional<uint64_t>> StoreUnpackJournal::Load() {
  FERRY_ASSIGN_OR_RETURN(auto row, store_.Get(row_.staging, row_.archive, row_.destination));
  if (!row || row->state == ArchiveState::kStaged) return std::optional<uint64_t>();
  if (row->state == ArchiveState::kDone) return std::optional<uint64_t>(row->entries);
  return std::optional<uint64_t>(row->written);
}

Result<bool> StoreUnpackJournal::Complete() {
  FERRY_ASSIGN_OR_RETURN(auto row, store_.Get(row_.staging, row_.archive, row_.destination));
  if (!row || row->state == ArchiveState::kStaged) return false;
  return row->state == ArchiveState::kDone || row->written >= row->entries;
}

Status StoreUnpackJournal::Record(uint64_t written, uint64_t entries, bool done) {
  ArchiveRow row = row_;
  row.written = written;
  row.entries = entries;
  row.state = done ? ArchiveState::kDone : ArchiveState::kUnpacking;
  return store_.Progress(row);
}

storage::ObjectLock LockToWrite(const storage::ObjectLock& recorded,
                                std::chrono::system_clock::time_point now) {
  storage::ObjectLock lock = recorded;
  if (lock.mode.empty() || lock.retain_until <= now) {
    lock.mode.clear();
    lock.retain_until = {};
  }
  return lock;
}

storage::WriteSpec SpecOf(const archive::Entry& e, const storage::Features& dst,
                          const UnpackOptions& options) {
  const std::string& storage_class_override = options.storage_class;
  const archive::EntryHeader& h = e.header;
  storage::WriteSpec spec;
  spec.size = h.size;
  spec.content = h.content;
  spec.metadata = h.metadata;
  spec.metadata[storage::kMetaCrc32c] = checksum::Hex32(e.crc32c);
  spec.metadata[storage::kMetaMtime] = std::to_string(h.mtime_ns);
  if (dst.tags) spec.tags = h.tags;
  spec.storage_class = storage_class_override.empty() ? h.storage_class : storage_class_override;
  if (!dst.storage_class) spec.storage_class.clear();
  spec.mtime = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(h.mtime_ns)));
  if (options.preserve_lock) spec.lock = LockToWrite(h.lock, std::chrono::system_clock::now());
  return spec;
}

namespace {

// An archive already gone when its unpack starts, with a watermark recorded: deleted by the
// attempt that crashed right after, only the record of it missing. But only when every entry was
// written before: an archive gone earlier (deleted by hand, by another unpacker, by a lifecycle
// rule) takes the entries past the watermark with it.
Status SettleGoneArchive(const std::string& key, uint64_t mark, UnpackJournal& journal,
                         const UnpackOptions& options) {
  FERRY_ASSIGN_OR_RETURN(bool complete, journal.Complete());
  if (!complete) {
    return Status::DataLoss("staged archive " + key + " is gone with entries not unpacked (" +
                            std::to_string(mark) + " written): its objects must be packed again");
  }
  // The last of the archive's unpackers may have crashed between its delete and the record
  // of it (Deleted): the journal is asked again, and when no other unpacker still needs the
  // archive, its delete is recorded now (with a shared store, every region's row done: the
  // others' rows would else stay `unpacked` for good). An unpacker found needing it still
  // fails when it looks (the archive is gone); this one's part is done.
  FERRY_ASSIGN_OR_RETURN(bool last, journal.Unpacked(mark, {}, options.region));
  return last ? journal.Deleted(mark) : journal.Record(mark, mark, true);
}

Status RefuseNamedRegions(const archive::Manifest& manifest, const std::string& key) {
  const std::vector<std::string> regions = RegionsOf(manifest);
  if (regions.empty()) return Status::Ok();
  std::string names;
  for (const std::string& r : regions) names += (names.empty() ? "" : ", ") + r;
  return Status::FailedPrecondition("staged archive " + key + " is meant for region(s) " + names +
                                    ": unpack it with --region");
}

// What the entry loop of one archive's unpack works with.
struct EntryPass {
  const std::vector<archive::Entry>& entries;
  archive::EntryStream& stream;
  EntryWriters& writers;
  storage::Backend& dst;
  UnpackJournal& journal;
  const UnpackOptions& options;
  uint64_t start = 0;      // the first entry not known written
  uint64_t check_end = 0;  // entries before it may have been written by a crashed attempt
  UnpackResult& result;
  std::stop_token stop;
};

// A large entry: decoded and checked on this thread into a chunked write whose parts upload
// meanwhile; a writer thread waits for the last ones and commits it while the next entries are
// read. One a crashed attempt wrote (looked at when `check`) is only counted.
Status PushLargeEntry(EntryPass& pass, uint64_t i, uint64_t held, bool check) {
  const archive::Entry& e = pass.entries[i];
  if (check) {
    Result<bool> there = EntryPresent(pass.dst, e, pass.options, pass.stop);
    if (!there.ok()) return there.status().WithContext(e.header.key);
    if (*there) {
      ++pass.writers.already_present;
      ++pass.result.checksums_verified;
      pass.writers.Done(i);
      return Status::Ok();
    }
  }
  auto write = LargeWrite::Start(
      e, [&](archive::ByteSink& sink) { return pass.stream.Read(i, sink); }, pass.dst,
      pass.options, pass.stop);
  if (!write.ok()) return write.status().WithContext(e.header.key);
  ++pass.result.checksums_verified;
  pass.writers.Push(EntryWriters::Task{.index = i, .entry = &e, .bytes = {}, .check = false,
                                       .large = std::move(write).value(), .held = held});
  return Status::Ok();
}

// Every entry from `start`, in order: each decoded once and handed to the writers (entries of
// other regions only marked done). The first error stops the loop.
Status PushEntries(EntryPass& pass) {
  const UnpackOptions& options = pass.options;
  const uint64_t n = pass.entries.size();
  for (uint64_t i = pass.start; i < n; ++i) {
    const archive::Entry& e = pass.entries[i];
    if (!MeantFor(e.header, options.region)) {
      ++pass.result.other_regions;
      pass.writers.Done(i);
      continue;
    }
    const bool large = e.header.size > options.whole_limit && pass.dst.features().chunked_write;
    if (options.ordered_keys && i > pass.start && pass.entries[i - 1].header.key == e.header.key) {
      FERRY_RETURN_IF_ERROR(pass.writers.Finish());  // the key's earlier versions first
    }
    // A large entry's tail (its last parts and commit, on a writer thread) holds part buffers.
    const uint64_t held =
        large ? std::min(LargeWrite::Held(options), e.header.size) : e.header.size;
    FERRY_RETURN_IF_ERROR(pass.writers.WaitRoom(i, held, pass.journal, n));
    const bool check = i < pass.check_end;
    if (large) {
      FERRY_RETURN_IF_ERROR(PushLargeEntry(pass, i, held, check));
      continue;
    }
    archive::StringSink bytes;
    bytes.bytes.reserve(e.header.size);
    FERRY_RETURN_IF_ERROR(pass.stream.Read(i, bytes).WithContext(e.header.key));
    ++pass.result.checksums_verified;
    pass.writers.Push(EntryWriters::Task{.index = i, .entry = &e, .bytes = std::move(bytes.bytes),
                                         .check = check, .large = nullptr, .held = 0});
  }
  return Status::Ok();
}

// Every entry written: recorded before the delete, so that a crash in between finds the archive
// either still there (and every entry written: all recognised) or gone with the watermark at the
// end. An archive that holds entries of other regions is theirs too: the last unpacker deletes
// it (the journal knows who is last).
Status FinishArchive(storage::Backend& staging, const std::string& key,
                     const archive::Manifest& manifest, UnpackJournal& journal,
                     const UnpackOptions& options, UnpackResult& result, std::stop_token stop) {
  const uint64_t n = result.entries;
  FERRY_RETURN_IF_ERROR(journal.Record(n, n, false));
  if (options.keep_archive) return journal.Record(n, n, true);
  FERRY_ASSIGN_OR_RETURN(bool last, journal.Unpacked(n, RegionsOf(manifest), options.region));
  if (last) {
    FERRY_RETURN_IF_ERROR(staging.Delete(key, stop));
    FERRY_RETURN_IF_ERROR(journal.Deleted(n));
  }
  result.archive_deleted = last;
  return Status::Ok();
}

}  // namespace

Result<UnpackResult> UnpackArchive(storage::Backend& staging, const std::string& key,
                                   storage::Backend& dst, UnpackJournal& journal,
                                   const UnpackOptions& options, std::stop_token stop) {
  if (options.executor == nullptr) return Status::InvalidArgument("UnpackArchive: no executor");
  UnpackResult result;
  FERRY_ASSIGN_OR_RETURN(std::optional<uint64_t> mark, journal.Load());
  auto info = staging.Stat(key, false, stop);
  if (!info.ok() && info.status().code() == ErrorCode::kNotFound && mark.has_value()) {
    FERRY_RETURN_IF_ERROR(SettleGoneArchive(key, *mark, journal, options));
    result.archive_missing = true;
    return result;
  }
  FERRY_RETURN_IF_ERROR(info.status().WithContext("staged archive " + key));
  archive::BackendRangeSource source(staging, key, info->size, stop);
  auto reader = archive::Reader::Open(source);
  if (!reader.ok()) return reader.status().WithContext("staged archive " + key);
  const archive::Manifest& manifest = (*reader)->manifest();
  if (options.refuse_named_regions) FERRY_RETURN_IF_ERROR(RefuseNamedRegions(manifest, key));
  const auto& entries = (*reader)->entries();
  const uint64_t n = entries.size();
  result.entries = n;
  result.archive_bytes = info->size;
  if (!mark.has_value()) {
    // Started: from now on an attempt may have written entries the journal does not show.
    FERRY_RETURN_IF_ERROR(journal.Record(0, n, false));
  }
  const uint64_t start = std::min<uint64_t>(mark.value_or(0), n);
  // Every frame read once and decoded once, in order (entries of other regions dropped), the
  // next range of frames downloaded while the entries of this one are written.
  const auto& frames = manifest.frames;
  const uint64_t data_end = frames.empty() ? 0 : frames.back().offset + frames.back().stored_size;
  ReadAheadSource ahead(source, data_end, *options.executor);
  archive::EntryStream stream(manifest, ahead);
  // The stream's own input buffer and decoder are in the budget too: overdrawn (an unpack never
  // waits for its own memory), so that other users of the budget wait while unpacks hold it.
  // Held for the whole unpack while its writes are tasks of the executor: workers that wait for
  // this budget never leave those writes unrun (the stall rule, transfer/executor.h).
  const uint64_t stream_bytes = archive::EntryStream::MemoryFor(manifest);
  result.stream_bytes = stream_bytes;
  options.executor->budget().Overdraw(stream_bytes);
  const transfer::BudgetLease stream_lease(options.executor->budget(), stream_bytes);
  EntryWriters writers(dst, options, start, stop);
  // Entries within the window past the watermark may have been written by a crashed attempt
  // (and only those: no attempt starts an entry beyond it): each is looked at first.
  EntryPass pass{.entries = entries, .stream = stream, .writers = writers, .dst = dst,
                 .journal = journal, .options = options, .start = start,
                 .check_end = mark.has_value() ? start + options.window : 0, .result = result,
                 .stop = stop};
  const Status failed = PushEntries(pass);
  if (!failed.ok()) writers.Fail(failed);
  Status finished = writers.Finish();
  writers.Stop();
  result.written = writers.written;
  result.bytes_written = writers.bytes_written;
  result.already_present = writers.already_present;
  if (!finished.ok()) return finished;
  FERRY_RETURN_IF_ERROR(FinishArchive(staging, key, manifest, journal, options, result, stop));
  return result;
}

}  // namespace ferry::transport
