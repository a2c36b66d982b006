#include "transport/unpack.h"

#include <algorithm>
#include <chrono>

#include "archive/backend_io.h"
#include "archive/reader.h"
#include "checksum/checksum.h"

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

Status WriteEntry(const archive::Reader& reader, const archive::Entry& e, storage::Backend& dst,
                  const UnpackOptions& options, std::stop_token stop) {
  const storage::WriteSpec spec = SpecOf(e, dst.features(), options.storage_class);
  if (e.header.size <= options.whole_limit || !dst.features().chunked_write) {
    archive::StringSink bytes;
    bytes.bytes.reserve(e.header.size);
    FERRY_RETURN_IF_ERROR(reader.ReadEntry(e, bytes));
    return dst.Put(e.header.key, checksum::AsBytes(bytes.bytes), spec, stop).status();
  }
  FERRY_ASSIGN_OR_RETURN(auto writer,
                         dst.OpenChunkWriter(e.header.key, spec, options.part_size, stop));
  ChunkSink sink(*writer, options.part_size, stop);
  Status s = reader.ReadEntry(e, sink);
  if (s.ok()) s = sink.Finish();
  if (s.ok()) s = writer->Commit(stop).status();
  if (!s.ok()) (void)writer->Abort();
  return s;
}

}  // namespace

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
  result.entries = entries.size();
  result.archive_bytes = info->size;
  const uint64_t start = std::min<uint64_t>(mark.value_or(0), entries.size());
  // Entries past the watermark may have been written by the crashed attempt: look first.
  bool checking = mark.has_value();
  uint64_t since_record = 0;
  for (uint64_t i = start; i < entries.size(); ++i) {
    if (stop.stop_requested()) return Status::Cancelled("unpack cancelled");
    const archive::Entry& e = entries[i];
    if (!MeantFor(e.header, options.region)) {
      ++result.other_regions;
      continue;
    }
    if (checking) {
      FERRY_ASSIGN_OR_RETURN(bool there, AlreadyThere(dst, e, stop));
      if (there) {
        ++result.already_present;
        continue;
      }
      checking = false;  // the first entry not there: nothing after it was started
    }
    Status s = WriteEntry(**reader, e, dst, options, stop);
    if (!s.ok()) return s.WithContext(e.header.key);
    ++result.written;
    ++result.checksums_verified;
    result.bytes_written += e.header.size;
    if (++since_record >= options.checkpoint_every) {
      FERRY_RETURN_IF_ERROR(journal.Record(i + 1, entries.size(), false));
      since_record = 0;
    }
  }
  // Recorded before the delete: a crash in between finds the archive either still there (and
  // every entry written: all recognised) or gone with the watermark at the end.
  FERRY_RETURN_IF_ERROR(journal.Record(entries.size(), entries.size(), false));
  if (!options.keep_archive) FERRY_RETURN_IF_ERROR(staging.Delete(key, stop));
  FERRY_RETURN_IF_ERROR(journal.Record(entries.size(), entries.size(), true));
  return result;
}

}  // namespace ferry::transport
