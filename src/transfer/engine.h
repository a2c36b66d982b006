// TransferEngine: executes copy and delete actions between two backends under one global
// budget of requests in flight (`concurrency` workers, each with at most one request open) and
// buffer bytes (ByteBudget). Objects below the multipart threshold are copied whole (one GET +
// one PUT, or one server-side CopyObject); larger ones are split into parts that run in
// parallel with the parts of other objects. Parts of already-started objects are always taken
// before new objects, which bounds the number of open uploads.
//
// Integrity: ferry's full-object CRC32C is computed while data streams through (per part, then
// combined) and recorded in x-amz-meta-ferry-crc32c; when the source declares a checksum (its
// own ferry-crc32c, or a pre-pass over a local file) the streamed value is compared before the
// upload is completed, and a mismatch aborts it. A single-part source MD5 ETag is compared with
// the ETag the destination returns (the destination computed it from the bytes it stored).
//
// Threading: Copy/Delete are called by one producer thread (the planner); Wait blocks it until
// all submitted work is done. Failures never throw: they are counted in Stats.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "plan/decide.h"
#include "storage/backend.h"
#include "transfer/budget.h"
#include "transfer/journal.h"
#include "transfer/stats.h"

namespace ferry::transfer {

struct TransferOptions {
  int concurrency = 64;                   // requests in flight, at most
  uint64_t memory_budget = 256ull << 20;  // buffer bytes, at most
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t part_size = 16ull << 20;  // grown when an object would need more parts than allowed
  // Server-side copies up to this size use one CopyObject; larger ones UploadPartCopy.
  uint64_t server_side_copy_limit = 5ull << 30;
  std::string storage_class;         // override for every written object; "" keeps the source's
  bool dry_run = false;
  bool verbose = false;                // one line per action on stderr
  plan::DecideOptions decide;          // used again after details were fetched
};

// One object the planner wants copied, or wants looked at closer (need_details).
struct CopyRequest {
  storage::ObjectInfo src;
  std::optional<storage::ObjectInfo> dst;
  bool need_details = false;
  std::string reason;
  // Called exactly once when the object is finished: OK (copied, or found unchanged after a
  // closer look) or the failure. May be empty.
  std::function<void(const Status&)> done;
  // Checkpoints of a multipart copy (may be null: no resume).
  std::shared_ptr<UploadJournal> journal;
  // Cancels this object's work alone (e.g. its job's lease was lost): requests in flight stop,
  // an unfinished upload is kept for the journal (or aborted without one), and `done` gets
  // kCancelled. Default: never.
  std::stop_token cancel;
};

class TransferEngine {
 public:
  TransferEngine(TransferOptions options, storage::Backend& src, storage::Backend& dst,
                 Stats& stats);
  ~TransferEngine();  // requests stop and joins the workers
  TransferEngine(const TransferEngine&) = delete;
  TransferEngine& operator=(const TransferEngine&) = delete;

  // Queues one object; blocks while the queue is full (bounded memory).
  void Copy(CopyRequest request);
  // Queues deletes of destination keys (batched by the backend).
  void Delete(std::vector<std::string> keys);
  // Blocks until every queued action has finished.
  void Wait();
  // Cancels queued and running work (Ctrl-C).
  void Cancel() { stop_.request_stop(); }

  const ByteBudget& budget() const { return budget_; }
  const TransferOptions& options() const { return options_; }

 private:
  struct Upload;  // one multipart object in flight (multipart.cc)
  using Task = std::function<void(std::stop_token)>;

  void Push(Task task, bool priority);
  void WorkerLoop(std::stop_token stop);

  // Object-level steps (copy_object.cc, multipart.cc).
  void RunCopy(CopyRequest& request, std::stop_token stop);
  Status Refresh(CopyRequest& request, std::stop_token stop, bool& done);
  void Skipped(const CopyRequest& request);
  // Runs `fn` with a token that stops when either the engine or the request is cancelled.
  template <class Fn>
  static void WithJointStop(std::stop_token engine, std::stop_token request, Fn&& fn) {
    if (!request.stop_possible()) return fn(engine);
    std::stop_source joint;
    if (request.stop_requested() || engine.stop_requested()) joint.request_stop();
    std::stop_callback on_engine(engine, [&joint] { joint.request_stop(); });
    std::stop_callback on_request(request, [&joint] { joint.request_stop(); });
    fn(joint.get_token());
  }
  Status CopyWhole(const storage::ObjectInfo& src, std::stop_token stop);
  Status CopyWholeOnce(const storage::ObjectInfo& listed, std::span<std::byte> data,
                       std::stop_token stop);
  Status CopyServerSide(const storage::ObjectInfo& src, std::stop_token stop);
  // On success the object is finished later by the worker completing its last part.
  Status StartMultipart(CopyRequest& request, bool server_side, std::stop_token stop);
  Status OpenOrResume(Upload& upload, std::stop_token stop);
  void RunPart(const std::shared_ptr<Upload>& upload, int part_number, std::stop_token stop);
  void FinishUpload(const std::shared_ptr<Upload>& upload, std::stop_token stop);
  Status CheckLayout(Upload& upload, std::stop_token stop);
  void RunDelete(const std::vector<std::string>& keys, std::stop_token stop);

  storage::WriteSpec SpecFor(const storage::ObjectInfo& src, std::optional<uint32_t> crc) const;
  // Leaves out of `spec` what the destination is known not to store (a storage class that
  // came from the source, tags), counting each object that loses one.
  void Degrade(storage::WriteSpec& spec);
  // Runs `write(spec)`; when the destination refuses (kNotSupported) a storage class that came
  // from the source or the tags, learns which and writes again without it: the bytes and all
  // else are copied, what was left out is counted. A --storage-class the store refuses fails.
  Status WriteDegrading(storage::WriteSpec& spec,
                        const std::function<Status(const storage::WriteSpec&)>& write);
  uint64_t PartSizeFor(uint64_t size) const;
  // Counts the outcome of one object and calls its `done`.
  void Complete(const CopyRequest& request, const char* what, const Status& status,
                uint64_t bytes);

  TransferOptions options_;
  storage::Backend& src_;
  storage::Backend& dst_;
  Stats& stats_;
  ByteBudget budget_;
  bool server_side_;
  // What the destination refused to store, learnt from its replies (see WriteDegrading).
  std::atomic<bool> no_class_{false};
  std::atomic<bool> no_tags_{false};

  std::stop_source stop_;
  std::mutex mu_;
  std::condition_variable_any cv_;       // workers wait for tasks
  std::condition_variable_any idle_cv_;  // producers wait for room or for idleness
  std::deque<Task> parts_;               // GUARDED_BY(mu_): parts and completions first
  std::deque<Task> objects_;             // GUARDED_BY(mu_): bounded
  size_t running_ = 0;                   // GUARDED_BY(mu_)
  size_t max_queued_;
  std::vector<std::jthread> workers_;
};

}  // namespace ferry::transfer
