#include "transport/unpack_pipeline.h"

#include <algorithm>
#include <string>
#include <utility>

#include "checksum/checksum.h"
#include "transfer/content.h"

namespace ferry::transport {
namespace {

// Chunks of the read that confirms an entry already there (under the executor's budget).
constexpr uint64_t kUnpackConfirmChunk = 1ull << 20;

// Whether the destination holds the entry already (written by an interrupted unpack): its
// bytes (size, and the CRC32C of the bytes read back: the entry's CRC32C is a fact of the
// archive, the destination's ferry-crc32c only a claim, which a tool that rewrote the object
// may have kept: docs/design/integrity.md §8) and the source mtime the write records
// (ferry-mtime, unpack.cc SpecOf). The claims only select the objects worth reading: at most
// `window` entries of a resumed unpack are looked at.
// The same bytes with another source mtime are an earlier copy, from before a change that kept
// the bytes (new metadata, Content-Type or tags: the planner sees it by the source's newer
// LastModified): that entry is still to be written.
Result<bool> AlreadyThere(storage::Backend& dst, const archive::Entry& e,
                          transfer::ByteBudget& budget, std::stop_token stop) {
  auto info = dst.Stat(e.header.key, false, stop);
  if (!info.ok() && info.status().code() == ErrorCode::kNotFound) return false;
  FERRY_RETURN_IF_ERROR(info.status());
  const auto mtime = info->metadata.find(storage::kMetaMtime);
  if (info->size != e.header.size || info->crc32c() != e.crc32c ||
      mtime == info->metadata.end() || mtime->second != std::to_string(e.header.mtime_ns)) {
    return false;
  }
  FERRY_ASSIGN_OR_RETURN(transfer::ContentDigest read,
                         transfer::ReadDigest(dst, *info, budget, kUnpackConfirmChunk,
                                              /*with_md5=*/false, stop));
  return read.crc32c == e.crc32c;
}

}  // namespace

Result<bool> EntryPresent(storage::Backend& dst, const archive::Entry& e,
                          const UnpackOptions& o, std::stop_token stop) {
  if (o.present) return o.present(e);
  return AlreadyThere(dst, e, o.executor->budget(), stop);
}

// --- EntryWriters ---

EntryWriters::EntryWriters(storage::Backend& dst, const UnpackOptions& options, uint64_t start,
                           std::stop_token stop)
    : dst_(dst),
      options_(options),
      budget_(options.executor->budget()),
      watermark_(start),
      stop_(std::move(stop)),
      tasks_(options.executor->Open()) {}

Status EntryWriters::WaitRoom(uint64_t index, uint64_t size, UnpackJournal& journal,
                              uint64_t entries) {
  DestroyFinished();
  std::unique_lock lock(mu_);
  ReleaseReservedLocked();  // taken by a WaitRoom whose entry was not pushed
  for (;;) {
    if (!error_.ok()) return error_;
    if (stop_.stop_requested()) return Status::Cancelled("unpack cancelled");
    // When the window waits on the recorded watermark, it is recorded once it moved a step (an
    // eighth of the window), not after every entry the writers finish: each record is a
    // transaction, and with claims a create and a HEAD on staging (a chain of 200 generations
    // for 3,000 small entries). The watermark reaches `index` in the end (every entry below it
    // is queued), so the step always comes.
    const uint64_t step = std::max<uint64_t>(1, options_.window / 8);
    if (watermark_ >= recorded_ + options_.checkpoint_every ||
        (index >= recorded_ + options_.window && watermark_ >= recorded_ + step)) {
      const uint64_t mark = watermark_;
      lock.unlock();
      FERRY_RETURN_IF_ERROR(journal.Record(mark, entries, false));
      lock.lock();
      recorded_ = std::max(recorded_, mark);
      continue;
    }
    const bool in_window = index < recorded_ + options_.window;
    const bool bytes_ok = queued_bytes_ == 0 || queued_bytes_ + size <= options_.max_bytes;
    if (in_window && bytes_ok) {
      // The process's budget too: tried, and waited for only while writes of this unpack are
      // under way (each one's end wakes this wait); with none, overdrawn by this entry, as the
      // bytes that would free the budget may be waiting for this unpack.
      if (budget_.TryAcquire(size)) {
        reserved_ = size;
        return Status::Ok();
      }
      if (pending_ == 0) {
        budget_.Overdraw(size);
        reserved_ = size;
        return Status::Ok();
      }
    }
    cv_.wait(lock);
  }
}

void EntryWriters::ReleaseReservedLocked() {
  budget_.Release(reserved_);
  reserved_ = 0;
}

void EntryWriters::Push(Task task) {
  {
    std::lock_guard lock(mu_);
    task.budgeted = reserved_;
    reserved_ = 0;
    queued_bytes_ += task.bytes.size() + task.held;
    ++pending_;
  }
  auto t = std::make_shared<Task>(std::move(task));
  if (t->large) {
    PushLarge(std::move(t));
    return;
  }
  // A new object of this unpack's queue: the push waits while the queue is full (the reading
  // thread's backpressure; never a worker's).
  tasks_->Push([this, t](std::stop_token) { Run(*t); }, false);
}

void EntryWriters::PushLarge(std::shared_ptr<Task> t) {
  bool dropped;
  {
    std::lock_guard lock(mu_);
    dropped = !error_.ok();
  }
  if (dropped) {  // after a failure nothing more is written: aborted when destroyed
    std::lock_guard lock(mu_);
    EndLocked(*t, Status::Ok());
    finished_.push_back(std::move(t));
    return;
  }
  // Its last parts and its commit run on the executor: the commit as the last part's
  // continuation, so no worker waits for them. The task is kept (finished_) until the reading
  // thread destroys it.
  LargeWrite& large = *t->large;
  large.FinishThen([this, t](Status s, storage::WriteResult made) mutable {
    if (s.ok() && options_.on_written) s = options_.on_written(*t->entry, made);
    if (s.ok()) {
      ++written;
      bytes_written += t->entry->header.size;
    }
    std::lock_guard lock(mu_);
    EndLocked(*t, s);
    if (s.ok()) DoneLocked(t->index);
    finished_.push_back(std::move(t));
  });
}

void EntryWriters::DestroyFinished() {
  std::vector<std::shared_ptr<Task>> gone;
  {
    std::lock_guard lock(mu_);
    gone.swap(finished_);
  }
  gone.clear();  // a large write's parts' queue waits for the task that ended it, if still on it
}

void EntryWriters::Done(uint64_t index) {
  std::lock_guard lock(mu_);
  DoneLocked(index);
}

void EntryWriters::DoneLocked(uint64_t index) {
  done_.insert(index);
  while (!done_.empty() && *done_.begin() == watermark_) {
    done_.erase(done_.begin());
    ++watermark_;
  }
  cv_.notify_all();
}

void EntryWriters::Fail(Status s) {
  std::lock_guard lock(mu_);
  FailLocked(std::move(s));
}

void EntryWriters::FailLocked(Status s) {
  if (error_.ok()) error_ = std::move(s);  // the writes queued are dropped as they come up
  cv_.notify_all();
}

Status EntryWriters::Finish() {
  Status s;
  {
    std::unique_lock lock(mu_);
    ReleaseReservedLocked();
    cv_.wait(lock, [&] { return pending_ == 0; });
    s = error_;
  }
  DestroyFinished();
  return s;
}

void EntryWriters::Stop() {
  (void)Finish();
  tasks_.reset();  // nothing of this unpack left on the executor
}

void EntryWriters::Run(Task& t) {
  bool dropped;
  {
    std::lock_guard lock(mu_);
    dropped = !error_.ok();  // after a failure nothing more is written
  }
  const Status s = dropped ? Status::Ok() : Write(t);
  std::lock_guard lock(mu_);
  if (dropped) {
    EndLocked(t, Status::Ok());
    return;
  }
  EndLocked(t, s);
  if (s.ok()) DoneLocked(t.index);
}

void EntryWriters::EndLocked(const Task& t, const Status& s) {
  // The outcome is recorded with the write's end, in one critical section: Finish never
  // sees no write pending before the failure (or the watermark) of the last one.
  if (!s.ok()) FailLocked(s.WithContext(t.entry->header.key));
  --pending_;
  queued_bytes_ -= std::min<uint64_t>(queued_bytes_, t.bytes.size() + t.held);
  budget_.Release(t.budgeted);
  cv_.notify_all();
}

Status EntryWriters::Write(const Task& t) {  // a small entry's (a large one's: PushLarge)
  if (t.check) {
    FERRY_ASSIGN_OR_RETURN(bool there, EntryPresent(dst_, *t.entry, options_, stop_));
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

// --- PartUploader ---

PartUploader::PartUploader(storage::ChunkWriter& writer, transfer::Executor& executor,
                           uint64_t part_size, int parts_at_once, std::stop_token stop)
    : writer_(writer),
      part_size_(std::max<uint64_t>(1, part_size)),
      parts_at_once_(std::max(1, parts_at_once)),
      stop_(std::move(stop)),
      queue_(executor.Open()) {}

PartUploader::~PartUploader() {
  {
    std::lock_guard lock(mu_);
    dropping_ = true;  // parts not started are dropped; those under way end
  }
  queue_->Wait();  // no part in flight after this
}

int PartUploader::peak_in_flight() const {
  std::lock_guard lock(mu_);
  return peak_in_flight_;
}

Status PartUploader::Write(std::span<const std::byte> data) {
  while (!data.empty()) {
    if (current_.bytes.capacity() == 0) {
      std::lock_guard lock(mu_);
      if (!error_.ok()) return error_;
      if (!free_.empty()) {
        current_.bytes = std::move(free_.back());
        free_.pop_back();
      }
      current_.bytes.clear();
      current_.bytes.reserve(static_cast<size_t>(part_size_));
    }
    const size_t take = static_cast<size_t>(
        std::min<uint64_t>(data.size(), part_size_ - current_.bytes.size()));
    current_.bytes.insert(current_.bytes.end(), data.begin(),
                          data.begin() + static_cast<ptrdiff_t>(take));
    data = data.subspan(take);
    if (current_.bytes.size() == part_size_) FERRY_RETURN_IF_ERROR(Hand());
  }
  return Status::Ok();
}

Status PartUploader::Hand() {
  current_.number = next_number_++;
  current_.offset = next_offset_;
  next_offset_ += current_.bytes.size();
  std::unique_lock lock(mu_);
  cv_.wait(lock, stop_, [&] { return in_flight_ < parts_at_once_ || !error_.ok(); });
  if (!error_.ok()) return error_;
  if (stop_.stop_requested()) return Status::Cancelled("unpack cancelled");
  ++in_flight_;
  peak_in_flight_ = std::max(peak_in_flight_, in_flight_);
  auto part = std::make_shared<Part>(std::move(current_));
  current_ = Part{};
  lock.unlock();
  // A priority task: a part of an object already started never waits for room in the queue.
  queue_->Push([this, part](std::stop_token) { Upload(*part); }, true);
  return Status::Ok();
}

void PartUploader::Upload(Part& part) {
  Status s;
  {
    bool failed;
    {
      std::lock_guard lock(mu_);
      failed = !error_.ok() || dropping_;
    }
    // After a failure the remaining parts are dropped: the write is aborted anyway.
    if (!failed) s = writer_.WriteChunk(part.number, part.offset, part.bytes, stop_);
  }
  std::function<void(Status)> then;
  Status outcome;
  {
    std::lock_guard lock(mu_);
    if (!s.ok() && error_.ok()) error_ = s.WithContext("part " + std::to_string(part.number));
    --in_flight_;
    if (free_.size() < static_cast<size_t>(parts_at_once_)) free_.push_back(std::move(part.bytes));
    if (in_flight_ == 0 && then_) {
      then.swap(then_);
      outcome = error_;
    }
    cv_.notify_all();
  }
  if (then) then(outcome);  // last: the uploader may be destroyed once it returned
}

Status PartUploader::SendLast() {
  if (!current_.bytes.empty() || next_number_ == 1) return Hand();
  return Status::Ok();
}

Status PartUploader::Finish() {
  const Status s = SendLast();
  const Status drained = Drain();
  return s.ok() ? drained : s;
}

void PartUploader::FinishThen(std::function<void(Status)> then) {
  const Status s = SendLast();
  Status outcome;
  {
    std::lock_guard lock(mu_);
    if (!s.ok() && error_.ok()) error_ = s;
    if (in_flight_ > 0) {
      then_ = std::move(then);
      return;
    }
    outcome = error_;
  }
  then(outcome);
}

Status PartUploader::Drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ == 0; });
  return error_;
}

// --- LargeWrite ---

LargeWrite::LargeWrite(std::unique_ptr<storage::ChunkWriter> writer,
                       const UnpackOptions& options, std::stop_token stop)
    : writer_(std::move(writer)),
      parts_(std::make_unique<PartUploader>(*writer_, *options.executor, options.part_size,
                                            options.part_threads, stop)),
      before_commit_(options.before_write),
      stop_(std::move(stop)) {}

LargeWrite::~LargeWrite() {
  parts_.reset();  // waits: no part in flight
  if (!ended_) (void)writer_->Abort();
}

Result<std::unique_ptr<LargeWrite>> LargeWrite::Start(const archive::Entry& e,
                                                      const EntryReader& read,
                                                      storage::Backend& dst,
                                                      const UnpackOptions& options,
                                                      std::stop_token stop) {
  const storage::WriteSpec spec = SpecOf(e, dst.features(), options);
  FERRY_ASSIGN_OR_RETURN(auto writer,
                         dst.OpenChunkWriter(e.header.key, spec, options.part_size, stop));
  std::unique_ptr<LargeWrite> w(new LargeWrite(std::move(writer), options, stop));
  FERRY_RETURN_IF_ERROR(read(*w->parts_));  // w aborts the write on the way out
  return w;
}

void LargeWrite::FinishThen(std::function<void(Status, storage::WriteResult)> done) {
  parts_->FinishThen([this, done = std::move(done)](Status s) {
    storage::WriteResult made;
    if (s.ok() && before_commit_) s = before_commit_();
    if (s.ok()) {
      Result<storage::WriteResult> committed = writer_->Commit(stop_);
      s = committed.status();
      if (committed.ok()) made = *committed;
    }
    if (!s.ok()) (void)writer_->Abort();
    ended_ = true;
    done(s, made);  // last: this write may be destroyed once it returned
  });
}

Status LargeWrite::Finish(storage::WriteResult* made) {
  Status s = parts_->Finish();
  if (s.ok() && before_commit_) s = before_commit_();
  if (s.ok()) {
    Result<storage::WriteResult> committed = writer_->Commit(stop_);
    s = committed.status();
    if (committed.ok() && made != nullptr) *made = *committed;
  }
  if (!s.ok()) (void)writer_->Abort();
  ended_ = true;
  return s;
}

}  // namespace ferry::transport
