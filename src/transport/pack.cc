#include "transport/pack.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "archive/backend_io.h"
#include "checksum/checksum.h"
#include "transfer/verify.h"
#include "transport/prefetch.h"

namespace ferry::transport {
namespace {

// Seconds on `clock` since `t`.
double Since(const Clock& clock, Clock::MonoTime t) {
  return std::chrono::duration<double>(clock.MonoNow() - t).count();
}

// The reads of one pack in the order of its UploadOrder (upload_order.h): free while no pack
// ahead of it is still reading, else a few at a time shared with the other packs behind.
class OrderedReads : public ReadGate {
 public:
  OrderedReads(UploadOrder& order, uint64_t ticket) : order_(order), ticket_(ticket) {}
  bool Begin(std::stop_token stop, bool& follower) override {
    std::stop_callback wake(stop, [this] { order_.Wake(); });
    return order_.BeginRead(ticket_, [&] { return stop.stop_requested(); }, follower);
  }
  bool TryBegin(bool& follower) override { return order_.TryBeginRead(ticket_, follower); }
  void End(bool follower) override { order_.EndRead(follower); }

 private:
  UploadOrder& order_;
  const uint64_t ticket_;
};

// The archive's bytes handed to `sink` on a thread of their own, so that the sink's slow writes
// (a part uploaded across the link once it fills) overlap the packing of the next entries. At
// most `limit` bytes wait (a Write bigger than that waits for the queue to empty). A failed
// sink write is returned by the next Write and by Drain; what is queued then is dropped. With
// an `order` (may be null), each piece waits for the turn of the pack's `ticket`
// (upload_order.h). The bytes waiting are held in `budget` (the process's: overdrawn, never
// waited for, as the bytes that would free it may be waiting for this pack) until the sink
// took them.
class UploadPipe : public archive::ByteSink {
 public:
  UploadPipe(archive::ByteSink& sink, size_t limit, UploadOrder* order, uint64_t ticket,
             const Clock& clock, transfer::ByteBudget& budget)
      : sink_(sink),
        limit_(std::max<size_t>(1, limit)),
        order_(order),
        ticket_(ticket),
        clock_(clock),
        budget_(budget),
        thread_([this] { Loop(); }) {}
  ~UploadPipe() override {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      DropQueuedLocked();  // an archive given up: nothing more to send
    }
    cv_.notify_all();
    if (order_ != nullptr) order_->Wake();
    thread_.join();
    if (order_ != nullptr) order_->SetReady(ticket_, false);
  }
  UploadPipe(const UploadPipe&) = delete;
  UploadPipe& operator=(const UploadPipe&) = delete;

  Status Write(std::span<const std::byte> data) override {
    if (data.empty()) return Status::Ok();
    std::unique_lock lock(mu_);
    const auto t = clock_.MonoNow();
    cv_.wait(lock, [&] { return !error_.ok() || queued_ == 0 || queued_ + data.size() <= limit_; });
    waited_ += Since(clock_, t);
    if (!error_.ok()) return error_;
    if (queue_.empty() || queue_.back().size() + data.size() > kPiece) queue_.emplace_back();
    queue_.back().insert(queue_.back().end(), data.begin(), data.end());
    if (queued_ == 0 && order_ != nullptr) order_->SetReady(ticket_, true);
    queued_ += data.size();
    budget_.Overdraw(data.size());
    cv_.notify_all();
    return Status::Ok();
  }

  // Waits until the sink took every byte written; the first error of the sink.
  Status Drain() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !error_.ok() || queued_ == 0; });
    return error_;
  }

  double waited() {
    std::lock_guard lock(mu_);
    return waited_;
  }

 private:
  // Bytes per call of the sink: the writer's output comes in small pieces.
  static constexpr size_t kPiece = 1u << 20;

  // Forgets the bytes queued (not the piece being written). REQUIRES: mu_ held.
  void DropQueuedLocked() {
    size_t dropped = 0;
    for (const auto& p : queue_) dropped += p.size();
    queue_.clear();
    queued_ -= dropped;
    budget_.Release(dropped);
  }

  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing
      std::vector<std::byte> piece = std::move(queue_.front());
      queue_.pop_front();
      Status s = error_;
      if (s.ok()) {
        lock.unlock();
        if (order_ != nullptr) order_->WaitTurn(ticket_, [this] { return closing_.load(); });
        s = closing_ ? Status::Cancelled("archive given up") : sink_.Write(piece);
        lock.lock();
      }
      queued_ -= piece.size();
      budget_.Release(piece.size());
      if (!s.ok() && error_.ok()) error_ = s;
      if (!error_.ok()) DropQueuedLocked();  // nobody will take them
      if (queued_ == 0 && order_ != nullptr) order_->SetReady(ticket_, false);
      cv_.notify_all();
    }
  }

  archive::ByteSink& sink_;
  const size_t limit_;
  UploadOrder* const order_;
  const uint64_t ticket_;
  const Clock& clock_;  // times Write's waits
  transfer::ByteBudget& budget_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::byte>> queue_;  // GUARDED_BY(mu_)
  size_t queued_ = 0;     // GUARDED_BY(mu_): bytes queued or being written
  Status error_;          // GUARDED_BY(mu_)
  std::atomic<bool> closing_ = false;  // set under mu_; read by the order's wait too
  double waited_ = 0;     // GUARDED_BY(mu_): seconds Write waited for room
  std::thread thread_;
};

// A ChunkSource that times the reads of `inner` (the writer waiting for the source).
// The bytes of a large object as the archive takes them, checked against what the object
// declares (its CRC32C, an MD5 ETag, or a multipart ETag in the part layout the store tells) as
// they stream by. At the end of the object a mismatch fails the read
// (kDataLoss: corrupted on the way): the pack fails and is done again, so its archive never
// vouches for wrong bytes with a CRC of its own. No check that fits is no check (as sync, the
// object is then only as good as the reads pinned to its ETag).
class CheckedSource : public archive::ChunkSource {
 public:
  CheckedSource(archive::ChunkSource& inner, const storage::ObjectInfo& object,
                std::optional<uint64_t> exact_part)
      : inner_(inner), check_(transfer::CheckOf(object)), key_(object.key) {
    if (check_.md5) md5_ = std::make_unique<checksum::Md5Hasher>();
    // A guessed layout that does not make the ETag proves nothing either way: only the
    // store's own is hashed (no MD5 work per byte for a check that cannot refuse).
    if (!check_.crc32c && !check_.md5 && check_.multipart && exact_part && *exact_part > 0) {
      layout_.part = *exact_part;
    }
  }
  Result<size_t> Read(std::span<std::byte> out) override {
    FERRY_ASSIGN_OR_RETURN(size_t n, inner_.Read(out));
    FERRY_RETURN_IF_ERROR(Seen(out.first(n)));
    return n;
  }
  // Whether what the object declares proved the bytes (its CRC32C, an MD5 ETag, or a
  // multipart ETag in a layout the store told); else the caller reads them again (ReadsAgree).
  bool proves() const { return check_.crc32c || md5_ || layout_.part != 0; }
  // Whether the end of the object found bytes that do not match what it declares: read again,
  // the same bytes are the object's own (Packer::AddBatch).
  bool refused() const { return refused_; }
  uint32_t crc() const { return crc_; }  // of the bytes seen
  bool CanLend() const override { return inner_.CanLend(); }
  Result<std::span<const std::byte>> Lend() override {
    FERRY_ASSIGN_OR_RETURN(lent_, inner_.Lend());
    if (lent_.empty()) FERRY_RETURN_IF_ERROR(Seen(lent_));
    return lent_;
  }
  void Consume(size_t n) override {
    (void)Seen(lent_.first(n));  // the end (an empty lend or read) reports a mismatch
    inner_.Consume(n);
  }

 private:
  struct Layout {
    uint64_t part = 0;
    uint64_t in_part = 0;
    std::unique_ptr<checksum::Md5Hasher> hasher = std::make_unique<checksum::Md5Hasher>();
    std::vector<checksum::Md5Digest> digests;
  };

  // Feeds `data`; empty data is the end of the object: the verdict.
  Status Seen(std::span<const std::byte> data) {
    if (data.empty()) return Verdict();
    crc_ = checksum::Crc32c(data, crc_);
    if (md5_) md5_->Update(data);
    if (layout_.part != 0) {
      Layout& l = layout_;
      std::span<const std::byte> rest = data;
      while (!rest.empty()) {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(rest.size(), l.part - l.in_part));
        l.hasher->Update(rest.first(take));
        l.in_part += take;
        rest = rest.subspan(take);
        if (l.in_part == l.part) {
          l.digests.push_back(l.hasher->Finish());
          l.hasher = std::make_unique<checksum::Md5Hasher>();
          l.in_part = 0;
        }
      }
    }
    return Status::Ok();
  }
  Status Verdict() {
    if (checked_) return Status::Ok();
    checked_ = true;
    // ferry's CRC32C is a writer's claim (docs/design/integrity.md §8): bytes that match it
    // are proven, but one that does not match may be stale; the MD5 ETag (the store's) then
    // decides, and only without it does the claim refuse the bytes.
    bool good = true;
    if (check_.crc32c && *check_.crc32c == crc_) {
      good = true;
    } else if (md5_) {
      good = md5_->Finish() == *check_.md5;
    } else if (check_.crc32c) {
      good = false;
    } else if (layout_.part != 0) {
      if (layout_.in_part > 0) layout_.digests.push_back(layout_.hasher->Finish());
      good = transfer::MultipartDigest(layout_.digests) == *check_.multipart;
    }
    if (good) return Status::Ok();
    refused_ = true;
    return Status::DataLoss("bytes read from " + key_ + " do not match the checksum it "
                            "declares (corrupted on the way); the pack is done again");
  }

  archive::ChunkSource& inner_;
  const transfer::SourceCheck check_;
  const std::string key_;
  std::unique_ptr<checksum::Md5Hasher> md5_;
  Layout layout_;  // part 0: no multipart check
  uint32_t crc_ = 0;
  std::span<const std::byte> lent_;
  bool checked_ = false;
  bool refused_ = false;
};

// The object read once more, in ranged reads pinned to its ETag, against `first_crc` (the
// CRC32C of the bytes the archive took): for an object nothing declared can prove (a multipart
// ETag in a layout the store does not tell, as RGW's), two reads that disagree were corrupted
// on the way (kDataLoss: the pack fails and is done again). Two reads corrupted alike do not
// happen; a byte flipped on the way is never archived under a CRC of its own.
Result<uint32_t> CrcOfAnotherRead(storage::Backend& src, const storage::ObjectInfo& object,
                                  const PackOptions& options, std::stop_token stop) {
  RangeAhead again(src, object, *options.executor,
                   {.chunk = options.range_size,
                    .reads = options.range_reads,
                    .window = options.range_window,
                    .by_version = options.versions},
                   stop);
  uint32_t crc = 0;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(std::span<const std::byte> lent, again.Lend());
    if (lent.empty()) break;
    crc = checksum::Crc32c(lent, crc);
    again.Consume(lent.size());
  }
  return crc;
}

Status ReadsAgree(storage::Backend& src, const storage::ObjectInfo& object,
                  const PackOptions& options, uint32_t first_crc, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(const uint32_t crc, CrcOfAnotherRead(src, object, options, stop));
  if (crc == first_crc) return Status::Ok();
  return Status::DataLoss("two reads of " + object.key + " gave different bytes (corrupted on "
                          "the way); the pack is done again");
}

// `object`, whose bytes (CRC32C `crc`) what it declares refused with `refusal`, read again: the
// same bytes are its own (kDataLoss holding kReadTwiceAlike: PackOptions::refused), others were
// corrupted on the way (`refusal`: the pack is done again).
Status RefusedOnce(storage::Backend& src, const storage::ObjectInfo& object,
                   const PackOptions& options, uint32_t crc, const Status& refusal,
                   std::stop_token stop) {
  Result<uint32_t> again = CrcOfAnotherRead(src, object, options, stop);
  if (!again.ok() || *again != crc) return refusal;
  return Status::DataLoss(ReadTwiceAlikeMessage(object.key, crc));
}

class TimedSource : public archive::ChunkSource {
 public:
  TimedSource(archive::ChunkSource& inner, double& seconds, const Clock& clock)
      : inner_(inner), seconds_(seconds), clock_(clock) {}
  Result<size_t> Read(std::span<std::byte> out) override {
    const auto t = clock_.MonoNow();
    auto n = inner_.Read(out);
    seconds_ += Since(clock_, t);
    return n;
  }
  bool CanLend() const override { return inner_.CanLend(); }
  Result<std::span<const std::byte>> Lend() override {
    const auto t = clock_.MonoNow();
    auto lent = inner_.Lend();
    seconds_ += Since(clock_, t);
    return lent;
  }
  void Consume(size_t n) override { inner_.Consume(n); }

 private:
  archive::ChunkSource& inner_;
  double& seconds_;
  const Clock& clock_;
};

}  // namespace

archive::EntryHeader HeaderOf(const storage::ObjectInfo& o) {
  archive::EntryHeader h = archive::HeaderOf(o);
  // ferry's own entries are written again by the unpacker from the entry's checked CRC32C and
  // mtime, never copied: a stale one would lie about the bytes.
  h.metadata.erase(storage::kMetaCrc32c);
  h.metadata.erase(storage::kMetaMtime);
  return h;
}

// One archive being packed (pack.h): the pipe to the sink outlives the writer, which writes
// to it.
struct Packer::State {
  State(storage::Backend& src, archive::ByteSink& sink, const PackOptions& options,
        std::stop_token stop)
      : src(src),
        options(options),
        stop(std::move(stop)),
        clock(ClockOr(options.clock)),
        started(clock.MonoNow()),
        pipe(sink, options.upload_ahead, options.order, options.order_ticket, clock,
             options.executor->budget()) {
    if (options.order != nullptr) ordered.emplace(*options.order, options.order_ticket);
  }

  storage::Backend& src;
  const PackOptions options;
  const std::stop_token stop;
  const Clock& clock;
  const Clock::MonoTime started;
  UploadPipe pipe;
  std::unique_ptr<archive::Writer> writer;
  std::optional<OrderedReads> ordered;
  size_t added = 0;  // objects of earlier batches: the index header_of is given
  bool failed = false;
  PackResult result;
};

Packer::Packer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Packer::~Packer() = default;

Result<std::unique_ptr<Packer>> Packer::Open(storage::Backend& src, archive::ByteSink& sink,
                                             const PackOptions& options, std::stop_token stop) {
  if (options.executor == nullptr) return Status::InvalidArgument("PackObjects: no executor");
  auto state = std::make_unique<State>(src, sink, options, std::move(stop));
  archive::WriterOptions writing = options.writer;
  if (writing.clock == nullptr) writing.clock = options.clock;
  FERRY_ASSIGN_OR_RETURN(state->writer, archive::Writer::Open(state->pipe, writing));
  return std::unique_ptr<Packer>(new Packer(std::move(state)));
}

Status Packer::Add(std::span<const storage::ObjectInfo> objects) {
  State& st = *state_;
  if (st.failed) return Status::FailedPrecondition("the pack failed before");
  Status s = AddBatch(objects);
  if (!s.ok()) st.failed = true;
  st.added += objects.size();
  return s;
}

Status Packer::AddBatch(std::span<const storage::ObjectInfo> objects) {
  State& st = *state_;
  const PackOptions& options = st.options;
  Prefetcher ahead(st.src, objects, *options.executor,
                   {.small_limit = options.whole_read_limit,
                    .reads = options.reads,
                    .window = options.read_window,
                    .window_bytes = options.read_window_bytes,
                    .gate = st.ordered ? &*st.ordered : nullptr,
                    .by_version = options.versions},
                   st.stop);
  for (size_t i = 0; i < objects.size(); ++i) {
    const storage::ObjectInfo& listed = objects[i];
    if (st.stop.stop_requested()) return Status::Cancelled("pack cancelled");
    if (!listed.unreadable.empty()) {
      return Status::Unavailable(listed.key + ": " + listed.unreadable);
    }
    FERRY_RETURN_IF_ERROR(listed.size <= options.whole_read_limit ? AddWhole(i, listed, ahead)
                                                                  : AddInRanges(i, listed));
  }
  return Status::Ok();
}

// The entry's header: the caller's, else the object's own with `destinations`.
archive::EntryHeader Packer::HeaderFor(size_t i, const storage::ObjectInfo& object) const {
  const State& st = *state_;
  if (st.options.header_of) return st.options.header_of(st.added + i, object);
  archive::EntryHeader h = HeaderOf(object);
  h.destinations = st.options.destinations;
  return h;
}

// One read gave the bytes and every detail (tags too when the object has any).
Status Packer::AddWhole(size_t i, const storage::ObjectInfo& listed, Prefetcher& ahead) {
  State& st = *state_;
  const auto t = st.clock.MonoNow();
  ReadObject r = ahead.Take(i);
  st.result.read_wait_seconds += Since(st.clock, t);
  if (r.vanished && !st.options.versions) {
    ++st.result.vanished;
    return Status::Ok();
  }
  if (r.refused_alike && st.options.refused) st.options.refused(st.added + i);
  FERRY_RETURN_IF_ERROR(r.status);
  archive::StringChunkSource body(r.bytes);
  Status s = st.writer->Add(HeaderFor(i, r.object), body);
  ahead.GiveBack(std::move(r.bytes));
  return s.WithContext(listed.key);
}

// The listing has no metadata: Stat has it all, and pins the ETag the reads check. A version
// comes with its details.
Result<std::optional<storage::ObjectInfo>> Packer::DetailsOfLarge(
    const storage::ObjectInfo& listed) {
  State& st = *state_;
  const bool versions = st.options.versions;
  const auto t = st.clock.MonoNow();
  Result<storage::ObjectInfo> object =
      versions ? Result<storage::ObjectInfo>(listed)
               : st.src.Stat(listed.key, st.src.features().tags, st.stop);
  st.result.read_wait_seconds += Since(st.clock, t);
  if (!object.ok() && object.status().code() == ErrorCode::kNotFound) {
    return std::optional<storage::ObjectInfo>();  // gone from the source
  }
  FERRY_RETURN_IF_ERROR(object.status().WithContext(listed.key));
  object->key = listed.key;
  if (!versions && object->metadata.count(storage::kMetaMtime) == 0 &&
      std::chrono::duration_cast<std::chrono::seconds>(listed.mtime.time_since_epoch()) ==
          std::chrono::duration_cast<std::chrono::seconds>(object->mtime.time_since_epoch())) {
    object->mtime = listed.mtime;  // the listing's milliseconds, as a plain copy keeps them
  }
  return std::optional<storage::ObjectInfo>(std::move(object).value());
}

Status Packer::AddInRanges(size_t i, const storage::ObjectInfo& listed) {
  State& st = *state_;
  storage::Backend& src = st.src;
  const PackOptions& options = st.options;
  const bool versions = options.versions;
  // A disk's reads do not cross a network: a large file is read on the writer's thread into its
  // chunk (read ahead from the page cache by tasks, it cost 5-10% more CPU and wall time), and
  // two reads of it would only agree.
  const bool local = src.features().cheap_reads;
  FERRY_ASSIGN_OR_RETURN(std::optional<storage::ObjectInfo> details, DetailsOfLarge(listed));
  if (!details) {
    ++st.result.vanished;
    return Status::Ok();
  }
  const storage::ObjectInfo& object = *details;
  std::optional<uint64_t> exact_part;
  if (!local && transfer::CheckOf(object).multipart) {
    Result<std::optional<uint64_t>> first = src.FirstPartSize(object, st.stop);
    if (first.ok()) exact_part = *first;
  }
  std::optional<archive::BackendChunkSource> inline_reads;
  std::optional<RangeAhead> ranges;
  archive::ChunkSource* reads = nullptr;
  if (local && !versions) {
    reads = &inline_reads.emplace(src, object, st.stop);
  } else {
    reads = &ranges.emplace(src, object, *options.executor,
                            RangeAheadOptions{.chunk = options.range_size,
                                              .reads = options.range_reads,
                                              .window = options.range_window,
                                              .gate = st.ordered ? &*st.ordered : nullptr,
                                              .by_version = versions},
                            st.stop);
  }
  CheckedSource checked(*reads, object, exact_part);
  TimedSource body(checked, st.result.read_wait_seconds, st.clock);
  Status s = st.writer->Add(HeaderFor(i, object), body);
  if (!s.ok() && checked.refused()) {
    // Refused at its end: corrupted on the way, or the object's own bytes? A second read
    // tells (the archive is failed either way: its entry was written).
    s = RefusedOnce(src, object, options, checked.crc(), s, st.stop);
    if (s.message().find(kReadTwiceAlike) != std::string::npos && options.refused) {
      options.refused(st.added + i);
    }
    return s;
  }
  if (s.ok() && !checked.proves() && !local) {
    const auto t = st.clock.MonoNow();
    s = ReadsAgree(src, object, options, checked.crc(), st.stop);
    st.result.read_wait_seconds += Since(st.clock, t);
    ++st.result.read_twice;
  }
  return s.WithContext(listed.key);
}

Result<PackResult> Packer::Finish() {
  State& st = *state_;
  if (st.failed) return Status::FailedPrecondition("the pack failed before");
  st.failed = true;  // once
  // Every object is read: the packs behind this one read at full width from now on.
  if (st.options.order != nullptr) st.options.order->DoneReading(st.options.order_ticket);
  FERRY_ASSIGN_OR_RETURN(st.result.summary, st.writer->Finish());
  const auto drain = st.clock.MonoNow();
  FERRY_RETURN_IF_ERROR(st.pipe.Drain());
  st.result.drain_seconds = Since(st.clock, drain);
  st.result.sink_wait_seconds = st.pipe.waited();
  st.result.seconds = Since(st.clock, st.started);
  return st.result;
}

Result<PackResult> PackObjects(storage::Backend& src, std::span<const storage::ObjectInfo> objects,
                               archive::ByteSink& sink, const PackOptions& options,
                               std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<Packer> packer,
                         Packer::Open(src, sink, options, std::move(stop)));
  FERRY_RETURN_IF_ERROR(packer->Add(objects));
  return packer->Finish();
}

Status CloseInTurn(UploadOrder* order, uint64_t ticket, const std::function<Status()>& close,
                   std::stop_token stop) {
  if (order == nullptr) return close();
  order->SetReady(ticket, true);
  {
    std::stop_callback wake(stop, [order] { order->Wake(); });
    order->WaitTurn(ticket, [&] { return stop.stop_requested(); });
  }
  Status s = stop.stop_requested() ? Status::Cancelled("pack cancelled") : close();
  order->SetReady(ticket, false);
  return s;
}

}  // namespace ferry::transport
