#include "transfer/move_source.h"

#include <utility>

#include "obs/log.h"
#include "plan/decide.h"
#include "transfer/executor.h"

namespace ferry::transfer {
namespace {

report::Row SourceDeleteRow(const std::string& key, const Status& status, bool dry_run) {
  if (!status.ok()) return report::FailedRow(key, 0, "delete-source", status);
  report::Row row;
  row.key = key;
  row.action = dry_run ? report::Action::kWouldDeleteSource : report::Action::kDeletedSource;
  row.outcome = report::Outcome::kOk;
  return row;
}

}  // namespace

bool ProvesSameBytes(std::string_view reason) {
  return reason == plan::kReasonSameEtag || reason == plan::kReasonSameChecksum ||
         reason == plan::kReasonSameContent;
}

void SourceDeletes::Watch(CopyRequest& request) {
  request.finished = [this, then = std::move(request.finished)](
                         const CopyRequest& r, const char* what, const Status& status,
                         bool not_copied) {
    Ended(r, what, status, not_copied);
    if (then) then(r, what, status, not_copied);
  };
}

void SourceDeletes::Ended(const CopyRequest& r, const char* what, const Status& status,
                          bool not_copied) {
  if (!status.ok()) return;  // a failed copy is a failure already; its source stays
  if (not_copied) return Kept(r.src.key, "its archived source was not copied");
  if (what != nullptr) {
    // A dry run copies nothing: what it would copy it would also move.
    if (r.unverified && !dry_run_) {
      return Kept(r.src.key, "its copy could not be verified by a checksum");
    }
    return Queue(r.src.key);
  }
  if (r.reason == "source gone") return;  // deleted since it was listed: nothing to move
  Identical(r.src, r.reason);
}

void SourceDeletes::Identical(const storage::ObjectInfo& src, std::string_view reason) {
  if (ProvesSameBytes(reason)) return Queue(src.key);
  Kept(src.key, "the destination was not proved the same by a checksum (" +
                    std::string(reason) + ")");
}

void SourceDeletes::Queue(const std::string& key) {
  if (Status s = spool_.Add(key); !s.ok()) stats_.AddFailure(key, "move", s);
}

void SourceDeletes::Kept(const std::string& key, std::string_view why) {
  stats_.sources_kept += 1;
  const Status kept = Status::FailedPrecondition("kept on the source: " + std::string(why));
  obs::Log(obs::Level::kWarn, "not moved", {{"key", key}, {"reason", kept.message()}});
  stats_.AddFailure(key, "move", kept);
}

Status SourceDeletes::Run(Executor& executor, storage::Backend& src, std::stop_token stop,
                          size_t batch) {
  if (dry_run_) {
    return spool_.Replay(batch, [&](std::vector<std::string> keys) {
      for (const auto& k : keys) {
        obs::Log(obs::Level::kInfo, "would delete from the source", {{"key", k}});
        if (report_ != nullptr) report_->Add(SourceDeleteRow(k, Status::Ok(), true));
      }
      stats_.sources_deleted += keys.size();
    });
  }
  std::unique_ptr<TaskQueue> queue = executor.Open();
  std::stop_callback cancel(stop, [&queue] { queue->Cancel(); });
  Status replayed = spool_.Replay(batch, [&](std::vector<std::string> keys) {
    queue->Push([this, &src, k = std::move(keys)](std::stop_token task_stop) {
      DeleteBatch(src, k, task_stop);
    }, false);
  });
  queue->Wait();
  return replayed;
}

void SourceDeletes::DeleteBatch(storage::Backend& src, const std::vector<std::string>& keys,
                                std::stop_token stop) {
  const Status s = stop.stop_requested() ? Status::Cancelled("cancelled")
                                         : src.DeleteMany(keys, stop);
  for (const auto& k : keys) {
    if (report_ != nullptr) report_->Add(SourceDeleteRow(k, s, false));
    if (!s.ok()) stats_.AddFailure(k, "delete-source", s);
  }
  if (s.ok()) stats_.sources_deleted += keys.size();
}

}  // namespace ferry::transfer
