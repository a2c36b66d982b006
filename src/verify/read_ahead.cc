#include "verify/read_ahead.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace ferry::verify {
namespace {

// One chunk slot of the shared read-ahead window.
struct Slot {
  enum class State { kIdle, kQueued, kReading, kDone };
  State state = State::kIdle;
  uint64_t index = 0;  // the chunk this slot holds now
  Status status;
};

// Shared by the consumer and the queued reads (which may outlive a consumer that returned
// early on an error: they then find their slot taken or the window closed).
struct Window {
  ReadRequest request;
  transfer::BufferPool::Buffer buffer;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Slot> slots;  // GUARDED_BY(mu)
  bool closed = false;      // GUARDED_BY(mu): the consumer is gone; queued reads do nothing

  std::span<std::byte> SpanOf(uint64_t index, size_t slot) {
    const uint64_t off = index * request.chunk;
    const uint64_t n = std::min(request.chunk, request.size - off);
    return buffer.data().subspan(slot * request.chunk, n);
  }
  // Reads chunk `index` into its slot if nobody has claimed it yet; true if this call read it.
  bool ClaimAndRead(uint64_t index, std::stop_token stop) {
    const size_t s = index % slots.size();
    {
      std::lock_guard lock(mu);
      if (closed || slots[s].index != index || slots[s].state != Slot::State::kQueued) {
        return false;
      }
      slots[s].state = Slot::State::kReading;
    }
    Status st = request.backend->ReadAt(request.key, index * request.chunk, SpanOf(index, s),
                                        request.etag, stop);
    {
      std::lock_guard lock(mu);
      slots[s].status = std::move(st);
      slots[s].state = Slot::State::kDone;
    }
    cv.notify_all();
    return true;
  }
};

}  // namespace

Status ReadInOrder(const ReadRequest& request, transfer::TaskQueue& queue,
                   const std::function<void(std::span<const std::byte>)>& consume,
                   std::stop_token stop) {
  if (request.size == 0) return Status::Ok();
  const uint64_t chunks = (request.size + request.chunk - 1) / request.chunk;
  const auto depth = static_cast<uint64_t>(std::max(1, request.depth));
  const size_t window = static_cast<size_t>(std::min(depth, chunks));
  auto w = std::make_shared<Window>();
  w->request = request;
  auto buffer = queue.executor().buffers().Borrow(window * request.chunk, stop);
  if (!buffer) return Status::Cancelled("interrupted");
  w->buffer = std::move(*buffer);
  w->slots.resize(window);
  struct Close {
    Window& w;
    ~Close() {
      std::lock_guard lock(w.mu);
      w.closed = true;
    }
  } close{*w};

  uint64_t issued = 0;
  auto issue = [&](uint64_t index) {
    const size_t s = index % window;
    {
      std::lock_guard lock(w->mu);
      w->slots[s] = Slot{Slot::State::kQueued, index, Status::Ok()};
    }
    if (window > 1) {
      queue.Push([w, index](std::stop_token st) { w->ClaimAndRead(index, st); },
                 /*priority=*/true);
    }
  };
  for (uint64_t i = 0; i < chunks; ++i) {
    while (issued < chunks && issued < i + window) issue(issued++);
    if (stop.stop_requested()) return Status::Cancelled("interrupted");
    // Read it here unless a worker has it; then wait for that worker.
    (void)w->ClaimAndRead(i, stop);
    const size_t s = i % window;
    Status st;
    {
      std::unique_lock lock(w->mu);
      w->cv.wait(lock, [&] { return w->slots[s].state == Slot::State::kDone; });
      st = w->slots[s].status;
    }
    if (!st.ok()) return st;
    consume(w->SpanOf(i, s));
    // The slot is free for chunk i + window (issued at the top of the next round).
  }
  return Status::Ok();
}

}  // namespace ferry::verify
