// Executor: the one place a process executes transfer work. It owns the worker threads (their
// count is the process's budget of requests in flight: each worker has at most one request
// open), the ByteBudget (the process's budget of buffer bytes) and the task queues. The
// composition root makes the process's one (app::Engine, for every command); library types are
// given it, never make one (a jobs::Worker shares it between every run it serves); each
// TransferEngine is a session that submits its tasks through a TaskQueue of its own. The
// BufferPool (the buffers of parts and whole objects, reused, counted in the ByteBudget) is the
// executor's too. Process-wide limiters (--bwlimit, --max-rps) belong here as well, beside the
// ByteBudget (docs/design/executor.md).
//
// Queues and fairness: every TaskQueue has two queues, priority tasks (parts and completions
// of objects already started) and new objects (bounded: `max_queued_objects()` per queue, so a
// producer cannot queue a whole listing). A free worker takes a priority task if any queue has
// one, else a new object; within each kind it serves the queues in turn (round-robin, starting
// after the queue it served last), so a session with a long queue never keeps another's single
// object waiting until it drains. Parts first bounds the number of open uploads.
//
// Per submitter: TaskQueue::Cancel stops only that queue's tasks (their stop token is the
// queue's); its queued tasks still run, with the stop requested, so that every object ends
// (its `done` is called with kCancelled). TaskQueue::Wait waits for that queue's tasks only.
//
// The stall rule: a worker waits for budget (BufferPool::Borrow) only while another worker
// running a task does not wait; the last one takes its bytes past the capacity (budget.h,
// WorkerGauge), so that work queued behind waiting workers is always reached.
//
// Shutdown: every TaskQueue must be destroyed before its Executor (checked). ~TaskQueue cancels
// and waits for its own tasks; ~Executor stops and joins the workers.
//
// Thread-safety: thread-safe. Push, Wait and Cancel may be called from any thread, Push of a
// priority task also from a running task; a task must not Wait for its own queue.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "transfer/adaptive.h"
#include "transfer/budget.h"
#include "transfer/buffer_pool.h"

namespace ferry::transfer {

struct ExecutorOptions {
  int concurrency = 64;                   // requests in flight (worker threads), at most
  uint64_t memory_budget = kDefaultMemoryBudget;  // buffer bytes, at most

  // Eight 16 MiB parts in flight: enough to keep a link busy (each part is one GET then one
  // PUT), and with everything else a process holds, below rclone's peak for the same copy.
  static constexpr uint64_t kDefaultMemoryBudget = 128ull << 20;
  // Adapt the requests in flight within [1, concurrency] to the link (adaptive.h); false
  // (an explicit --concurrency): always `concurrency`.
  bool adaptive = false;
  Clock* clock = nullptr;  // times the adaptive limit (null: the system's); not owned
};

class TaskQueue;

class Executor : private WorkerGauge {
 public:
  explicit Executor(ExecutorOptions options);
  ~Executor();  // REQUIRES: no TaskQueue left; joins the workers
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // A new submitter's queue; destroy it before the executor.
  std::unique_ptr<TaskQueue> Open();

  ByteBudget& budget() { return budget_; }
  const ByteBudget& budget() const { return budget_; }
  // Buffers for object bytes, taken from budget() (buffer_pool.h).
  BufferPool& buffers() { return buffers_; }
  int concurrency() const { return concurrency_; }
  // New objects one queue may hold before its Push blocks; a blocked Push resumes once the
  // queue is down to half of it.
  size_t max_queued_objects() const { return max_queued_; }
  // How many times a submitter blocked on a full queue was woken (tests: once per half a
  // queue of tasks taken, not once per task).
  uint64_t room_signals() const;

 private:
  friend class TaskQueue;
  using Task = std::function<void(std::stop_token)>;

  void WorkerLoop(std::stop_token stop);
  // WorkerGauge (budget.h): the stall rule's count of this executor's workers.
  bool CallerIsWorker() const override;
  void Waiting(bool waiting) override;
  bool Stalled() const override;
  // The next task to run and its queue, or false when none. REQUIRES: mu_ held.
  bool TakeLocked(Task& task, TaskQueue*& from);
  void Remove(TaskQueue* queue);

  const int concurrency_;
  const size_t max_queued_;
  const size_t low_water_;  // a blocked Push resumes at this many queued objects
  ByteBudget budget_;
  BufferPool buffers_{budget_};

  mutable std::mutex mu_;
  std::condition_variable_any work_cv_;  // workers wait for tasks
  std::condition_variable_any room_cv_;  // submitters wait for room in a full queue
  std::condition_variable idle_cv_;      // TaskQueue::Wait waits for its queue to be idle
  size_t pushers_waiting_ = 0;           // GUARDED_BY(mu_): submitters in room_cv_
  size_t idle_waiters_ = 0;              // GUARDED_BY(mu_): callers in idle_cv_
  uint64_t room_signals_ = 0;            // GUARDED_BY(mu_)
  std::vector<TaskQueue*> queues_;       // GUARDED_BY(mu_): in the order they are served
  ConcurrencyGate gate_;                 // GUARDED_BY(mu_): how many workers may run tasks
  size_t next_ = 0;                      // GUARDED_BY(mu_): where the next turn starts
  std::vector<std::jthread> workers_;
  std::atomic<int> busy_{0};     // workers running a task
  std::atomic<int> waiting_{0};  // of them, those waiting for budget or for their queue's tasks
};

// Runs fn(0), ..., fn(n - 1) as tasks of `executor` (a queue of their own: the calling thread
// pushes them while the queue has room, then waits) and returns once every one has run. For a
// batch of independent requests (the looks before a pack, a restore's targets). The calling
// thread must not be a worker of `executor`.
void RunAll(Executor& executor, size_t n, const std::function<void(size_t)>& fn);

// One submitter's share of an Executor (one TransferEngine's). See Executor for the contract.
class TaskQueue {
 public:
  using Task = std::function<void(std::stop_token)>;

  ~TaskQueue();  // Cancel, Wait, then leaves the executor
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // Queues `task`; it runs on a worker with this queue's stop token. A new object (`priority`
  // false) blocks while this queue holds max_queued_objects() new objects (not after Cancel);
  // parts and completions of started objects (`priority`) never block.
  void Push(Task task, bool priority);
  // Queues a new-object task behind those queued, without waiting for room: for a task that
  // queues itself again from a worker (where Push could wait for room only workers make). The
  // bound of max_queued_objects() is passed by the tasks so queued: keep them to one per queue
  // (the restore poll, transfer/archived.cc).
  void PushBehind(Task task);
  // Whether new-object tasks wait in this queue (taken by no worker yet).
  bool HasQueuedObjects() const;
  // Blocks until every task of this queue has run (whatever other queues hold).
  void Wait();
  // Stops this queue's tasks: running ones see their stop token requested, queued ones run
  // with it requested. Other queues are not affected.
  void Cancel() { stop_.request_stop(); }

  Executor& executor() { return executor_; }

 private:
  friend class Executor;
  explicit TaskQueue(Executor& executor) : executor_(executor) {}

  // Nothing queued and nothing running. REQUIRES: executor_.mu_ held.
  bool IdleLocked() const { return parts_.empty() && objects_.empty() && running_ == 0; }

  Executor& executor_;
  std::stop_source stop_;
  std::deque<Task> parts_;    // GUARDED_BY(executor_.mu_)
  std::deque<Task> objects_;  // GUARDED_BY(executor_.mu_)
  size_t running_ = 0;        // GUARDED_BY(executor_.mu_)
};

}  // namespace ferry::transfer
