#include "archive/backend_io.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

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

uint64_t ArchivePartSize(uint64_t expected_bytes) {
  constexpr uint64_t kMiB = 1ull << 20;
  constexpr uint64_t kLeast = 5 * kMiB;  // S3's least part
  constexpr uint64_t kParts = 9000;      // of S3's 10,000, room for an archive larger than said
  if (expected_bytes == 0) return 16 * kMiB;
  const uint64_t fit = (expected_bytes + kParts - 1) / kParts;
  return std::max(kLeast, (fit + kMiB - 1) / kMiB * kMiB);
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
  if (!read_ahead_done_) {
    // The first read of the whole archive when it is small, or of the tail from the first read
    // that falls in it; once.
    uint64_t from = size_;
    if (size_ <= read_ahead_.whole_below) {
      from = 0;
    } else if (read_ahead_.tail > 0 && offset >= size_ - std::min(size_, read_ahead_.tail)) {
      from = size_ - std::min(size_, read_ahead_.tail);
    }
    if (from < size_) {
      read_ahead_done_ = true;
      std::vector<std::byte> bytes(static_cast<size_t>(size_ - from));
      FERRY_RETURN_IF_ERROR(Fetch(from, bytes));
      kept_ = std::move(bytes);
      kept_from_ = from;
    }
  }
  const uint64_t kept_end = kept_from_ + kept_.size();
  if (kept_.empty() || offset + out.size() <= kept_from_ || offset >= kept_end ||
      offset + out.size() > kept_end) {
    return Fetch(offset, out);
  }
  // Ends in what was read ahead: only the bytes before it are asked of the store (a frame that
  // runs into the tail is not read twice).
  const uint64_t from = std::max(offset, kept_from_);
  if (offset < from) FERRY_RETURN_IF_ERROR(Fetch(offset, out.first(from - offset)));
  std::copy_n(kept_.begin() + static_cast<ptrdiff_t>(from - kept_from_),
              offset + out.size() - from, out.begin() + static_cast<ptrdiff_t>(from - offset));
  return Status::Ok();
}

Status BackendRangeSource::Fetch(uint64_t offset, std::span<std::byte> out) {
  ++requests_;
  bytes_requested_ += out.size();
  return backend_.ReadAt(key_, offset, out, "", stop_);
}

// One part being uploaded on a thread of its own.
struct BackendSink::InFlight {
  std::vector<std::byte> bytes;
  Status status;
  std::thread thread;  // writes `status`; joined before it is read
};

BackendSink::BackendSink(storage::Backend& backend, std::string key, uint64_t part_size,
                         std::stop_token stop, Options options)
    : backend_(backend),
      key_(std::move(key)),
      part_size_(part_size),
      stop_(std::move(stop)),
      options_(options) {
  options_.parts_in_flight = std::max(1, options_.parts_in_flight);
  spec_.content.content_type = "application/vnd.ferry.archive";
}

BackendSink::~BackendSink() {
  (void)WaitAll();
  if (opener_.joinable()) opener_.join();
}

Result<std::unique_ptr<BackendSink>> BackendSink::Open(storage::Backend& backend, std::string key,
                                                       uint64_t part_size, std::stop_token stop) {
  return Open(backend, std::move(key), part_size, std::move(stop), Options{});
}

Result<std::unique_ptr<BackendSink>> BackendSink::Open(storage::Backend& backend, std::string key,
                                                       uint64_t part_size, std::stop_token stop,
                                                       Options options) {
  if (!backend.features().chunked_write) {
    return Status::NotSupported(backend.Describe() + " has no chunked writes for archives");
  }
  std::unique_ptr<BackendSink> sink(
      new BackendSink(backend, std::move(key), part_size, std::move(stop), options));
  if (!options.likely_one_part) {
    BackendSink* s = sink.get();
    s->opener_ = std::thread(
        [s] { s->opened_ = s->backend_.OpenChunkWriter(s->key_, s->spec_, s->part_size_, s->stop_); });
  }
  return sink;
}

Status BackendSink::EnsureWriter() {
  if (writer_ != nullptr) return Status::Ok();
  if (opener_.joinable()) {
    opener_.join();
  } else {
    opened_ = backend_.OpenChunkWriter(key_, spec_, part_size_, stop_);
  }
  if (!opened_.ok()) {
    if (error_.ok()) error_ = opened_.status().WithContext("opening the chunked write of " + key_);
    return error_;
  }
  writer_ = std::move(opened_).value();
  return Status::Ok();
}

Status BackendSink::WaitOldest() {
  std::unique_ptr<InFlight> oldest = std::move(in_flight_.front());
  in_flight_.erase(in_flight_.begin());
  oldest->thread.join();
  oldest->bytes.clear();
  spare_.push_back(std::move(oldest->bytes));
  if (error_.ok()) error_ = oldest->status;
  return error_;
}

Status BackendSink::WaitAll() {
  while (!in_flight_.empty()) (void)WaitOldest();
  return error_;
}

Status BackendSink::StartPart() {
  FERRY_RETURN_IF_ERROR(error_);
  FERRY_RETURN_IF_ERROR(EnsureWriter());
  while (in_flight_.size() >= static_cast<size_t>(options_.parts_in_flight)) {
    FERRY_RETURN_IF_ERROR(WaitOldest());
  }
  auto part = std::make_unique<InFlight>();
  part->bytes = std::move(part_);
  part_.clear();
  if (!spare_.empty()) {
    part_ = std::move(spare_.back());
    spare_.pop_back();
  }
  InFlight* p = part.get();
  const int number = ++part_number_;
  const uint64_t offset = offset_;
  offset_ += p->bytes.size();
  {
    std::lock_guard lock(sending_mu_);
    if (under_way_++ == 0 && options_.on_sending) options_.on_sending(true);
  }
  p->thread = std::thread([this, p, number, offset] {
    p->status = writer_->WriteChunk(number, offset, p->bytes, stop_);
    std::lock_guard lock(sending_mu_);
    if (--under_way_ == 0 && options_.on_sending) options_.on_sending(false);
  });
  in_flight_.push_back(std::move(part));
  return Status::Ok();
}

Status BackendSink::Write(std::span<const std::byte> data) {
  FERRY_RETURN_IF_ERROR(error_);
  while (!data.empty()) {
    if (part_.capacity() < part_size_) part_.reserve(static_cast<size_t>(part_size_));
    const size_t take =
        static_cast<size_t>(std::min<uint64_t>(data.size(), part_size_ - part_.size()));
    part_.insert(part_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
    data = data.subspan(take);
    if (part_.size() == part_size_) FERRY_RETURN_IF_ERROR(StartPart());
  }
  return Status::Ok();
}

Status BackendSink::SendLast() {
  FERRY_RETURN_IF_ERROR(error_);
  if (put_whole_) return Status::Ok();
  if (part_number_ == 0 && options_.likely_one_part && writer_ == nullptr) {
    // All of it fits one part and nothing was opened: one PUT, complete at once.
    spec_.size = part_.size();
    auto put = backend_.Put(key_, part_, spec_, stop_);
    if (!put.ok()) {
      error_ = put.status();
      return error_;
    }
    put_whole_ = true;
    return Status::Ok();
  }
  if (!part_.empty() || part_number_ == 0) FERRY_RETURN_IF_ERROR(StartPart());
  return Status::Ok();
}

Status BackendSink::FlushLast() {
  FERRY_RETURN_IF_ERROR(SendLast());
  return WaitAll();
}

Status BackendSink::Close() {
  FERRY_RETURN_IF_ERROR(FlushLast());
  if (put_whole_) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(storage::WriteResult r, writer_->Commit(stop_));
  (void)r;
  return Status::Ok();
}

}  // namespace ferry::archive
