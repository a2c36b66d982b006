#include "transfer/engine.h"
#include "obs/log.h"
#include "transfer/report_rows.h"
#include "transfer/restore_wait.h"

#include <algorithm>
#include <cstdio>

namespace ferry::transfer {

TransferEngine::TransferEngine(Executor& executor, TransferOptions options,
                               storage::Backend& src, storage::Backend& dst, Stats& stats)
    : executor_(executor),
      options_(std::move(options)),
      src_(src),
      dst_(dst),
      stats_(stats),
      budget_(executor.budget()),
      server_side_(dst.CanCopyFrom(src)),
      restores_(std::make_unique<RestoreWaitList>()) {
  options_.part_size = std::clamp<uint64_t>(options_.part_size, dst_.features().min_part_size,
                                            dst_.features().max_part_size);
  queue_ = executor_.Open();
}

TransferEngine::~TransferEngine() {
  queue_.reset();  // cancels and waits for this session's tasks, which use the members below
}

void TransferEngine::Copy(CopyRequest request) {
  Push([this, r = std::move(request)](std::stop_token stop) mutable {
         WithJointStop(stop, r.cancel, [&](std::stop_token joint) { RunCopy(r, joint); });
       },
       false);
}

void TransferEngine::Delete(std::vector<std::string> keys) {
  if (keys.empty()) return;
  Push([this, k = std::move(keys)](std::stop_token stop) { RunDelete(k, stop); }, false);
}

void TransferEngine::RunDelete(const std::vector<std::string>& keys, std::stop_token stop) {
  if (options_.dry_run) {
    for (const auto& k : keys) {
      obs::Log(obs::Level::kInfo, "would delete", {{"key", k}, {"reason", "destination only"}});
      if (options_.report != nullptr) options_.report->Add(DeleteRow(k, Status::Ok(), true));
    }
    stats_.objects_deleted += keys.size();
    return;
  }
  if (options_.before_delete) {
    // --backup-dir: a key is deleted only once its copy is kept; the others stay, failed.
    std::vector<std::string> kept;
    kept.reserve(keys.size());
    for (const auto& k : keys) {
      Status backed_up = options_.before_delete(k, stop);
      if (backed_up.ok()) {
        kept.push_back(k);
        continue;
      }
      if (options_.report != nullptr) options_.report->Add(DeleteRow(k, backed_up, false));
      stats_.AddFailure(k, "backup", backed_up);
    }
    if (kept.empty()) return;
    return DeleteBatch(kept, stop);
  }
  DeleteBatch(keys, stop);
}

void TransferEngine::DeleteBatch(const std::vector<std::string>& keys, std::stop_token stop) {
  Status s = dst_.DeleteMany(keys, stop);
  if (options_.report != nullptr) {
    for (const auto& k : keys) options_.report->Add(DeleteRow(k, s, false));
  }
  if (s.ok()) {
    stats_.objects_deleted += keys.size();
    if (options_.verbose) {
      for (const auto& k : keys) obs::Log(obs::Level::kInfo, "deleted", {{"key", k}});
    }
    return;
  }
  for (const auto& k : keys) stats_.AddFailure(k, "delete", s);
}

void TransferEngine::Complete(const CopyRequest& request, const char* what, const Status& status,
                              uint64_t bytes, bool not_copied) {
  if (request.only_parts) {  // some parts of an object another job completes: not an object
    if (request.done) request.done(status);
    return;
  }
  if (status.code() == ErrorCode::kCancelled && options_.cut && options_.cut()) {
    if (request.done) request.done(status);  // left by the cut (TransferOptions::cut)
    return;
  }
  if (options_.report != nullptr) {
    options_.report->Add(CopyRow(
        {.request = request,
         .what = what,
         .status = status,
         .dry_run = options_.dry_run,
         .not_copied = not_copied,
         .checksum = status.ok() && what != nullptr
                         ? CopyChecksumUsed(request.src, what, src_.features().cheap_reads,
                                            request.unverified)
                         : std::string()}));
  }
  if (!status.ok()) {
    stats_.AddFailure(request.src.key, "copy", status);
  } else if (what != nullptr) {
    stats_.objects_copied += 1;
    stats_.bytes_copied += bytes;
    if (request.src.archive.archived) stats_.archived_copied += 1;
    if (options_.verbose) {
      obs::Log(obs::Level::kInfo, what, {{"key", request.destination_key()}});
    }
  }
  if (request.finished) request.finished(request, what, status, not_copied);
  if (request.done) request.done(status);
}

}  // namespace ferry::transfer
