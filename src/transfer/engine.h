// TransferEngine: one session of transfer work between a source and a destination backend,
// with its own options and Stats, over an Executor shared by the process (executor.h: the
// workers, i.e. the budget of requests in flight, and the ByteBudget of buffer bytes). Objects
// below the multipart threshold are copied whole (one GET + one PUT, or one server-side
// CopyObject); larger ones are split into parts that run in parallel with the parts of other
// objects. Parts of already-started objects are always taken before new objects, which bounds
// the number of open uploads.
//
// Each copy names its destination key (CopyRequest::dst_key, default the source key): every
// write, stat and delete of the destination for that object (whole, server-side and multipart
// copies, resumed uploads, checks) uses it.
//
// Integrity: ferry's full-object CRC32C is computed while data streams through (per part, then
// combined) and recorded in x-amz-meta-ferry-crc32c where it is known before the write (a
// multipart write that learnt it while streaming hands it to the writer, which keeps it as the
// store's full-object checksum on AWS and nowhere on RGW: no second write for it, storage/s3
// multipart.cc); when the source declares a checksum (its
// own ferry-crc32c, or a pre-pass over a local file) the streamed value is compared before the
// upload is completed, and a mismatch aborts it. A single-part source MD5 ETag is compared with
// the ETag the destination returns (the destination computed it from the bytes it stored).
//
// Threading: Copy/Delete are called by one producer thread (the planner, or a worker's
// dispatcher); Wait blocks it until this session's work is done, Cancel stops this session's
// work only: other sessions on the same executor go on. Failures never throw: they are
// counted in Stats. The executor must outlive the engine; ~TransferEngine cancels and waits
// for the session's tasks.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "base/clock.h"
#include "plan/decide.h"
#include "report/row.h"
#include "storage/backend.h"
#include "transfer/budget.h"
#include "transfer/executor.h"
#include "transfer/journal.h"
#include "transfer/stats.h"

namespace ferry::transfer {

// What every object written gets instead of the source's description (--metadata,
// --content-type, --metadata-directive).
struct MetadataOverrides {
  std::map<std::string, std::string> metadata{};  // user metadata set on every object written
  std::string content_type{};                   // "" keeps the source's
  // --metadata-directive REPLACE: the source's user metadata and content headers are not kept
  // (ferry's own ferry-* entries always are); COPY (false) adds the values above to them.
  bool replace = false;
  bool any() const { return replace || !metadata.empty() || !content_type.empty(); }
  bool operator==(const MetadataOverrides&) const = default;
};

// Applies `overrides` to the description of an object to be written.
void ApplyOverrides(const MetadataOverrides& overrides, storage::WriteSpec& spec);

class RestoreWaitList;  // restore_wait.h

// Archived sources (S3 GLACIER, DEEP_ARCHIVE, Intelligent-Tiering archive tiers;
// docs/design/glacier.md). An archived object that is not readable is never a failure: without
// restores (days 0) it is reported and counted (Stats::archived_not_copied); with them its
// restore is requested (Backend::RequestRestore), the session polls its state (Backend::Stat)
// every `poll` and copies it once readable, and reports it as not copied when `wait` passes
// first. A finished restore (readable) is copied as any object, with or without this.
struct RestoreOptions {
  int days = 0;                   // --restore-archived DAYS; 0: no restores
  std::string tier = "Standard";  // --restore-tier: Standard, Bulk or Expedited
  std::chrono::milliseconds poll{std::chrono::seconds(60)};  // --restore-poll
  std::chrono::milliseconds wait{std::chrono::hours(48)};    // --restore-wait
  // Times the polls and the wait (sleeps on it). Null: SystemClock::Default(). Not owned.
  Clock* clock = nullptr;
  bool enabled() const { return days > 0; }
};

struct CopyRequest;

struct TransferOptions {
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t part_size = 16ull << 20;  // grown when an object would need more parts than allowed
  // Server-side copies up to this size use one CopyObject; larger ones UploadPartCopy.
  uint64_t server_side_copy_limit = 5ull << 30;
  std::string storage_class;         // override for every written object; "" keeps the source's
  // Carry each source version's retention and legal hold (S3 Object Lock) to the object
  // written (--preserve-lock). The caller checked that the destination has object lock
  // (Backend::HasObjectLock). Server-side copies then replace the metadata with the source's
  // details (S3 does not copy retention), and multipart copies stat the source first.
  bool preserve_lock = false;
  // Carry each source object's own ACL (its grants, the source owner's FULL_CONTROL among
  // them) to the object written (--preserve-acl); excludes `acl`. The caller checked that both
  // sides keep ACLs. One GetObjectAcl per object copied.
  bool preserve_acl = false;
  // The ACL of every written object (--acl, --grants); empty: the store's default.
  storage::WriteAcl acl;
  // --checksum-algorithm: the additional checksum (x-amz-checksum-*) every object written to
  // S3 carries, computed from the bytes; nullopt keeps the source's algorithm where it
  // declares one (its value, already checked, is sent with whole-object writes).
  std::optional<checksum::Algorithm> checksum_algorithm;
  MetadataOverrides overrides;
  bool dry_run = false;
  bool verbose = false;                // one line per action on stderr
  // Writes carry storage::WriteSpec::defer_durability: a copy's done callback may come before
  // its object is durable. Set only by a caller that calls the destination's Backend::Sync
  // before it records any copy done (RunSync at the end of the run; the worker's transfer jobs
  // before their outcome is committed).
  bool defer_durability = false;
  plan::DecideOptions decide;          // used again after details were fetched
  RestoreOptions restore{};            // archived sources (see RestoreOptions)
  // The run's per-object report (--report; transfer/report_rows.h): each copy's outcome and
  // each delete as a row, from the worker that finished it. Null: none. Not owned; must
  // outlive the engine.
  report::RowSink* report = nullptr;
  // Asked as each copy starts (its first step on a worker). False leaves it out: not copied,
  // not a failure, not counted; its `done` gets kCancelled (RunSync's cut by --max-transfer or
  // --max-duration, transfer/cutoff.h). Empty: every copy starts. Called from workers.
  std::function<bool(const CopyRequest&)> may_start;
  // Whether the run was cut (RunSync's hard --max-transfer/--max-duration cancels the copies
  // in flight). A copy that ends kCancelled while this says true is left by the cut, as one
  // never started: not counted, not a failure, no report row; its `done` gets the status.
  // Empty: never cut.
  std::function<bool()> cut;
  // Asked for each destination key right before the engine deletes it, on the worker that
  // deletes it (--backup-dir keeps a copy first: transfer/backup_dir.h). A key it refuses is
  // not deleted: its failure is counted (operation "backup") and reported. Empty: none.
  std::function<Status(const std::string& key, std::stop_token stop)> before_delete;
};

// One object the planner wants copied, or wants looked at closer (need_details).
struct CopyRequest {
  storage::ObjectInfo src;
  // Where the object goes on the destination; "" means the source key.
  std::string dst_key;
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
  // A fence: called right before the write that makes the object visible at the destination
  // (its PUT, its server-side copy, its multipart commit; not before the parts); an error
  // fails the object and nothing becomes visible. A copier whose right to write may lapse
  // (a lease) stops there. May be empty.
  std::function<Status()> before_write;
  // Set by the engine when the bytes it copied could be checked by nothing the source
  // declared (counted in Stats::objects_unverified): the report's checksum is then "none".
  bool unverified = false;
  // Called by the engine as the object ends, right before `done`, with its word for what it
  // did (`what`: "copied", "copied (server-side)", ..., "would copy" in a dry run; nullptr when
  // nothing was written: found unchanged after a closer look, `reason` then says by what, or
  // failed) and `not_copied` (an archived source left out). `request.unverified` is final by
  // then. ferry move decides from it whether the destination proves the source
  // (transfer/move_source.h). Not called for a copy that never started (may_start). May be
  // empty.
  std::function<void(const CopyRequest& request, const char* what, const Status& status,
                     bool not_copied)>
      finished;

  // Part jobs (jobs/part_jobs.h: one large object's parts spread over a durable run's
  // workers): set, the copy writes only the parts [first, last] that the journal's upload
  // lacks, into the upload the journal records, and never creates, aborts or commits one; an
  // empty range (last < first) with `open_upload` opens or resumes the journal's upload (as a
  // whole copy would, recording it) and writes nothing. The writer is detached at the end, the
  // object is neither counted nor reported, and `done` gets the outcome of those parts.
  struct PartRange {
    int first = 1;
    int last = 0;
    bool open_upload = false;  // may create the upload (the object's own job only)
  };
  std::optional<PartRange> only_parts{};

  const std::string& destination_key() const { return dst_key.empty() ? src.key : dst_key; }
};

class TransferEngine {
 public:
  // A session on `executor`, which must outlive it. There is no engine without one: the
  // process's executor is made once at its composition root (tests: testing::TestExecutor(), or
  // an Executor of the test's own when it measures a budget).
  TransferEngine(Executor& executor, TransferOptions options, storage::Backend& src,
                 storage::Backend& dst, Stats& stats);
  ~TransferEngine();  // cancels and waits for this session's tasks
  TransferEngine(const TransferEngine&) = delete;
  TransferEngine& operator=(const TransferEngine&) = delete;

  // Queues one object; blocks while the queue is full (bounded memory).
  void Copy(CopyRequest request);
  // Queues deletes of destination keys (batched by the backend).
  void Delete(std::vector<std::string> keys);
  // Blocks until every action queued by this session has finished (not other sessions').
  void Wait() { queue_->Wait(); }
  // Cancels this session's queued and running work (Ctrl-C, a run stopped); its queued objects
  // end with kCancelled.
  void Cancel() { queue_->Cancel(); }

  // The executor's budget (shared by every session on it).
  const ByteBudget& budget() const { return budget_; }
  const TransferOptions& options() const { return options_; }

 private:
  struct Upload;  // one multipart object in flight (multipart.cc)
  using Task = TaskQueue::Task;

  void Push(Task task, bool priority) { queue_->Push(std::move(task), priority); }

  // Object-level steps (copy_object.cc, multipart.cc).
  void RunCopy(CopyRequest& request, std::stop_token stop);
  Status Refresh(CopyRequest& request, std::stop_token stop, bool& done);
  void Skipped(const CopyRequest& request);
  // Archived sources (archived.cc). True when `request` was taken care of: reported as not
  // copied, handed to the restore wait list, or failed; false when its source is readable (its
  // details read when the listing alone could not tell) and the copy goes on.
  bool HoldArchived(CopyRequest& request, std::stop_token stop);
  // Finishes an archived object that is not copied: counted, logged with `why`, done(OK).
  void NotCopied(const CopyRequest& request, std::string_view why);
  // One round of the restore wait list: sleeps until the next poll on the restore clock, stats
  // each waiting source, queues the readable ones to be copied, reports those past the wait,
  // and schedules the next round while any wait. One such task at a time (restore_wait.h),
  // queued behind the session's new objects (TaskQueue::PushBehind); while new objects wait
  // it goes behind them again instead of sleeping, so that its sleep holds a worker only when
  // the session has nothing else to start.
  void PollRestores(std::stop_token stop);
  // Queues a copy of `request` from a running task (a priority task: never blocks).
  void Requeue(CopyRequest request);
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
  Status CopyWhole(CopyRequest& request, std::stop_token stop);
  Status CopyWholeOnce(CopyRequest& request, std::span<std::byte> data, std::stop_token stop);
  Status CopyServerSide(const storage::ObjectInfo& src, const std::string& dst_key,
                        std::stop_token stop);
  // On success the object is finished later by the worker completing its last part.
  Status StartMultipart(CopyRequest& request, bool server_side, std::stop_token stop);
  Status OpenOrResume(Upload& upload, std::stop_token stop);
  static std::vector<int> PartsToSend(const Upload& upload);
  void RunPart(const std::shared_ptr<Upload>& upload, int part_number, std::stop_token stop);
  void FinishUpload(const std::shared_ptr<Upload>& upload, std::stop_token stop);
  Status CheckLayout(Upload& upload, std::stop_token stop);
  void RunDelete(const std::vector<std::string>& keys, std::stop_token stop);
  // One DeleteMany of `keys` on the destination, counted and reported.
  void DeleteBatch(const std::vector<std::string>& keys, std::stop_token stop);

  storage::WriteSpec SpecFor(const storage::ObjectInfo& src, std::optional<uint32_t> crc) const;
  // Whether what is written needs the source's details beyond the listing, and server-side
  // copies the REPLACE directive (retention, ACLs, metadata overrides, a checksum algorithm).
  bool WritesFromDetails() const;
  // Leaves out of `spec` what the destination is known not to store (a storage class that
  // came from the source, tags), counting each object that loses one.
  void Degrade(storage::WriteSpec& spec);
  // Runs `write(spec)`; when the destination refuses (kNotSupported) a storage class that came
  // from the source or the tags, learns which and writes again without it: the bytes and all
  // else are copied, what was left out is counted. A --storage-class the store refuses fails.
  Status WriteDegrading(storage::WriteSpec& spec,
                        const std::function<Status(const storage::WriteSpec&)>& write);
  uint64_t PartSizeFor(uint64_t size) const;
  // Counts the outcome of one object, reports its row (options_.report) and calls its `done`.
  // `not_copied`: an archived source left out (NotCopied).
  void Complete(const CopyRequest& request, const char* what, const Status& status,
                uint64_t bytes, bool not_copied = false);

  Executor& executor_;
  TransferOptions options_;
  storage::Backend& src_;
  storage::Backend& dst_;
  Stats& stats_;
  ByteBudget& budget_;  // the executor's
  bool server_side_;
  // What the destination refused to store, learnt from its replies (see WriteDegrading).
  std::atomic<bool> no_class_{false};
  std::atomic<bool> no_tags_{false};
  std::unique_ptr<RestoreWaitList> restores_;  // objects waiting for their restore
  // When the restore poll's next round is due (on the restore clock's MonoNow scale).
  std::atomic<Clock::MonoTime> next_restore_round_{};
  std::unique_ptr<TaskQueue> queue_;  // this session's tasks on the executor
};

}  // namespace ferry::transfer
