#include "archive/backend_io.h"

#include <algorithm>
#include <chrono>
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
  h.lock = o.lock;
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

// One part being uploaded as a task of the executor.
struct BackendSink::InFlight {
  std::vector<std::byte> bytes;
  Status status;      // written by the task before `done`
  bool done = false;  // GUARDED_BY(mu_)
};

BackendSink::BackendSink(storage::Backend& backend, std::string key, uint64_t part_size,
                         transfer::Executor& executor, std::stop_token stop, Options options)
    : backend_(backend),
      key_(std::move(key)),
      part_size_(part_size),
      executor_(executor),
      stop_(std::move(stop)),
      options_(options),
      tasks_(executor.Open()) {
  options_.parts_in_flight = std::max(1, options_.parts_in_flight);
  spec_.content.content_type = "application/vnd.ferry.archive";
}

BackendSink::~BackendSink() {
  (void)WaitAll();
  tasks_.reset();  // the open, if it is still under way
  if (budgeted_ > 0) executor_.budget().Release(budgeted_);
}

Result<std::unique_ptr<BackendSink>> BackendSink::Open(storage::Backend& backend, std::string key,
                                                       uint64_t part_size,
                                                       transfer::Executor& executor,
                                                       std::stop_token stop) {
  return Open(backend, std::move(key), part_size, executor, std::move(stop), Options{});
}

Result<std::unique_ptr<BackendSink>> BackendSink::Open(storage::Backend& backend, std::string key,
                                                       uint64_t part_size,
                                                       transfer::Executor& executor,
                                                       std::stop_token stop, Options options) {
  if (!backend.features().chunked_write) {
    return Status::NotSupported(backend.Describe() + " has no chunked writes for archives");
  }
  std::unique_ptr<BackendSink> sink(
      new BackendSink(backend, std::move(key), part_size, executor, std::move(stop), options));
  if (!options.likely_one_part) {
    BackendSink* s = sink.get();
    s->opening_ = true;
    s->open_tasked_ = true;
    s->tasks_->Push(
        [s](std::stop_token) {
          auto opened = s->backend_.OpenChunkWriter(s->key_, s->spec_, s->part_size_, s->stop_);
          std::lock_guard lock(s->mu_);
          s->opened_ = std::move(opened);
          s->opening_ = false;
          s->cv_.notify_all();
        },
        true);
  }
  return sink;
}

Status BackendSink::EnsureWriter() {
  if (writer_ != nullptr) return Status::Ok();
  Result<std::unique_ptr<storage::ChunkWriter>> opened = Status::Unavailable("not opened");
  if (open_tasked_) {
    open_tasked_ = false;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !opening_; });
    opened = std::move(opened_);
  } else {
    opened = backend_.OpenChunkWriter(key_, spec_, part_size_, stop_);
  }
  if (!opened.ok()) {
    if (error_.ok()) error_ = opened.status().WithContext("opening the chunked write of " + key_);
    return error_;
  }
  writer_ = std::move(opened).value();
  return Status::Ok();
}

Status BackendSink::WaitOldest() {
  std::unique_ptr<InFlight> oldest = std::move(in_flight_.front());
  in_flight_.erase(in_flight_.begin());
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return oldest->done; });
  }
  oldest->bytes.clear();
  spare_.push_back(std::move(oldest->bytes));
  if (error_.ok()) error_ = oldest->status;
  return error_;
}

Status BackendSink::WaitAll() {
  while (!in_flight_.empty()) (void)WaitOldest();
  return error_;
}

void BackendSink::ReservePart() {
  if (part_.capacity() >= part_size_) return;
  const uint64_t before = part_.capacity();
  part_.reserve(static_cast<size_t>(part_size_));
  const uint64_t more = part_.capacity() - before;
  executor_.budget().Overdraw(more);
  budgeted_ += more;
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
    std::lock_guard lock(mu_);
    if (under_way_++ == 0 && options_.on_sending) options_.on_sending(true);
  }
  in_flight_.push_back(std::move(part));
  tasks_->Push(
      [this, p, number, offset](std::stop_token) {
        Status status = writer_->WriteChunk(number, offset, p->bytes, stop_);
        std::lock_guard lock(mu_);
        p->status = std::move(status);
        p->done = true;
        if (--under_way_ == 0 && options_.on_sending) options_.on_sending(false);
        cv_.notify_all();
      },
      true);
  return Status::Ok();
}

Status BackendSink::Write(std::span<const std::byte> data) {
  FERRY_RETURN_IF_ERROR(error_);
  while (!data.empty()) {
    ReservePart();
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
