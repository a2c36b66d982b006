#include "transfer/executor.h"

#include <algorithm>

#include "base/status.h"

namespace ferry::transfer {
namespace {

// The executor whose worker the current thread is (WorkerGauge::CallerIsWorker).
thread_local const Executor* t_worker_of = nullptr;

}  // namespace

Executor::Executor(ExecutorOptions options)
    : concurrency_(std::max(1, options.concurrency)),
      max_queued_(static_cast<size_t>(concurrency_) * 2),
      low_water_(max_queued_ / 2),
      budget_(options.memory_budget),
      gate_(concurrency_, options.adaptive, options.clock) {
  // the pool's idle buffers give way when the budget's other users take bytes (buffer_pool.h)
  budget_.SetIdleTrimmer([this] { buffers_.TrimIdle(); });
  budget_.SetWorkerGauge(this);
  for (int i = 0; i < concurrency_; ++i) {
    workers_.emplace_back([this](std::stop_token stop) { WorkerLoop(stop); });
  }
}

Executor::~Executor() {
  {
    std::lock_guard lock(mu_);
    FERRY_CHECK(queues_.empty());  // every engine ends before its executor
  }
  for (auto& w : workers_) w.request_stop();
  work_cv_.notify_all();
  workers_.clear();  // joins
}

std::unique_ptr<TaskQueue> Executor::Open() {
  std::unique_ptr<TaskQueue> queue(new TaskQueue(*this));
  std::lock_guard lock(mu_);
  queues_.push_back(queue.get());
  return queue;
}

void Executor::Remove(TaskQueue* queue) {
  std::lock_guard lock(mu_);
  auto it = std::find(queues_.begin(), queues_.end(), queue);
  if (it == queues_.end()) return;
  const auto index = static_cast<size_t>(it - queues_.begin());
  queues_.erase(it);
  // The queue after the removed one keeps its turn.
  if (next_ > index) --next_;
  if (next_ >= queues_.size()) next_ = 0;
}

bool Executor::TakeLocked(Task& task, TaskQueue*& from) {
  const size_t n = queues_.size();
  for (auto kind : {&TaskQueue::parts_, &TaskQueue::objects_}) {
    for (size_t i = 0; i < n; ++i) {
      const size_t at = (next_ + i) % n;
      TaskQueue* q = queues_[at];
      std::deque<Task>& tasks = q->*kind;
      if (tasks.empty()) continue;
      if (!gate_.Admit()) return false;  // at the limit of requests in flight
      task = std::move(tasks.front());
      tasks.pop_front();
      from = q;
      next_ = (at + 1) % n;  // the next turn starts with the queue after this one
      return true;
    }
  }
  return false;
}

bool Executor::CallerIsWorker() const { return t_worker_of == this; }

void Executor::Waiting(bool waiting) {
  if (waiting) {
    waiting_.fetch_add(1);
  } else {
    waiting_.fetch_sub(1);
  }
}

bool Executor::Stalled() const {
  const int busy = busy_.load();
  return busy > 0 && waiting_.load() >= busy;
}

void Executor::WorkerLoop(std::stop_token stop) {
  t_worker_of = this;
  for (;;) {
    Task task;
    TaskQueue* from = nullptr;
    bool room = false;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, stop, [&] { return TakeLocked(task, from); });
      if (from == nullptr) return;  // stop requested
      ++from->running_;
      // A blocked submitter resumes once its queue is down to the low-water mark (one wake-up
      // per low_water_ tasks, not one per task). The queue shrinks one task at a time, so a
      // queue whose submitter waits passes the mark exactly once on its way down.
      room = pushers_waiting_ > 0 && from->objects_.size() == low_water_;
      if (room) ++room_signals_;
    }
    if (room) room_cv_.notify_all();
    busy_.fetch_add(1);
    task(from->stop_.get_token());
    task = nullptr;  // what the task holds is released before its queue counts it done
    busy_.fetch_sub(1);
    if (Stalled()) budget_.WakeWaiters();  // the workers left running may all be waiting
    bool grew = false;
    bool idle = false;
    {
      std::lock_guard lock(mu_);
      --from->running_;
      grew = gate_.Finished();
      idle = idle_waiters_ > 0 && from->IdleLocked();
    }
    if (idle) idle_cv_.notify_all();
    if (grew) work_cv_.notify_all();
  }
}

uint64_t Executor::room_signals() const {
  std::lock_guard lock(mu_);
  return room_signals_;
}

TaskQueue::~TaskQueue() {
  Cancel();
  Wait();
  executor_.Remove(this);
}

void TaskQueue::Push(Task task, bool priority) {
  {
    std::unique_lock lock(executor_.mu_);
    if (!priority && objects_.size() >= executor_.max_queued_) {
      // Full: wait until the workers took it down to the low-water mark, then fill it again
      // (hysteresis: a submitter and the workers hand over batches, not single tasks).
      ++executor_.pushers_waiting_;
      executor_.room_cv_.wait(lock, stop_.get_token(),
                              [&] { return objects_.size() <= executor_.low_water_; });
      --executor_.pushers_waiting_;
    }
    (priority ? parts_ : objects_).push_back(std::move(task));
    // At the limit of requests in flight no idle worker could take it: a worker that finishes
    // takes it (WorkerLoop looks for work before it sleeps), or a grown limit wakes them all.
    // Waking one anyway would cost a context switch per task for nothing while the adapted
    // limit is below the worker count.
    if (!executor_.gate_.RoomFor()) return;
  }
  executor_.work_cv_.notify_one();
}

void TaskQueue::PushBehind(Task task) {
  {
    std::lock_guard lock(executor_.mu_);
    objects_.push_back(std::move(task));
    if (!executor_.gate_.RoomFor()) return;
  }
  executor_.work_cv_.notify_one();
}

bool TaskQueue::HasQueuedObjects() const {
  std::lock_guard lock(executor_.mu_);
  return !objects_.empty();
}

void TaskQueue::Wait() {
  // A task waiting for its own queue's tasks (a replicated version's parts) waits as a borrower
  // does, for the stall rule: with every other worker waiting for budget, one of them must run.
  const bool worker = executor_.CallerIsWorker();
  if (worker) {
    executor_.Waiting(true);
    if (executor_.Stalled()) executor_.budget_.WakeWaiters();
  }
  {
    std::unique_lock lock(executor_.mu_);
    ++executor_.idle_waiters_;
    executor_.idle_cv_.wait(lock, [&] { return IdleLocked(); });
    --executor_.idle_waiters_;
  }
  if (worker) executor_.Waiting(false);
}

void RunAll(Executor& executor, size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  std::unique_ptr<TaskQueue> queue = executor.Open();
  for (size_t i = 0; i < n; ++i) {
    queue->Push([&fn, i](std::stop_token) { fn(i); }, false);
  }
  queue->Wait();
}

}  // namespace ferry::transfer
