#include "transfer/engine.h"

#include <algorithm>
#include <cstdio>

namespace ferry::transfer {

TransferEngine::TransferEngine(TransferOptions options, storage::Backend& src,
                               storage::Backend& dst, Stats& stats)
    : options_(std::move(options)),
      src_(src),
      dst_(dst),
      stats_(stats),
      budget_(options_.memory_budget),
      server_side_(dst.CanCopyFrom(src)),
      max_queued_(static_cast<size_t>(std::max(1, options_.concurrency)) * 2) {
  options_.concurrency = std::max(1, options_.concurrency);
  // A part must fit the budget with room for the others in flight.
  options_.part_size = std::clamp<uint64_t>(options_.part_size, dst_.features().min_part_size,
                                            dst_.features().max_part_size);
  for (int i = 0; i < options_.concurrency; ++i) {
    workers_.emplace_back([this](std::stop_token) { WorkerLoop(stop_.get_token()); });
  }
}

TransferEngine::~TransferEngine() {
  stop_.request_stop();
  cv_.notify_all();
  idle_cv_.notify_all();
  workers_.clear();  // joins
}

void TransferEngine::Push(Task task, bool priority) {
  {
    std::unique_lock lock(mu_);
    if (!priority) {
      idle_cv_.wait(lock, stop_.get_token(), [&] { return objects_.size() < max_queued_; });
    }
    (priority ? parts_ : objects_).push_back(std::move(task));
  }
  cv_.notify_one();
}

void TransferEngine::WorkerLoop(std::stop_token stop) {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, stop, [&] { return !parts_.empty() || !objects_.empty(); });
      if (parts_.empty() && objects_.empty()) return;  // stop requested
      std::deque<Task>& q = parts_.empty() ? objects_ : parts_;
      task = std::move(q.front());
      q.pop_front();
      ++running_;
    }
    idle_cv_.notify_all();  // room in the object queue
    task(stop);
    {
      std::lock_guard lock(mu_);
      --running_;
    }
    idle_cv_.notify_all();
  }
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

void TransferEngine::Wait() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, stop_.get_token(),
                [&] { return parts_.empty() && objects_.empty() && running_ == 0; });
}

void TransferEngine::RunDelete(const std::vector<std::string>& keys, std::stop_token stop) {
  if (options_.dry_run) {
    for (const auto& k : keys) {
      std::fprintf(stderr, "would delete %s (destination only)\n", k.c_str());
    }
    stats_.objects_deleted += keys.size();
    return;
  }
  Status s = dst_.DeleteMany(keys, stop);
  if (s.ok()) {
    stats_.objects_deleted += keys.size();
    if (options_.verbose) {
      for (const auto& k : keys) std::fprintf(stderr, "deleted %s\n", k.c_str());
    }
    return;
  }
  for (const auto& k : keys) stats_.AddFailure(k, "delete", s);
}

void TransferEngine::Complete(const CopyRequest& request, const char* what, const Status& status,
                              uint64_t bytes) {
  if (!status.ok()) {
    stats_.AddFailure(request.src.key, "copy", status);
  } else if (what != nullptr) {
    stats_.objects_copied += 1;
    stats_.bytes_copied += bytes;
    if (options_.verbose) std::fprintf(stderr, "%s %s\n", what, request.src.key.c_str());
  }
  if (request.done) request.done(status);
}

}  // namespace ferry::transfer
