// transport::UploadOrder: which of several archives being packed at once sends its bytes across
// the link first. Over a slow link, packs that upload side by side share its bandwidth and
// their archives are all complete only near the end, so the unpack near the destination (which
// needs a complete archive) starts late and runs after the link went quiet. With an order, the
// pack that started first sends whenever it has bytes ready and a later one only while every
// earlier one has none (it waits for reads or compression): the archives are complete one after
// another at the link's speed, each unpacked while the next crosses, and the link never idles
// while any pack has bytes to send (work-conserving).
//
// Use: each pack Joins with a rank (lower ranks go first; equal ranks in the order they joined:
// the pack jobs use their job id, the order of the listing), says when it holds bytes to send
// (SetReady: queued; SetSending: parts its sink has under way), waits for its turn before each write that crosses the link (WaitTurn: the parts,
// the last one too; the completion carries no bytes and goes out of turn), and Leaves when done (or given up). A pack with bytes never waits for a later one, so the order cannot deadlock; a write
// already under way is not interrupted (a later pack's part upload may delay an earlier one by
// one part).
//
// Reads follow the same order. Packs that read side by side share the source's throughput, so
// the first archive's first part (5 MiB compressed: 20 MiB and more read) was ready only after
// every pack had read a third of it: the link idled for seconds at the start. A pack reads
// freely while no pack ahead of it is still reading (DoneReading, or Leave); the packs behind
// share `kFollowerReads` reads at a time, enough to stay primed, not enough to slow the first.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace ferry::transport {

class UploadOrder {
 public:
  UploadOrder() = default;
  UploadOrder(const UploadOrder&) = delete;
  UploadOrder& operator=(const UploadOrder&) = delete;

  // Registers a pack (no bytes ready yet) and returns its ticket; packs are served by rank, then
  // in the order they joined.
  uint64_t Join(uint64_t rank = 0);
  // The pack `ticket` is done or given up: later packs no longer wait for it.
  void Leave(uint64_t ticket);
  // Whether the pack `ticket` holds bytes to send (queued or being written).
  void SetReady(uint64_t ticket, bool ready);
  // Whether the pack `ticket` has writes under way that its sink started on threads of their
  // own (parts in flight, archive::BackendSink): its bytes are on the link, so later packs wait
  // as for ready bytes. Separate from SetReady, which the pack's pipe sets from its queue.
  void SetSending(uint64_t ticket, bool sending);
  // Waits until no pack ahead of `ticket` has bytes ready, or `give_up()` is true
  // (checked whenever the order changes and after Wake).
  void WaitTurn(uint64_t ticket, const std::function<bool()>& give_up);
  // Wakes every WaitTurn and BeginRead so that they check their give_up again.
  void Wake();

  // Reads of the packs behind the first one still reading, at once (all of them together).
  static constexpr int kFollowerReads = 2;
  // Waits until the pack `ticket` may start one read of its source, or `give_up()` is true
  // (then returns false and the read must not start). On true, `follower` says how the read
  // was counted: pass it to EndRead when the read ends.
  bool BeginRead(uint64_t ticket, const std::function<bool()>& give_up, bool& follower);
  // BeginRead without waiting: false when the read may not start now.
  bool TryBeginRead(uint64_t ticket, bool& follower);
  void EndRead(bool follower);
  // The pack `ticket` has read everything it packs: the packs behind it read freely.
  void DoneReading(uint64_t ticket);

 private:
  struct Pack {
    uint64_t rank = 0;
    bool ready = false;
    bool sending = false;
    bool reading = true;
  };
  // Whether `ticket` may start a read now (counted as a follower's when it is one).
  // REQUIRES: mu_ held.
  bool MayReadLocked(uint64_t ticket, bool& follower);
  // Sets the pack's `flag` to `value` (nothing for a pack that left) and wakes the waiters.
  void SetFlag(uint64_t ticket, bool Pack::*flag, bool value);
  // REQUIRES: mu_ held. Whether a pack ahead of `ticket` has `flag` set (ready to send, still
  // reading).
  bool Earlier(uint64_t ticket, bool Pack::*flag) const;

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_ = 1;               // GUARDED_BY(mu_)
  std::map<uint64_t, Pack> packs_;  // by ticket; GUARDED_BY(mu_)
  int follower_reads_ = 0;          // GUARDED_BY(mu_): reads counted as followers' under way
};

}  // namespace ferry::transport
