#include "transport/unpack.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "archive/backend_io.h"
#include "archive/reader.h"
#include "archive/stream.h"
#include "checksum/checksum.h"
#include "transport/unpack_source.h"

namespace ferry::transport {
namespace {

// An entry's bytes as a chunked write of the destination object: parts of `part_size`, the
// object committed by the caller only after the Reader's checks passed.
class ChunkSink : public archive::ByteSink {
 public:
  ChunkSink(storage::ChunkWriter& writer, uint64_t part_size, std::stop_token stop)
      : writer_(writer), part_size_(part_size), stop_(std::move(stop)) {}
  Status Write(std::span<const std::byte> data) override {
    while (!data.empty()) {
      const size_t take =
          static_cast<size_t>(std::min<uint64_t>(data.size(), part_size_ - part_.size()));
      part_.insert(part_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
      data = data.subspan(take);
      if (part_.size() == part_size_) FERRY_RETURN_IF_ERROR(Flush());
    }
    return Status::Ok();
  }
  Status Finish() {
    if (!part_.empty() || part_number_ == 0) return Flush();
    return Status::Ok();
  }

 private:
  Status Flush() {
    FERRY_RETURN_IF_ERROR(writer_.WriteChunk(++part_number_, offset_, part_, stop_));
    offset_ += part_.size();
    part_.clear();
    return Status::Ok();
  }
  storage::ChunkWriter& writer_;
  uint64_t part_size_;
  std::stop_token stop_;
  std::vector<std::byte> part_;
  int part_number_ = 0;
  uint64_t offset_ = 0;
};

bool MeantFor(const archive::EntryHeader& h, const std::string& region) {
  if (region.empty() || h.destinations.empty()) return true;
  return std::find(h.destinations.begin(), h.destinations.end(), region) !=
             h.destinations.end() ||
         std::find(h.destinations.begin(), h.destinations.end(), "") != h.destinations.end();
}

// Whether the destination holds the entry already (written by an interrupted unpack).
Result<bool> AlreadyThere(storage::Backend& dst, const archive::Entry& e, std::stop_token stop) {
  auto info = dst.Stat(e.header.key, false, stop);
  if (!info.ok() && info.status().code() == ErrorCode::kNotFound) return false;
  FERRY_RETURN_IF_ERROR(info.status());
  return info->size == e.header.size && info->crc32c() == e.crc32c;
}

Result<bool> Present(storage::Backend& dst, const archive::Entry& e, const UnpackOptions& o,
                     std::stop_token stop) {
  if (o.present) return o.present(e);
  return AlreadyThere(dst, e, stop);
}

}  // namespace

Status WriteLargeEntry(const archive::Entry& e, const EntryReader& read, storage::Backend& dst,
                       const UnpackOptions& options, std::stop_token stop,
                       storage::WriteResult* made) {
  const storage::WriteSpec spec = SpecOf(e, dst.features(), options.storage_class);
  FERRY_ASSIGN_OR_RETURN(auto writer,
                         dst.OpenChunkWriter(e.header.key, spec, options.part_size, stop));
  ChunkSink sink(*writer, options.part_size, stop);
  Status s = read(sink);
  if (s.ok()) s = sink.Finish();
  if (s.ok()) {
    Result<storage::WriteResult> committed = writer->Commit(stop);
    s = committed.status();
    if (committed.ok() && made != nullptr) *made = *committed;
  }
  if (!s.ok()) (void)writer->Abort();
  return s;
}

Status PutEntry(const archive::Entry& e, std::span<const std::byte> bytes, storage::Backend& dst,
                const UnpackOptions& options, std::stop_token stop, storage::WriteResult* made) {
  const storage::WriteSpec spec = SpecOf(e, dst.features(), options.storage_class);
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

Status StoreUnpackJournal::Record(uint64_t written, uint64_t entries, bool done) {
  ArchiveRow row = row_;
  row.written = written;
  row.entries = entries;
  row.state = done ? ArchiveState::kDone : ArchiveState::kUnpacking;
  return store_.Progress(row);
}

storage::WriteSpec SpecOf(const archive::Entry& e, const storage::Features& dst,
                          const std::string& storage_class_override) {
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
  return spec;
}

namespace {

// The writes of one unpack: small entries, decoded and checked by the caller's thread, are
// written by `threads` writer threads; the watermark is the first entry not known written.
class Writers {
 public:
  struct Task {
    uint64_t index = 0;
    const archive::Entry* entry = nullptr;
    std::string bytes;
    bool check = false;  // may have been written by the crashed attempt: look first
  };

  Writers(storage::Backend& dst, const UnpackOptions& options, uint64_t start,
          std::stop_token stop)
      : dst_(dst), options_(options), watermark_(start), stop_(std::move(stop)) {
    for (int i = 0; i < std::max(1, options.threads); ++i) {
      threads_.emplace_back([this] { Loop(); });
    }
  }
  ~Writers() { Stop(); }

  // Waits until entry `index` of `size` bytes may start: within the window past the recorded
  // watermark and the byte budget, recording the watermark whenever it moved on meanwhile.
  Status WaitRoom(uint64_t index, uint64_t size, UnpackJournal& journal, uint64_t entries) {
    std::unique_lock lock(mu_);
    for (;;) {
      if (!error_.ok()) return error_;
      if (stop_.stop_requested()) return Status::Cancelled("unpack cancelled");
      if (watermark_ >= recorded_ + options_.checkpoint_every ||
          (index >= recorded_ + options_.window && watermark_ > recorded_)) {
        const uint64_t mark = watermark_;
        lock.unlock();
        FERRY_RETURN_IF_ERROR(journal.Record(mark, entries, false));
        lock.lock();
        recorded_ = std::max(recorded_, mark);
        continue;
      }
      const bool in_window = index < recorded_ + options_.window;
      const bool bytes_ok = queued_bytes_ == 0 || queued_bytes_ + size <= options_.max_bytes;
      if (in_window && bytes_ok) return Status::Ok();
      cv_.wait(lock);
    }
  }

  void Push(Task task) {
    std::lock_guard lock(mu_);
    queued_bytes_ += task.bytes.size();
    queue_.push_back(std::move(task));
    cv_.notify_all();
  }

  void Done(uint64_t index) {
    std::lock_guard lock(mu_);
    done_.insert(index);
    while (!done_.empty() && *done_.begin() == watermark_) {
      done_.erase(done_.begin());
      ++watermark_;
    }
    cv_.notify_all();
  }

  void Fail(Status s) {
    std::lock_guard lock(mu_);
    if (error_.ok()) error_ = std::move(s);
    cv_.notify_all();
  }

  // Waits until no write is queued or running (ordered keys: before a key's next entry).
  Status Drain() { return Finish(); }

  // Waits for every queued write; returns the first failure.
  Status Finish() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return (queue_.empty() && busy_ == 0) || !error_.ok(); });
    return error_;
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    threads_.clear();  // joins
  }

  std::atomic<uint64_t> written{0}, bytes_written{0}, already_present{0};

 private:
  void Loop() {
    for (;;) {
      Task t;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        t = std::move(queue_.front());
        queue_.pop_front();
        ++busy_;
      }
      Status s = Write(t);
      {
        std::lock_guard lock(mu_);
        --busy_;
        queued_bytes_ -= t.bytes.size();
      }
      if (!s.ok()) {
        Fail(s.WithContext(t.entry->header.key));
      } else {
        Done(t.index);
      }
    }
  }

  Status Write(const Task& t) {
    if (t.check) {
      FERRY_ASSIGN_OR_RETURN(bool there, Present(dst_, *t.entry, options_, stop_));
      if (there) {
        ++already_present;
        return Status::Ok();
      }
    }
    storage::WriteResult made;
    FERRY_RETURN_IF_ERROR(
        PutEntry(*t.entry, checksum::AsBytes(t.bytes), dst_, options_, stop_, &made));
    if (options_.on_written) FERRY_RETURN_IF_ERROR(options_.on_written(*t.entry, made));
    ++written;
    bytes_written += t.bytes.size();
    return Status::Ok();
  }

  storage::Backend& dst_;
  const UnpackOptions& options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;       // GUARDED_BY(mu_)
  uint64_t queued_bytes_ = 0;    // GUARDED_BY(mu_): of tasks queued or being written
  int busy_ = 0;                 // GUARDED_BY(mu_)
  std::set<uint64_t> done_;      // GUARDED_BY(mu_): written entries above the watermark
  uint64_t watermark_;           // GUARDED_BY(mu_)
  uint64_t recorded_ = 0;        // GUARDED_BY(mu_): the watermark the journal holds
  Status error_;                 // GUARDED_BY(mu_)
  bool stopping_ = false;        // GUARDED_BY(mu_)
  std::stop_token stop_;
  std::vector<std::jthread> threads_;
};

}  // namespace

Result<UnpackResult> UnpackArchive(storage::Backend& staging, const std::string& key,
                                   storage::Backend& dst, UnpackJournal& journal,
                                   const UnpackOptions& options, std::stop_token stop) {
  UnpackResult result;
  FERRY_ASSIGN_OR_RETURN(std::optional<uint64_t> mark, journal.Load());
  auto info = staging.Stat(key, false, stop);
  if (!info.ok() && info.status().code() == ErrorCode::kNotFound && mark.has_value()) {
    // Deleted by the attempt that crashed right after; only the record of it is missing.
    FERRY_RETURN_IF_ERROR(journal.Record(*mark, *mark, true));
    result.archive_missing = true;
    return result;
  }
  FERRY_RETURN_IF_ERROR(info.status().WithContext("staged archive " + key));
  archive::BackendRangeSource source(staging, key, info->size, stop);
  auto reader = archive::Reader::Open(source);
  if (!reader.ok()) return reader.status().WithContext("staged archive " + key);
  const auto& entries = (*reader)->entries();
  const uint64_t n = entries.size();
  result.entries = n;
  result.archive_bytes = info->size;
  if (!mark.has_value()) {
    // Started: from now on an attempt may have written entries the journal does not show.
    FERRY_RETURN_IF_ERROR(journal.Record(0, n, false));
  }
  const uint64_t start = std::min<uint64_t>(mark.value_or(0), n);
  // Entries within the window past the watermark may have been written by a crashed attempt
  // (and only those: no attempt starts an entry beyond it): each is looked at first.
  const uint64_t check_end = mark.has_value() ? start + options.window : 0;
  // Every frame read once and decoded once, in order (entries of other regions dropped), the
  // next range of frames downloaded while the entries of this one are written.
  const auto& frames = (*reader)->manifest().frames;
  const uint64_t data_end = frames.empty() ? 0 : frames.back().offset + frames.back().stored_size;
  ReadAheadSource ahead(source, data_end);
  archive::EntryStream stream((*reader)->manifest(), ahead);
  Writers writers(dst, options, start, stop);
  Status failed;
  for (uint64_t i = start; i < n && failed.ok(); ++i) {
    const archive::Entry& e = entries[i];
    if (!MeantFor(e.header, options.region)) {
      ++result.other_regions;
      writers.Done(i);
      continue;
    }
    const bool large = e.header.size > options.whole_limit && dst.features().chunked_write;
    if (options.ordered_keys && i > start && entries[i - 1].header.key == e.header.key) {
      failed = writers.Drain();  // the key's earlier versions first
      if (!failed.ok()) break;
    }
    failed = writers.WaitRoom(i, large ? 0 : e.header.size, journal, n);
    if (!failed.ok()) break;
    const bool check = i < check_end;
    if (large) {
      // Written on this thread, through a chunked write committed after the check.
      bool there = false;
      if (check) {
        auto t = Present(dst, e, options, stop);
        if (!t.ok()) {
          failed = t.status().WithContext(e.header.key);
          break;
        }
        there = *t;
      }
      if (there) {
        ++writers.already_present;
      } else {
        storage::WriteResult made;
        failed = WriteLargeEntry(
                     e, [&](archive::ByteSink& sink) { return stream.Read(i, sink); }, dst,
                     options, stop, &made)
                     .WithContext(e.header.key);
        if (failed.ok() && options.on_written) failed = options.on_written(e, made);
        if (!failed.ok()) break;
        ++writers.written;
        writers.bytes_written += e.header.size;
      }
      ++result.checksums_verified;
      writers.Done(i);
      continue;
    }
    archive::StringSink bytes;
    bytes.bytes.reserve(e.header.size);
    failed = stream.Read(i, bytes).WithContext(e.header.key);
    if (!failed.ok()) break;
    ++result.checksums_verified;
    writers.Push(Writers::Task{.index = i, .entry = &e, .bytes = std::move(bytes.bytes),
                               .check = check});
  }
  if (!failed.ok()) writers.Fail(failed);
  Status finished = writers.Finish();
  writers.Stop();
  result.written = writers.written;
  result.bytes_written = writers.bytes_written;
  result.already_present = writers.already_present;
  if (!finished.ok()) return finished;
  // Recorded before the delete: a crash in between finds the archive either still there (and
  // every entry written: all recognised) or gone with the watermark at the end.
  FERRY_RETURN_IF_ERROR(journal.Record(n, n, false));
  if (options.keep_archive) {
    FERRY_RETURN_IF_ERROR(journal.Record(n, n, true));
    return result;
  }
  // An archive that holds entries of other regions is theirs too: the last unpacker deletes it
  // (the journal knows who is last).
  FERRY_ASSIGN_OR_RETURN(bool last,
                         journal.Unpacked(n, RegionsOf((*reader)->manifest()), options.region));
  if (last) {
    FERRY_RETURN_IF_ERROR(staging.Delete(key, stop));
    FERRY_RETURN_IF_ERROR(journal.Deleted(n));
  }
  result.archive_deleted = last;
  return result;
}

}  // namespace ferry::transport
