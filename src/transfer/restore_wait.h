// RestoreWaitList: the objects of one TransferEngine session that wait for the restore of
// their archived source (--restore-archived; docs/design/glacier.md), and the rule for when
// to look at them next. Kept in memory: one CopyRequest per waiting object, for the length of
// the run (bounded by the run's number of archived objects, not by its listing).
//
// Polling is done by one task at a time on the session's queue (TransferEngine::PollRestores):
// the list says when one must be scheduled. Invariant: while the list is not empty, exactly
// one poll is scheduled (queued or running).
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <vector>

#include "base/clock.h"
#include "transfer/engine.h"

namespace ferry::transfer {

class RestoreWaitList {
 public:
  struct Entry {
    CopyRequest request;
    Clock::MonoTime deadline{};  // after this, the object is reported as not restored in time
  };

  // Adds one object. True when the caller must schedule a poll (none is scheduled).
  bool Add(Entry entry);
  // Takes every waiting object, for one round of the poll (which owns them meanwhile).
  std::vector<Entry> TakeAll();
  // Gives back what still waits after a round. True when the poll must be scheduled again
  // (something waits, given back or added meanwhile); false when nothing waits (no poll is
  // scheduled then: the next Add schedules one).
  bool PutBack(std::vector<Entry> left);
  // The earliest deadline of the waiting objects; MonoTime::max() when none waits.
  Clock::MonoTime EarliestDeadline() const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;  // GUARDED_BY(mu_)
  bool poll_scheduled_ = false;  // GUARDED_BY(mu_)
};

// How long the poll sleeps before its next round: until `next_round`, or until the earliest
// deadline when that comes first; never negative. Pure.
std::chrono::milliseconds NextPollDelay(Clock::MonoTime now, Clock::MonoTime next_round,
                                        Clock::MonoTime earliest_deadline);

}  // namespace ferry::transfer
