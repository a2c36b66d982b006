// TransferEngine: archived sources (docs/design/glacier.md). An archived object is read only
// from a restored copy: without --restore-archived it is reported, with it its restore is asked
// for and the object waits in the session's RestoreWaitList, polled by one task at a time on
// the session's queue (no thread of its own), until it is readable (then copied as any object,
// after a fresh look at both sides) or --restore-wait has passed (reported, not failed).
#include <string>

#include "obs/log.h"
#include "transfer/engine.h"
#include "transfer/restore_wait.h"

namespace ferry::transfer {
namespace {

// How an archived object is named in messages: its class, or the Intelligent-Tiering tier.
std::string ArchiveClassOf(const storage::ObjectInfo& o) {
  return o.storage_class.empty() ? "archive tier" : o.storage_class;
}

// `fresh` (a HEAD of the source) in place of what the listing said; the listing's mtime keeps
// a file's nanoseconds when the object is the same.
void AdoptDetails(storage::ObjectInfo& src, storage::ObjectInfo fresh) {
  const storage::ObjectInfo listed = src;
  src = std::move(fresh);
  if (src.size == listed.size && src.etag == listed.etag) src.mtime = listed.mtime;
}

}  // namespace

bool TransferEngine::HoldArchived(CopyRequest& r, std::stop_token stop) {
  if (!r.src.archive.archived || r.src.archive.readable()) return false;
  if (!r.src.has_details) {
    // A listing knows the class only: whether a restore finished takes a HEAD.
    auto details = src_.Stat(r.src.key, /*with_tags=*/false, stop);
    if (!details.ok() && details.status().code() == ErrorCode::kNotFound) {
      Skipped(r);  // deleted since listed: nothing to copy
      Complete(r, nullptr, Status::Ok(), 0);
      return true;
    }
    if (!details.ok()) {
      Complete(r, nullptr, details.status().WithContext("stat archived source"), 0);
      return true;
    }
    stats_.details_fetched += 1;
    AdoptDetails(r.src, std::move(details).value());
    if (!r.src.archive.archived || r.src.archive.readable()) return false;
  }
  const RestoreOptions& ro = options_.restore;
  if (!ro.enabled() || options_.dry_run) {
    NotCopied(r, r.src.archive.restore_requested
                     ? "archived, its restore not finished; not copied"
                     : "archived, not copied: --restore-archived DAYS restores it");
    return true;
  }
  auto outcome = src_.RequestRestore(r.src, storage::RestoreSpec{.days = ro.days, .tier = ro.tier},
                                     stop);
  if (!outcome.ok()) {
    Complete(r, nullptr, outcome.status(), 0);
    return true;
  }
  // Readable since the HEAD: copied now (a read that still finds it archived fails with
  // kFailedPrecondition, and RunCopy's next round looks again).
  if (*outcome == storage::RestoreOutcome::kAlreadyRestored) return false;
  stats_.restores_requested += 1;
  obs::Log(obs::Level::kInfo,
           *outcome == storage::RestoreOutcome::kStarted ? "restore requested"
                                                         : "restore already in progress",
           {{"key", r.src.key},
            {"class", ArchiveClassOf(r.src)},
            {"days", ro.days},
            {"tier", ro.tier}});
  Clock& clock = ClockOr(ro.clock);
  const auto deadline = clock.MonoNow() + ro.wait;
  if (restores_->Add({std::move(r), deadline})) {
    next_restore_round_ = clock.MonoNow() + ro.poll;
    queue_->PushBehind([this](std::stop_token s) { PollRestores(s); });
  }
  return true;
}

void TransferEngine::NotCopied(const CopyRequest& r, std::string_view why) {
  stats_.archived_not_copied += 1;
  stats_.objects_planned -= 1;
  stats_.bytes_planned -= r.src.size;
  obs::Log(obs::Level::kWarn, why, {{"key", r.src.key}, {"class", ArchiveClassOf(r.src)}});
  Complete(r, nullptr, Status::Ok(), 0, /*not_copied=*/true);
}

void TransferEngine::Requeue(CopyRequest request) {
  Push([this, r = std::move(request)](std::stop_token stop) mutable {
         WithJointStop(stop, r.cancel, [&](std::stop_token joint) { RunCopy(r, joint); });
       },
       /*priority=*/true);
}

void TransferEngine::PollRestores(std::stop_token stop) {
  const RestoreOptions& ro = options_.restore;
  Clock& clock = ClockOr(ro.clock);
  if (!stop.stop_requested()) {
    const auto delay =
        NextPollDelay(clock.MonoNow(), next_restore_round_, restores_->EarliestDeadline());
    if (delay.count() > 0 && queue_->HasQueuedObjects()) {
      // Not due, and objects wait to be started: after them.
      queue_->PushBehind([this](std::stop_token s) { PollRestores(s); });
      return;
    }
    clock.SleepFor(delay, stop);
  }
  next_restore_round_ = clock.MonoNow() + ro.poll;
  std::vector<RestoreWaitList::Entry> left;
  for (RestoreWaitList::Entry& e : restores_->TakeAll()) {
    CopyRequest& r = e.request;
    if (stop.stop_requested() || r.cancel.stop_requested()) {
      Complete(r, nullptr, Status::Cancelled("cancelled while waiting for its restore"), 0);
      continue;
    }
    auto now = src_.Stat(r.src.key, /*with_tags=*/false, stop);
    if (!now.ok() && now.status().code() == ErrorCode::kNotFound) {
      Skipped(r);  // deleted while its restore ran
      Complete(r, nullptr, Status::Ok(), 0);
      continue;
    }
    if (!now.ok()) {
      Complete(r, nullptr, now.status().WithContext("stat while waiting for its restore"), 0);
      continue;
    }
    stats_.details_fetched += 1;
    if (now->archive.readable()) {
      AdoptDetails(r.src, std::move(now).value());
      // Decided again from both sides as they are now, then copied with every check.
      r.need_details = true;
      Requeue(std::move(r));
      continue;
    }
    if (clock.MonoNow() >= e.deadline) {
      NotCopied(r, "archived, its restore did not finish within --restore-wait; not copied");
      continue;
    }
    left.push_back(std::move(e));
  }
  if (restores_->PutBack(std::move(left))) {
    queue_->PushBehind([this](std::stop_token s) { PollRestores(s); });
  }
}

}  // namespace ferry::transfer
