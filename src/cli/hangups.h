// SIGHUP for the commands that reload their config (ferry serve): main's signal thread counts
// each one here, and a command that listens waits for the count to change. Other commands do
// not listen; for them a SIGHUP stops the command like SIGTERM (the terminal went away), as the
// signal's default action did.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>

namespace ferry::cli {

class Hangups {
 public:
  // A SIGHUP arrived. Returns whether a command listens (else the caller stops the process).
  bool Notify() {
    std::function<void()> handler;
    bool listened = false;
    {
      std::lock_guard lock(mu_);
      ++count_;
      changed_.notify_all();
      listened = listening_ > 0;
      handler = handler_;
    }
    if (handler) handler();  // on the signal thread, outside the lock
    return listened;
  }

  // While a Listening object lives, SIGHUPs are counted for its command. With `handler`, each
  // also calls it on main's signal thread (ferry worker reads its [limits] again): keep it short.
  class Listening {
   public:
    explicit Listening(Hangups& h, std::function<void()> handler = {}) : h_(h) {
      std::lock_guard lock(h_.mu_);
      ++h_.listening_;
      if (handler) h_.handler_ = std::move(handler);
    }
    ~Listening() {
      std::lock_guard lock(h_.mu_);
      --h_.listening_;
      h_.handler_ = nullptr;
    }
    Listening(const Listening&) = delete;
    Listening& operator=(const Listening&) = delete;

   private:
    Hangups& h_;
  };

  uint64_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }

  // Waits until count() is no longer `seen`, `timeout` passed or `stop` is requested; returns
  // count().
  uint64_t WaitFor(uint64_t seen, std::chrono::milliseconds timeout, std::stop_token stop) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, stop, timeout, [&] { return count_ != seen; });
    return count_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable_any changed_;
  uint64_t count_ = 0;
  int listening_ = 0;
  std::function<void()> handler_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::cli
