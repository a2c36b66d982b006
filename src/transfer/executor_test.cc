// Executor with several TransferEngine sessions on MemoryBackend fakes: shared budgets,
// Wait and Cancel per session, fairness between sessions, destruction order.
#include "transfer/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/memory/memory_backend.h"
#include "transfer/engine.h"
#include "transfer/memory_fixture.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using testing::Bytes;
using testing::Listed;
using testing::Put;
using testing::SmallParts;

// Requests and the bytes they carry, in flight at once across every backend that shares it.
class Probe {
 public:
  void Enter(uint64_t bytes) {
    std::lock_guard lock(mu_);
    ++requests_;
    bytes_ += bytes;
    peak_requests_ = std::max(peak_requests_, requests_);
    peak_bytes_ = std::max(peak_bytes_, bytes_);
  }
  void Leave(uint64_t bytes) {
    std::lock_guard lock(mu_);
    --requests_;
    bytes_ -= bytes;
  }
  // Forgets the peaks (of setting up); nothing may be in flight.
  void Reset() {
    std::lock_guard lock(mu_);
    peak_requests_ = 0;
    peak_bytes_ = 0;
  }
  int peak_requests() const {
    std::lock_guard lock(mu_);
    return peak_requests_;
  }
  uint64_t peak_bytes() const {
    std::lock_guard lock(mu_);
    return peak_bytes_;
  }

 private:
  mutable std::mutex mu_;
  int requests_ = 0, peak_requests_ = 0;
  uint64_t bytes_ = 0, peak_bytes_ = 0;
};

// Holds reads until opened, or until their stop is requested.
class Gate {
 public:
  // False when `stop` was requested first.
  bool Pass(std::stop_token stop) {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    const bool open = cv_.wait(lock, stop, [&] { return open_; });
    --waiting_;
    return open;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Blocks until `n` reads wait at the gate.
  void AwaitWaiting(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  int waiting_ = 0;
  bool open_ = false;
};

// A MemoryBackend whose reads, writes and stats report to a Probe (and last a millisecond, so
// that requests overlap), and whose reads may wait at a Gate.
class ProbeBackend : public MemoryBackend {
 public:
  ProbeBackend(std::string endpoint, Probe* probe, Gate* gate = nullptr)
      : MemoryBackend(SmallParts(std::move(endpoint))), probe_(probe), gate_(gate) {}

  Status ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                std::string_view etag, std::stop_token stop) override {
    InFlight request(*this, out.size());
    if (gate_ != nullptr && !gate_->Pass(stop)) return Status::Cancelled("stopped at the gate");
    return MemoryBackend::ReadAt(key, offset, out, etag, stop);
  }
  Result<storage::ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                         std::string_view etag, std::stop_token stop) override {
    InFlight request(*this, out.size());
    if (gate_ != nullptr && !gate_->Pass(stop)) return Status::Cancelled("stopped at the gate");
    return MemoryBackend::ReadObject(key, out, etag, stop);
  }
  Result<storage::WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                                   const storage::WriteSpec& spec, std::stop_token stop) override {
    InFlight request(*this, data.size());
    return MemoryBackend::Put(key, data, spec, stop);
  }
  Result<storage::ObjectInfo> Stat(std::string_view key, bool with_tags,
                                   std::stop_token stop) override {
    InFlight request(*this, 0);
    return MemoryBackend::Stat(key, with_tags, stop);
  }

 private:
  class InFlight {
   public:
    InFlight(ProbeBackend& b, uint64_t bytes) : probe_(b.probe_), bytes_(bytes) {
      if (probe_ == nullptr) return;
      probe_->Enter(bytes_);
      // real time: a request is in flight a while (as on a network), so that the requests the
      // executor admits overlap and the probe sees how many it admits.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~InFlight() {
      if (probe_ != nullptr) probe_->Leave(bytes_);
    }

   private:
    Probe* probe_;
    uint64_t bytes_;
  };

  Probe* probe_;
  Gate* gate_;
};

TransferOptions Options() {
  TransferOptions o;
  o.part_size = 4096;
  o.multipart_threshold = 20000;
  return o;
}

// Copies of the objects of one engine: statuses in the order they ended.
class Outcomes {
 public:
  std::function<void(const Status&)> For(std::string name) {
    return [this, name](const Status& s) {
      std::lock_guard lock(mu_);
      ended_.push_back(name);
      statuses_.push_back(s);
    };
  }
  std::vector<std::string> ended() const {
    std::lock_guard lock(mu_);
    return ended_;
  }
  std::vector<Status> statuses() const {
    std::lock_guard lock(mu_);
    return statuses_;
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return ended_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> ended_;
  std::vector<Status> statuses_;
};

void CopyKey(TransferEngine& engine, storage::Backend& src, const std::string& key,
             Outcomes& outcomes, std::string name = "") {
  CopyRequest r;
  r.src = Listed(src, key);
  r.done = outcomes.For(name.empty() ? key : name);
  engine.Copy(std::move(r));
}

// Two runs on one executor of 4 workers and 10000 bytes: together they never have more than 4
// requests or 10000 bytes in flight (two engines with budgets of their own would reach 8 and
// 16000: objects of 4000 bytes, 4 workers each).
TEST(ExecutorTest, TwoEnginesTogetherStayWithinTheRequestAndByteBudgets) {
  Probe probe;
  Executor executor(ExecutorOptions{.concurrency = 4, .memory_budget = 10000});
  ProbeBackend src1("a1", &probe), dst1("b1", &probe), src2("a2", &probe), dst2("b2", &probe);
  for (int i = 0; i < 24; ++i) {
    Put(src1, "k" + std::to_string(i), Bytes(4000, i));
    Put(src2, "k" + std::to_string(i), Bytes(4000, 100 + i));
  }
  Put(src1, "big", Bytes(30000, 7));  // 8 parts
  Put(src2, "big", Bytes(30000, 8));
  // Listed up front: the producers send no requests of their own.
  std::vector<storage::ObjectInfo> listed1, listed2;
  for (const std::string key : {"big", "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8",
                                "k9", "k10", "k11", "k12", "k13", "k14", "k15", "k16", "k17",
                                "k18", "k19", "k20", "k21", "k22", "k23"}) {
    listed1.push_back(Listed(src1, key));
    listed2.push_back(Listed(src2, key));
  }
  probe.Reset();
  Stats stats1, stats2;
  {
    TransferEngine e1(executor, Options(), src1, dst1, stats1);
    TransferEngine e2(executor, Options(), src2, dst2, stats2);
    auto produce = [](TransferEngine& e, const std::vector<storage::ObjectInfo>& objects) {
      for (const auto& object : objects) {
        CopyRequest r;
        r.src = object;
        e.Copy(std::move(r));
      }
      e.Wait();
    };
    std::thread t1(produce, std::ref(e1), std::cref(listed1));
    std::thread t2(produce, std::ref(e2), std::cref(listed2));
    t1.join();
    t2.join();
  }
  EXPECT_EQ(stats1.failures() + stats2.failures(), 0u);
  EXPECT_EQ(stats1.objects_copied.load(), 25u);
  EXPECT_EQ(stats2.objects_copied.load(), 25u);
  EXPECT_EQ(dst2.Contents("big"), Bytes(30000, 8));
  EXPECT_LE(probe.peak_requests(), 4);
  EXPECT_GE(probe.peak_requests(), 2) << "the runs worked in parallel";
  EXPECT_LE(probe.peak_bytes(), 10000u);
  EXPECT_LE(executor.budget().peak(), 10000u);
  EXPECT_EQ(executor.budget().in_use(), 0u);
}

TEST(ExecutorTest, WaitWaitsForItsOwnSessionOnly) {
  Gate gate;
  Executor executor(ExecutorOptions{.concurrency = 2, .memory_budget = 1 << 20});
  ProbeBackend held_src("a", nullptr, &gate);
  MemoryBackend src(SmallParts("c")), dst(SmallParts("b"));
  Put(held_src, "held", "bytes held at the gate");
  Put(src, "free", "bytes that pass");
  Stats stats_a, stats_b;
  Outcomes out_a, out_b;
  TransferEngine a(executor, Options(), held_src, dst, stats_a);
  TransferEngine b(executor, Options(), src, dst, stats_b);
  CopyKey(a, held_src, "held", out_a);
  gate.AwaitWaiting(1);
  CopyKey(b, src, "free", out_b);
  auto waited = std::async(std::launch::async, [&] { b.Wait(); });
  const bool returned = waited.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  const size_t a_ended_before = out_a.count();
  gate.Open();
  a.Wait();
  EXPECT_TRUE(returned) << "b.Wait waited for a's work";
  EXPECT_EQ(a_ended_before, 0u);
  ASSERT_EQ(out_b.count(), 1u);
  EXPECT_TRUE(out_b.statuses()[0].ok());
  ASSERT_EQ(out_a.count(), 1u);
  EXPECT_TRUE(out_a.statuses()[0].ok());
  EXPECT_EQ(dst.Contents("held"), "bytes held at the gate");
}

TEST(ExecutorTest, CancellingOneSessionLeavesTheOtherRunningToCompletion) {
  Gate gate_a, gate_b;
  Executor executor(ExecutorOptions{.concurrency = 2, .memory_budget = 1 << 20});
  ProbeBackend src_a("a", nullptr, &gate_a), src_b("c", nullptr, &gate_b);
  MemoryBackend dst_a(SmallParts("b")), dst_b(SmallParts("d"));
  for (int i = 0; i < 4; ++i) {
    Put(src_a, "k" + std::to_string(i), Bytes(100, i));
    Put(src_b, "k" + std::to_string(i), Bytes(100, 10 + i));
  }
  Stats stats_a, stats_b;
  Outcomes out_a, out_b;
  TransferEngine a(executor, Options(), src_a, dst_a, stats_a);
  TransferEngine b(executor, Options(), src_b, dst_b, stats_b);
  for (int i = 0; i < 4; ++i) {
    CopyKey(a, src_a, "k" + std::to_string(i), out_a);
    CopyKey(b, src_b, "k" + std::to_string(i), out_b);
  }
  gate_a.AwaitWaiting(1);  // one worker in each session's first read
  gate_b.AwaitWaiting(1);
  a.Cancel();
  gate_b.Open();
  a.Wait();
  b.Wait();
  ASSERT_EQ(out_a.count(), 4u);
  for (const Status& s : out_a.statuses()) EXPECT_EQ(s.code(), ErrorCode::kCancelled);
  EXPECT_TRUE(dst_a.Keys().empty());
  ASSERT_EQ(out_b.count(), 4u);
  for (const Status& s : out_b.statuses()) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(stats_b.objects_copied.load(), 4u);
  EXPECT_EQ(dst_b.Contents("k3"), Bytes(100, 13));
}

// One worker; run a has an object in flight and two queued when run b queues one: b's goes
// next, not after a's queue has drained.
TEST(ExecutorTest, ASessionsQueueDoesNotKeepAnothersObjectWaiting) {
  Gate gate;
  Executor executor(ExecutorOptions{.concurrency = 1, .memory_budget = 1 << 20});
  ProbeBackend src_a("a", nullptr, &gate);
  MemoryBackend src_b(SmallParts("c")), dst(SmallParts("b"));
  for (const char* k : {"a0", "a1", "a2"}) Put(src_a, k, k);
  Put(src_b, "b0", "b0");
  Stats stats_a, stats_b;
  Outcomes ended;  // shared: the order across both runs
  TransferEngine a(executor, Options(), src_a, dst, stats_a);
  TransferEngine b(executor, Options(), src_b, dst, stats_b);
  CopyKey(a, src_a, "a0", ended);
  gate.AwaitWaiting(1);
  CopyKey(a, src_a, "a1", ended);
  CopyKey(a, src_a, "a2", ended);
  CopyKey(b, src_b, "b0", ended);
  gate.Open();
  a.Wait();
  b.Wait();
  EXPECT_EQ(ended.ended(), (std::vector<std::string>{"a0", "b0", "a1", "a2"}));
}

// An engine destroyed with work queued ends its objects (kCancelled) and leaves the executor
// serving others; an engine on another executor of a narrower scope ends before it.
TEST(ExecutorTest, EngineDestroyedWhileTheExecutorLivesEndsItsWorkOnly) {
  Gate gate;
  Executor executor(ExecutorOptions{.concurrency = 1, .memory_budget = 1 << 20});
  ProbeBackend held_src("a", nullptr, &gate);
  MemoryBackend src(SmallParts("c")), dst(SmallParts("b"));
  for (const char* k : {"h0", "h1", "h2"}) Put(held_src, k, k);
  Put(src, "k", "after");
  Outcomes gone;
  {
    Stats stats;
    TransferEngine a(executor, Options(), held_src, dst, stats);
    for (const char* k : {"h0", "h1", "h2"}) CopyKey(a, held_src, k, gone);
    gate.AwaitWaiting(1);
  }  // ~TransferEngine: cancels and waits for its three objects
  ASSERT_EQ(gone.count(), 3u);
  for (const Status& s : gone.statuses()) EXPECT_EQ(s.code(), ErrorCode::kCancelled);
  Stats stats;
  Outcomes out;
  {
    TransferEngine b(executor, Options(), src, dst, stats);
    CopyKey(b, src, "k", out);
    b.Wait();
  }
  ASSERT_EQ(out.count(), 1u);
  EXPECT_TRUE(out.statuses()[0].ok());
  EXPECT_EQ(dst.Contents("k"), "after");
  {
    Stats own_stats;
    Outcomes own;
    Executor other(ExecutorOptions{.concurrency = 2, .memory_budget = 1 << 20});
    TransferEngine c(other, Options(), src, dst, own_stats);
    CopyKey(c, src, "k", own, "k again");
    c.Wait();
    EXPECT_EQ(own.count(), 1u);
  }
}

// Parts borrow their buffers from the executor's pool: two objects of five 1 MiB parts each, in
// a budget of three parts, are copied with at most three buffers ever allocated (one per part
// would be ten, plus ten for the second read that checks a single-PUT source's MD5).
TEST(ExecutorTest, PartsReuseThePoolsBuffers) {
  constexpr uint64_t kMiB = 1 << 20;
  Executor executor(ExecutorOptions{.concurrency = 4, .memory_budget = 3 * kMiB});
  ProbeBackend src("a", nullptr), dst("b", nullptr);
  const std::string body1 = Bytes(5 * kMiB, 1);
  const std::string body2 = body1.substr(kMiB) + body1.substr(0, kMiB);
  Put(src, "big1", body1);
  Put(src, "big2", body2);
  Stats stats;
  TransferOptions o;
  o.part_size = kMiB;
  o.multipart_threshold = 2 * kMiB;
  Outcomes outcomes;
  {
    TransferEngine engine(executor, o, src, dst, stats);
    CopyKey(engine, src, "big1", outcomes);
    CopyKey(engine, src, "big2", outcomes);
    engine.Wait();
  }
  ASSERT_EQ(outcomes.count(), 2u);
  for (const Status& s : outcomes.statuses()) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(dst.Contents("big1") == body1);
  EXPECT_TRUE(dst.Contents("big2") == body2);
  EXPECT_LE(executor.buffers().allocations(), 3u);
  EXPECT_EQ(executor.budget().in_use(), 0u);
  EXPECT_LE(executor.buffers().idle_bytes(), 3 * kMiB);
}

}  // namespace
}  // namespace ferry::transfer

namespace ferry::transfer {
namespace {

// A submitter blocked on a full queue is handed batches: it resumes once the workers took the
// queue down to half (max_queued_objects() / 2), so it is woken about once per half queue of
// tasks, not once per task (each wake-up is a context switch; at 5,000 small objects a second
// they were a fifth of the process's CPU).
TEST(ExecutorTest, ABlockedSubmitterIsWokenOncePerHalfQueueNotPerTask) {
  Executor executor(ExecutorOptions{.concurrency = 8, .memory_budget = 1 << 20});
  std::unique_ptr<TaskQueue> queue = executor.Open();
  const size_t half = executor.max_queued_objects() / 2;
  ASSERT_EQ(half, 8u);
  constexpr int kTasks = 400;
  std::atomic<int> ran{0};
  for (int i = 0; i < kTasks; ++i) {
    queue->Push(
        [&](std::stop_token) {
          // real time: a task takes a while, so that the submitter outpaces the workers and
          // blocks on the full queue (the wake-ups counted).
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          ran.fetch_add(1);
        },
        false);
  }
  queue->Wait();
  EXPECT_EQ(ran.load(), kTasks);
  // The submitter filled the queue at once and then blocked at every refill.
  EXPECT_GE(executor.room_signals(), 1u);
  EXPECT_LE(executor.room_signals(), kTasks / half + 2);
}


namespace stall {

// What a stalled executor looked like (worker_mixed_test hung so once, in gdb): a holder that is
// not a worker (an unpack's reading thread) holds the whole budget for work it queued (its
// entries' writes), and every worker runs a task that waits in BufferPool::Borrow for that
// budget, so no worker is left to run the holder's work. `unstick` cancels the borrowers'
// queue (their waits end) so that a test that stalls ends, failing.
struct Outcome {
  bool finished = false;  // everything ran without the borrowers being cancelled
  uint64_t peak = 0;
  uint64_t stall_overdraws = 0;
};

Outcome Run(int workers) {
  constexpr uint64_t kBudget = 1 << 20;
  constexpr uint64_t kBuffer = 256 << 10;
  Executor executor({.concurrency = workers, .memory_budget = kBudget});
  ByteBudget& budget = executor.budget();
  std::unique_ptr<TaskQueue> borrowers = executor.Open();
  std::unique_ptr<TaskQueue> holder = executor.Open();
  std::atomic<int> borrowed{0};
  std::promise<void> all_waiting;
  std::atomic<int> started{0};
  EXPECT_TRUE(budget.TryAcquire(kBudget));  // the holder's bytes
  for (int i = 0; i < workers; ++i) {
    borrowers->Push(
        [&](std::stop_token stop) {
          if (started.fetch_add(1) + 1 == workers) all_waiting.set_value();
          std::optional<BufferPool::Buffer> b = executor.buffers().Borrow(kBuffer, stop);
          if (b) borrowed.fetch_add(1);
        },
        false);
  }
  all_waiting.get_future().wait();  // every worker runs a borrower
  // The holder's work, queued behind them: it gives the holder's bytes back.
  std::promise<void> released;
  holder->Push(
      [&](std::stop_token) {
        budget.Release(kBudget);
        released.set_value();
      },
      false);
  Outcome out;
  out.finished = released.get_future().wait_for(std::chrono::seconds(20)) ==
                 std::future_status::ready;
  if (!out.finished) borrowers->Cancel();  // unstick: the borrowers' waits end
  holder->Wait();
  borrowers->Wait();
  out.finished = out.finished && borrowed.load() == workers;
  out.peak = budget.peak();
  out.stall_overdraws = budget.stall_overdraws();
  holder.reset();
  borrowers.reset();
  return out;
}

}  // namespace stall

// The stall rule (budget.h, WorkerGauge): the last worker to wait takes its buffer past the
// capacity, runs, and reaches the holder's work, whose release lets the others borrow. The
// excess is that one buffer. Before, the workers waited for ever (the test's unstick ends
// them, and it fails).
TEST(ExecutorTest, WorkersAllWaitingForBudgetDoNotStallTheWorkQueuedBehindThem) {
  for (int workers : {1, 2, 4}) {
    const stall::Outcome out = stall::Run(workers);
    EXPECT_TRUE(out.finished) << workers << " workers stalled";
    EXPECT_GE(out.stall_overdraws, 1u) << workers;
    EXPECT_LE(out.peak, (1u << 20) + (256u << 10)) << workers << ": more than one buffer over";
  }
}

}  // namespace
}  // namespace ferry::transfer
