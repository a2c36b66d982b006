#include "transport/prefetch.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "checksum/checksum.h"
#include "transfer/verify.h"

namespace ferry::transport {
namespace {

// A GET gives the modification time in whole seconds (Last-Modified), a listing in
// milliseconds: the listing's is kept (as a plain copy keeps it) when it is the same second.
void KeepListedTime(const storage::ObjectInfo& listed, storage::ObjectInfo& object) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  if (object.metadata.count(storage::kMetaMtime) != 0) return;
  if (duration_cast<seconds>(listed.mtime.time_since_epoch()) ==
      duration_cast<seconds>(object.mtime.time_since_epoch())) {
    object.mtime = listed.mtime;
  }
}

}  // namespace

namespace {

void ReadWholeOnce(storage::Backend& src, const storage::ObjectInfo& listed,
                   std::stop_token stop, ReadObject& r);

// ReadWhole into `r`, whose bytes buffer may already hold capacity to reuse.
void ReadWholeInto(storage::Backend& src, const storage::ObjectInfo& listed,
                   std::stop_token stop, ReadObject& r) {
  // One GET gives the bytes and every detail (tags too when the object has any). Not pinned to
  // the listed ETag: what is read is what the entry describes.
  // Bytes that do not match what the object declares (its CRC32C, MD5 ETag, multipart ETag in
  // a likely layout) were corrupted on the way: read again, a few times, as sync does; never
  // packed (the archive's own CRC would then vouch for the wrong bytes).
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    ReadWholeOnce(src, listed, stop, r);
    if (!r.status.ok()) return;
    const auto bytes = std::as_bytes(std::span(r.bytes.data(), r.bytes.size()));
    const transfer::WholeCheck verdict = transfer::CheckWhole(
        transfer::CheckOf(r.object), bytes, checksum::Crc32c(bytes), false);
    if (verdict != transfer::WholeCheck::kMismatch) return;
    if (attempt == kAttempts || stop.stop_requested()) {
      r.status = Status::DataLoss("bytes read from " + listed.key + " do not match the checksum " +
                                  "it declares, " + std::to_string(kAttempts) +
                                  " times (corrupted on the way); not packed");
      return;
    }
  }
}

// One read of ReadWholeInto.
void ReadWholeOnce(storage::Backend& src, const storage::ObjectInfo& listed,
                   std::stop_token stop, ReadObject& r) {
  r.status = Status::Ok();
  r.vanished = false;
  r.bytes.resize(listed.size);
  auto span = [&] { return std::as_writable_bytes(std::span(r.bytes.data(), r.bytes.size())); };
  auto object = src.ReadObject(listed.key, span(), "", stop);
  if (!object.ok() && object.status().code() == ErrorCode::kDataLoss) {
    // The object changed size since it was listed: read its current version.
    auto now = src.Stat(listed.key, false, stop);
    if (!now.ok()) {
      object = now.status();
    } else {
      r.bytes.resize(now->size);
      object = src.ReadObject(listed.key, span(), now->etag, stop);
    }
  }
  if (!object.ok()) {
    r.vanished = object.status().code() == ErrorCode::kNotFound;
    r.status = object.status().WithContext(listed.key);
    return;
  }
  r.object = std::move(object).value();
  r.object.key = listed.key;
  r.object.size = r.bytes.size();
  KeepListedTime(listed, r.object);
}

}  // namespace

ReadObject ReadWhole(storage::Backend& src, const storage::ObjectInfo& listed,
                     std::stop_token stop) {
  ReadObject r;
  ReadWholeInto(src, listed, stop, r);
  return r;
}

Prefetcher::Prefetcher(storage::Backend& src, std::span<const storage::ObjectInfo> objects,
                       transfer::Executor& executor, const PrefetchOptions& options,
                       std::stop_token stop)
    : src_(src),
      objects_(objects),
      budget_(executor.budget()),
      options_(options),
      window_(std::max<size_t>(1, options.window)),
      window_bytes_(options.window_bytes != 0
                        ? options.window_bytes
                        : window_ * std::max<uint64_t>(1, options.small_limit)),
      forward_stop_(stop, std::function<void()>([this] { own_stop_.request_stop(); })),
      queue_(executor.Open()) {
  std::vector<Started> started;
  {
    std::lock_guard lock(mu_);
    started = StartMore();
  }
  Push(std::move(started));
}

Prefetcher::~Prefetcher() {
  own_stop_.request_stop();  // the reads under way are cancelled, none starts
  queue_->Cancel();
  queue_->Wait();
  std::lock_guard lock(mu_);
  budget_.Release(bytes_ahead_);  // what was read ahead and never taken
}

bool Prefetcher::HasRoom() {
  while (next_ < objects_.size() && objects_[next_].size > options_.small_limit) ++next_;
  if (next_ >= objects_.size() || ahead_ == 0) return true;  // one object is always allowed
  return next_ < taken_ + window_ && bytes_ahead_ + objects_[next_].size <= window_bytes_;
}

void Prefetcher::Release(size_t index) {
  --ahead_;
  bytes_ahead_ -= objects_[index].size;
  budget_.Release(objects_[index].size);
}

Prefetcher::Started Prefetcher::StartNext(bool follower) {
  const size_t i = next_++;
  ++ahead_;
  bytes_ahead_ += objects_[i].size;
  ++in_flight_;
  Started s{.index = i, .follower = follower, .buffer = {}};
  // The smallest spare buffer the object fits in (one too small would be reallocated).
  if (auto fit = spare_.lower_bound(static_cast<size_t>(objects_[i].size)); fit != spare_.end()) {
    s.buffer = std::move(fit->second);
    spare_bytes_ -= fit->first;
    spare_.erase(fit);
  }
  return s;
}

std::vector<Prefetcher::Started> Prefetcher::StartMore() {
  std::vector<Started> out;
  while (!own_stop_.stop_requested() && in_flight_ < std::max<size_t>(1, options_.reads) &&
         HasRoom() && next_ < objects_.size()) {
    if (!budget_.TryAcquire(objects_[next_].size)) break;
    bool follower = false;
    if (options_.gate != nullptr && !options_.gate->TryBegin(follower)) {
      budget_.Release(objects_[next_].size);
      break;
    }
    out.push_back(StartNext(follower));
  }
  return out;
}

void Prefetcher::Push(std::vector<Started> started) {
  for (Started& s : started) {
    // A priority task: never waits for room in the queue (the window bounds these).
    queue_->Push([this, s = std::move(s)](std::stop_token stop) mutable { Read(std::move(s), stop); },
                 true);
  }
}

void Prefetcher::Read(Started s, std::stop_token queue_stop) {
  ReadObject r;
  r.bytes = std::move(s.buffer);
  r.bytes.clear();
  const std::stop_token stop = own_stop_.get_token();
  if (stop.stop_requested() || queue_stop.stop_requested()) {
    r.status = Status::Cancelled("pack cancelled");
  } else {
    ReadWholeInto(src_, objects_[s.index], stop, r);
  }
  if (options_.gate != nullptr) options_.gate->End(s.follower);
  std::vector<Started> more;
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (s.index < taken_) {
      Release(s.index);  // the writer went past it without taking it
    } else {
      ready_[s.index] = std::move(r);
    }
    more = StartMore();
    // The writer waits for this read, or for none to be in flight (it then starts the one it
    // needs itself, waiting for the budget or the gate on its own thread).
    if (waiting_for_ != SIZE_MAX && (waiting_for_ == s.index || in_flight_ == 0)) {
      writer_cv_.notify_one();
    }
  }
  Push(std::move(more));
}

ReadObject Prefetcher::Take(size_t index) {
  std::unique_lock lock(mu_);
  // Large objects between the last one taken and `index` are not read here; small ones the
  // writer skipped are dropped.
  if (taken_ < index) taken_ = index;
  for (auto it = ready_.begin(); it != ready_.end() && it->first < index;) {
    Release(it->first);
    it = ready_.erase(it);
  }
  const std::stop_token stop = own_stop_.get_token();
  while (ready_.count(index) == 0) {
    if (stop.stop_requested()) {
      ReadObject r;
      r.status = Status::Cancelled("pack cancelled");
      return r;
    }
    std::vector<Started> started = StartMore();
    if (started.empty() && in_flight_ == 0 && next_ <= index) {
      // Nothing runs that would start the next object the writer needs: the budget or the gate
      // refused it. The gate is waited for here, on the writer's thread (a worker of the
      // executor never waits); the budget is overdrawn by this one object rather than waited
      // for, as what would free it may be waiting for this pack (another pack's objects read
      // ahead, its writer waiting for this archive's turn to upload: upload_order.h).
      while (next_ < objects_.size() && objects_[next_].size > options_.small_limit) ++next_;
      lock.unlock();
      bool follower = false;
      const bool turn = options_.gate == nullptr || options_.gate->Begin(stop, follower);
      lock.lock();
      if (!turn) continue;  // stopped
      budget_.Overdraw(objects_[next_].size);
      started.push_back(StartNext(follower));
    }
    if (!started.empty()) {
      lock.unlock();
      Push(std::move(started));
      lock.lock();
      continue;
    }
    waiting_for_ = index;
    writer_cv_.wait(lock, stop, [&] {
      return ready_.count(index) != 0 || (in_flight_ == 0 && next_ <= index);
    });
    waiting_for_ = SIZE_MAX;
  }
  auto it = ready_.find(index);
  ReadObject r = std::move(it->second);
  ready_.erase(it);
  taken_ = index + 1;
  Release(index);
  std::vector<Started> started = StartMore();
  lock.unlock();
  Push(std::move(started));
  return r;
}

void Prefetcher::GiveBack(std::string bytes) {
  std::lock_guard lock(mu_);
  // Kept while the spares fit the window: memory stays bounded by the window.
  const size_t capacity = bytes.capacity();
  if (spare_.size() >= window_ || spare_bytes_ + capacity > window_bytes_) return;
  spare_bytes_ += capacity;
  spare_.emplace(capacity, std::move(bytes));
}

RangeAhead::RangeAhead(storage::Backend& src, const storage::ObjectInfo& object, size_t chunk,
                       int threads, size_t window, std::stop_token stop, ReadGate* gate)
    : src_(src),
      object_(object),
      chunk_(std::max<size_t>(1, chunk)),
      chunks_(static_cast<size_t>((object.size + chunk_ - 1) / chunk_)),
      window_(std::max<size_t>(1, window)),
      gate_(gate),
      forward_stop_(stop, std::function<void()>([this] { own_stop_.request_stop(); })) {
  const int n = static_cast<int>(std::min<size_t>(static_cast<size_t>(std::max(1, threads)),
                                                  std::max<size_t>(1, chunks_)));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
}

RangeAhead::~RangeAhead() {
  own_stop_.request_stop();  // wakes the waits (they wait on its token); cancels the reads
  threads_.clear();          // joins
}

void RangeAhead::Loop() {
  const std::stop_token stop = own_stop_.get_token();
  for (;;) {
    size_t i;
    {
      std::unique_lock lock(mu_);
      if (next_ >= chunks_) return;
      i = next_++;
      // Not more than `window` ranges ahead of the one being read.
      if (!cv_.wait(lock, stop, [&] { return i < current_ + window_; })) return;
    }
    const uint64_t offset = uint64_t{i} * chunk_;
    Range r;
    {
      // A buffer handed out before, when there is one: no allocation (and page faults) per
      // range.
      std::lock_guard lock(mu_);
      if (!spare_.empty()) {
        r.bytes = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    r.bytes.resize(static_cast<size_t>(std::min<uint64_t>(chunk_, object_.size - offset)));
    bool follower = false;
    if (gate_ != nullptr && !gate_->Begin(stop, follower)) return;
    r.status = src_.ReadAt(object_.key, offset, r.bytes, object_.etag, stop);
    if (gate_ != nullptr) gate_->End(follower);
    std::lock_guard lock(mu_);
    ready_[i] = std::move(r);
    cv_.notify_all();
  }
}

RangeAhead::Range* RangeAhead::Current(std::unique_lock<std::mutex>& lock, bool& stopped) {
  stopped = false;
  if (current_ >= chunks_) return nullptr;
  if (!cv_.wait(lock, own_stop_.get_token(), [&] { return ready_.count(current_) != 0; })) {
    stopped = true;
    return nullptr;
  }
  return &ready_[current_];
}

void RangeAhead::Advance(size_t n) {
  offset_ += n;
  if (offset_ >= ready_[current_].bytes.size()) {
    spare_.push_back(std::move(ready_[current_].bytes));
    ready_.erase(current_);
    ++current_;
    offset_ = 0;
    cv_.notify_all();
  }
}

Result<size_t> RangeAhead::Read(std::span<std::byte> out) {
  std::unique_lock lock(mu_);
  if (out.empty()) return size_t{0};
  bool stopped;
  Range* r = Current(lock, stopped);
  if (stopped) return Status::Cancelled("pack cancelled");
  if (r == nullptr) return size_t{0};
  if (!r->status.ok()) return r->status;
  const size_t n = std::min(out.size(), r->bytes.size() - offset_);
  std::memcpy(out.data(), r->bytes.data() + offset_, n);
  Advance(n);
  return n;
}

Result<std::span<const std::byte>> RangeAhead::Lend() {
  std::unique_lock lock(mu_);
  bool stopped;
  Range* r = Current(lock, stopped);
  if (stopped) return Status::Cancelled("pack cancelled");
  if (r == nullptr) return std::span<const std::byte>();
  if (!r->status.ok()) return r->status;
  // The range stays in ready_ (a map: other ranges arriving do not move it) until Consume
  // hands its last byte out.
  return std::span<const std::byte>(r->bytes).subspan(offset_);
}

void RangeAhead::Consume(size_t n) {
  std::lock_guard lock(mu_);
  if (current_ >= chunks_ || ready_.count(current_) == 0) return;
  Advance(std::min(n, ready_[current_].bytes.size() - offset_));
}

}  // namespace ferry::transport
