// The archive byte seams over a storage::Backend: an object's bytes as an entry body
// (BackendChunkSource), an archive stored as an object read by ranged reads
// (BackendRangeSource), and an archive written as an object through a chunked write
// (BackendSink). They let `ferry archive` pack from and read archives on any location.
// HeaderOf: an object's entry header (all its metadata) as both packers write it.
//
// Thread-safety: each object is used by one thread at a time; the Backend may be shared.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "archive/format.h"
#include "archive/io.h"
#include "storage/backend.h"
#include "transfer/executor.h"

namespace ferry::archive {

// Reads `object` (its size and ETag as listed: a changed object fails with
// kFailedPrecondition on stores with ETags) in ranged reads of up to `chunk` bytes.
class BackendChunkSource : public ChunkSource {
 public:
  BackendChunkSource(storage::Backend& backend, const storage::ObjectInfo& object,
                     std::stop_token stop)
      : backend_(backend), object_(object), stop_(std::move(stop)) {}
  Result<size_t> Read(std::span<std::byte> out) override;

 private:
  storage::Backend& backend_;
  const storage::ObjectInfo& object_;
  std::stop_token stop_;
  uint64_t pos_ = 0;
};

// How a BackendRangeSource turns a reader's reads into requests. Opening an archive reads its
// header, its trailer and its manifest: three round trips. With read-ahead, an archive of at
// most `whole_below` bytes is fetched whole by the first read (one request serves the opening
// and every frame), and the first read that lies in the last `tail` bytes (the trailer, read
// right after the header) fetches all of them, so that a manifest that fits there costs no
// request of its own: two requests open a larger archive, for at most `tail` bytes more. A read
// that ends in what was read ahead asks the store only for its bytes before it.
// None by default: the unpacker's reads are what the cost model counts
// (transport/staging_requests.h).
struct ReadAhead {
  uint64_t whole_below = 0;
  uint64_t tail = 0;
};
// For reads of a few entries out of archives: restore, catalog rebuild, `ferry archive ls|cat`.
inline constexpr ReadAhead kReadAheadToOpen{.whole_below = 1 << 20, .tail = 64 << 10};

// An archive that is the object `key` of `backend`, `size` bytes long. requests() and
// bytes_requested() count what was asked of the store (reads served from read-ahead are not).
class BackendRangeSource : public RangeSource {
 public:
  BackendRangeSource(storage::Backend& backend, std::string key, uint64_t size,
                     std::stop_token stop, ReadAhead read_ahead = {})
      : backend_(backend),
        key_(std::move(key)),
        size_(size),
        stop_(std::move(stop)),
        read_ahead_(read_ahead) {}
  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) override;
  uint64_t requests() const { return requests_; }
  uint64_t bytes_requested() const { return bytes_requested_; }

 private:
  Status Fetch(uint64_t offset, std::span<std::byte> out);

  storage::Backend& backend_;
  std::string key_;
  uint64_t size_ = 0;
  std::stop_token stop_;
  ReadAhead read_ahead_;
  std::vector<std::byte> kept_;  // bytes [kept_from_, kept_from_ + kept_.size()) read ahead
  uint64_t kept_from_ = 0;
  bool read_ahead_done_ = false;
  uint64_t requests_ = 0;
  uint64_t bytes_requested_ = 0;
};

// The part size of every archive ferry writes to a store, its one rule: S3's least part
// (5 MiB), so that the first part is uploaded while the rest is still being packed, unless the
// archive may outgrow 10,000 such parts: `expected_bytes` above 45 GiB, or unknown (0: an
// `archive pack` of a whole tree), takes parts of expected/9,000 (at least 16 MiB when unknown,
// which holds archives up to 156 GiB).
uint64_t ArchivePartSize(uint64_t expected_bytes);

// Writes an archive as the object `key` of `backend` (features().chunked_write) in parts of
// `part_size` bytes; the object appears only at Close (or, for an archive written in one PUT,
// at SendLast). Destroyed without Close: aborted.
// The archive's size is unknown when the write opens (WriteSpec::size 0), so the store's
// chunked writes must not need it up front: S3 multipart uploads. A local folder's chunked
// write sizes its file at open: write local archives with FileSink.
//
// Latency over a slow link (each request a round trip and the store's answer):
//  - Up to `parts_in_flight` full parts upload at once, each a priority task of the process's
//    executor (a request counted in its concurrency), while Write fills the next: one part at
//    a time left the link idle after every part (about 0.1 s per 5 MiB part over 20 Mbit/s and
//    30 ms). Write blocks while that many are under way.
//  - The chunked write opens as a task too, beside the packing of the first part.
//  - `likely_one_part`: the caller expects the archive to fit one part (e.g. its raw bytes are
//    fewer): nothing is opened until then, and an archive that does fit one part is written
//    with one PUT at SendLast (one request instead of open, part and completion).
// Errors: the first failure (the open's or a part's) is returned by every later Write,
// SendLast, FlushLast and Close. Memory: (parts_in_flight + 1) parts, counted in the
// executor's ByteBudget (overdrawn, never waited for: the bytes that would free it may be
// waiting for this sink) from the first byte of each until the sink is destroyed.
// Write, SendLast, FlushLast and Close must not be called from a worker of the executor (they
// wait for its tasks).
class BackendSink : public ByteSink {
 public:
  struct Options {
    int parts_in_flight = 2;
    bool likely_one_part = false;
    // Called with true when a part starts with none under way, with false when the last one
    // under way ends (from the part's task): a caller that orders several sinks on one link
    // counts the parts under way as bytes it is sending (transport::UploadOrder::SetSending).
    std::function<void(bool sending)> on_sending = nullptr;
  };
  // `executor` (the process's, required) runs the uploads and holds the parts' bytes in its
  // budget; it outlives the sink. Not owned.
  static Result<std::unique_ptr<BackendSink>> Open(storage::Backend& backend, std::string key,
                                                   uint64_t part_size,
                                                   transfer::Executor& executor,
                                                   std::stop_token stop);
  static Result<std::unique_ptr<BackendSink>> Open(storage::Backend& backend, std::string key,
                                                   uint64_t part_size,
                                                   transfer::Executor& executor,
                                                   std::stop_token stop, Options options);
  ~BackendSink() override;  // waits for the parts under way; the write is then aborted
  Status Write(std::span<const std::byte> data) override;
  // Starts the last part (all of an archive smaller than a part) and returns without waiting
  // for the parts under way: once it returns, every byte written so far is on its way, so a
  // caller that orders the bytes of several sinks on one link lets the next sink send while
  // this one's last bytes cross and it completes. An archive written in one PUT is complete.
  Status SendLast();
  // SendLast, then waits for every part under way: every byte written so far is then on the
  // store. The object is not completed.
  Status FlushLast();
  // FlushLast, then completes the object.
  Status Close();
  // After a Close that succeeded: the archive was written through a chunked write (a multipart
  // upload), not in one PUT.
  bool wrote_in_parts() const { return !put_whole_; }

 private:
  struct InFlight;
  BackendSink(storage::Backend& backend, std::string key, uint64_t part_size,
              transfer::Executor& executor, std::stop_token stop, Options options);
  // Makes sure the chunked write is open (waiting for the opening task, or opening now).
  Status EnsureWriter();
  // Starts the upload of part_ (waiting first for the oldest part under way if
  // parts_in_flight_ are); the first failure of a part waited for.
  Status StartPart();
  // Waits for the oldest part under way; the first failure so far.
  Status WaitOldest();
  Status WaitAll();
  // part_ can hold a whole part, its bytes counted in the budget.
  void ReservePart();
  storage::Backend& backend_;
  const std::string key_;
  storage::WriteSpec spec_;
  uint64_t part_size_;
  transfer::Executor& executor_;
  std::stop_token stop_;
  Options options_;
  std::unique_ptr<transfer::TaskQueue> tasks_;  // the open and the parts; waited for first
  std::unique_ptr<storage::ChunkWriter> writer_;
  bool put_whole_ = false;  // written in one PUT: nothing to complete
  std::vector<std::byte> part_;
  std::vector<std::vector<std::byte>> spare_;  // buffers of finished parts, for the next ones
  std::vector<std::unique_ptr<InFlight>> in_flight_;  // oldest first
  int part_number_ = 0;
  uint64_t offset_ = 0;    // of part_'s first byte in the object
  uint64_t budgeted_ = 0;  // bytes of the part buffers counted in the executor's budget
  Status error_;           // the first failure: every later call returns it
  std::mutex mu_;
  std::condition_variable cv_;  // a part ended, or the open
  bool open_tasked_ = false;  // the open was given to a task EnsureWriter has not waited for
  bool opening_ = false;      // GUARDED_BY(mu_): the open is a task that has not ended
  Result<std::unique_ptr<storage::ChunkWriter>> opened_ =
      Status::Unavailable("not opened");  // GUARDED_BY(mu_) while opening_
  int under_way_ = 0;  // GUARDED_BY(mu_): parts whose upload has not ended
};

// The entry header of `object` (with details): key, size, version id, ETag, source mtime,
// content headers, user metadata, tags, storage class and object lock (what the details say;
// applied to a restored object only when asked: transport::UnpackOptions::preserve_lock).
EntryHeader HeaderOf(const storage::ObjectInfo& object);

}  // namespace ferry::archive
