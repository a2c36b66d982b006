#include "archive/backend_io.h"

#include <algorithm>
#include <chrono>

namespace ferry::archive {

EntryHeader HeaderOf(const storage::ObjectInfo& o) {
  EntryHeader h;
  h.key = o.key;
  h.size = o.size;
  h.version_id = o.version_id;
  h.etag = o.etag;
  h.mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(o.source_mtime().time_since_epoch())
          .count();
  h.content = o.content;
  h.metadata = o.metadata;
  h.tags = o.tags;
  h.storage_class = o.storage_class;
  return h;
}

Result<size_t> BackendChunkSource::Read(std::span<std::byte> out) {
  const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), object_.size - pos_));
  if (n == 0) return size_t{0};
  FERRY_RETURN_IF_ERROR(backend_.ReadAt(object_.key, pos_, out.first(n), object_.etag, stop_));
  pos_ += n;
  return n;
}

Status BackendRangeSource::ReadAt(uint64_t offset, std::span<std::byte> out) {
  if (offset > size_ || out.size() > size_ - offset) {
    return Status::DataLoss("read past the end of the archive (truncated archive)");
  }
  return backend_.ReadAt(key_, offset, out, "", stop_);
}

Result<std::unique_ptr<BackendSink>> BackendSink::Open(storage::Backend& backend, std::string key,
                                                       uint64_t part_size, std::stop_token stop) {
  storage::WriteSpec spec;
  spec.content.content_type = "application/vnd.ferry.archive";
  FERRY_ASSIGN_OR_RETURN(auto writer, backend.OpenChunkWriter(key, spec, part_size, stop));
  return std::unique_ptr<BackendSink>(new BackendSink(std::move(writer), part_size, stop));
}

Status BackendSink::FlushPart() {
  FERRY_RETURN_IF_ERROR(writer_->WriteChunk(++part_number_, offset_, part_, stop_));
  offset_ += part_.size();
  part_.clear();
  return Status::Ok();
}

Status BackendSink::Write(std::span<const std::byte> data) {
  while (!data.empty()) {
    const size_t take =
        static_cast<size_t>(std::min<uint64_t>(data.size(), part_size_ - part_.size()));
    part_.insert(part_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
    data = data.subspan(take);
    if (part_.size() == part_size_) FERRY_RETURN_IF_ERROR(FlushPart());
  }
  return Status::Ok();
}

Status BackendSink::FlushLast() {
  if (!part_.empty() || part_number_ == 0) FERRY_RETURN_IF_ERROR(FlushPart());
  return Status::Ok();
}

Status BackendSink::Close() {
  FERRY_RETURN_IF_ERROR(FlushLast());
  FERRY_ASSIGN_OR_RETURN(storage::WriteResult r, writer_->Commit(stop_));
  (void)r;
  return Status::Ok();
}

}  // namespace ferry::archive
