#include "transfer/move_source.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "obs/log.h"
#include "plan/decide.h"
#include "storage/find_keys.h"
#include "transfer/executor.h"
#include "transfer/report_rows.h"

namespace ferry::transfer {
namespace {

// The spool's record of `o`: etag NUL size NUL mtime NUL key (no S3 key or file name holds a
// NUL, so the key, last, is the rest).
std::string MovedRecord(const MovedObject& o) {
  std::string r = o.etag;
  r += '\0';
  r += std::to_string(o.size);
  r += '\0';
  r += std::to_string(o.mtime_ns);
  r += '\0';
  r += o.key;
  return r;
}

MovedObject ParseMovedRecord(std::string_view r) {
  MovedObject m;
  const size_t a = r.find('\0');
  const size_t b = r.find('\0', a + 1);
  const size_t c = r.find('\0', b + 1);
  m.etag = std::string(r.substr(0, a));
  std::from_chars(r.data() + a + 1, r.data() + b, m.size);
  std::from_chars(r.data() + b + 1, r.data() + c, m.mtime_ns);
  m.key = std::string(r.substr(c + 1));
  return m;
}

// Whether `now` (the source's object at delete time) is still `moved`.
bool StillTheMovedObject(const MovedObject& moved, const storage::ObjectInfo& now) {
  if (now.size != moved.size) return false;
  if (!moved.etag.empty() && !now.etag.empty()) return now.etag == moved.etag;
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.mtime.time_since_epoch()).count();
  return ns == moved.mtime_ns;
}

}  // namespace

bool ProvesSameBytes(std::string_view reason) {
  return reason == plan::kReasonSameEtag || reason == plan::kReasonSameChecksum ||
         reason == plan::kReasonSameContent;
}

MoveVerdict JudgeMovedCopy(const CopyRequest& r, const char* what, const Status& status,
                           bool not_copied, bool dry_run) {
  using Kind = MoveVerdict::Kind;
  if (!status.ok()) return {};  // a failed copy is a failure already; its source stays
  if (not_copied) return {Kind::kKeep, "its archived source was not copied"};
  if (what != nullptr) {
    // A dry run copies nothing: what it would copy it would also move.
    if (r.unverified && !dry_run) {
      return {Kind::kKeep, "its copy could not be verified by a checksum"};
    }
    return {Kind::kDelete, ""};
  }
  if (r.reason == "source gone") return {};  // deleted since it was listed: nothing to move
  return JudgeIdentical(r.reason);
}

MoveVerdict JudgeIdentical(std::string_view reason) {
  if (ProvesSameBytes(reason)) return {MoveVerdict::Kind::kDelete, ""};
  return {MoveVerdict::Kind::kKeep, "the destination was not proved the same by a checksum (" +
                                        std::string(reason) + ")"};
}

MovedObject MovedOf(const storage::ObjectInfo& src) {
  return {.key = src.key,
          .etag = src.etag,
          .size = src.size,
          .mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          src.mtime.time_since_epoch())
                          .count()};
}

Result<SourcesNow> LookAgainAtSources(storage::Backend& src, std::vector<MovedObject> moved,
                                      std::stop_token stop) {
  std::sort(moved.begin(), moved.end(),
            [](const MovedObject& a, const MovedObject& b) { return a.key < b.key; });
  const auto same_key = [](const MovedObject& a, const MovedObject& b) { return a.key == b.key; };
  moved.erase(std::unique(moved.begin(), moved.end(), same_key), moved.end());
  std::vector<std::string> keys;
  keys.reserve(moved.size());
  for (const auto& m : moved) keys.push_back(m.key);
  // 0: gone from the source (nothing to delete), 1: still the object moved, 2: changed since,
  // 3: under a folder the listing could not enter (decides nothing: kept)
  std::vector<char> now(moved.size(), 0);
  FERRY_RETURN_IF_ERROR(storage::FindKeys(
      src, keys,
      [&](const storage::ObjectInfo& found, size_t first, size_t end) {
        if (end == first + 1 && !found.not_followed) {
          now[first] = StillTheMovedObject(moved[first], found) ? 1 : 2;
        } else {
          for (size_t i = first; i < end; ++i) now[i] = 3;
        }
        return Status::Ok();
      },
      stop));
  SourcesNow out;
  for (size_t i = 0; i < moved.size(); ++i) {
    if (now[i] == 1) {
      out.doomed.push_back(std::move(moved[i].key));
    } else if (now[i] == 2) {
      out.kept.emplace_back(std::move(moved[i].key),
                            "it changed on the source after it was copied (a rerun moves it)");
    } else if (now[i] == 3) {
      out.kept.emplace_back(std::move(moved[i].key),
                            "its folder could not be read again before the delete");
    }
  }
  return out;
}

void SourceDeletes::Watch(CopyRequest& request) {
  request.finished = [this, then = std::move(request.finished)](
                         const CopyRequest& r, const char* what, const Status& status,
                         bool not_copied) {
    Ended(r, what, status, not_copied);
    if (then) then(r, what, status, not_copied);
  };
}

void SourceDeletes::Ended(const CopyRequest& r, const char* what, const Status& status,
                          bool not_copied) {
  Apply(r.src, JudgeMovedCopy(r, what, status, not_copied, dry_run_));
}

void SourceDeletes::Identical(const storage::ObjectInfo& src, std::string_view reason) {
  Apply(src, JudgeIdentical(reason));
}

void SourceDeletes::Apply(const storage::ObjectInfo& src, const MoveVerdict& verdict) {
  if (verdict.kind == MoveVerdict::Kind::kDelete) return Queue(src);
  if (verdict.kind == MoveVerdict::Kind::kKeep) Kept(src.key, verdict.why);
}

void SourceDeletes::Queue(const storage::ObjectInfo& src) {
  if (Status s = spool_.Add(MovedRecord(MovedOf(src))); !s.ok()) {
    stats_.AddFailure(src.key, "move", s);
  }
}

void SourceDeletes::Kept(const std::string& key, std::string_view why) {
  stats_.sources_kept += 1;
  const Status kept = Status::FailedPrecondition("kept on the source: " + std::string(why));
  obs::Log(obs::Level::kWarn, "not moved", {{"key", key}, {"reason", kept.message()}});
  stats_.AddFailure(key, "move", kept);
}

Status SourceDeletes::Run(Executor& executor, storage::Backend& src, std::stop_token stop,
                          size_t batch) {
  if (dry_run_) {
    return spool_.Replay(batch, [&](std::vector<std::string> records) {
      for (const auto& r : records) {
        const MovedObject m = ParseMovedRecord(r);
        obs::Log(obs::Level::kInfo, "would delete from the source", {{"key", m.key}});
        if (report_ != nullptr) report_->Add(SourceDeleteRow(m.key, Status::Ok(), true));
      }
      stats_.sources_deleted += records.size();
    });
  }
  std::unique_ptr<TaskQueue> queue = executor.Open();
  std::stop_callback cancel(stop, [&queue] { queue->Cancel(); });
  Status replayed = spool_.Replay(batch, [&](std::vector<std::string> records) {
    queue->Push([this, &src, r = std::move(records)](std::stop_token task_stop) {
      DeleteBatch(src, r, task_stop);
    }, false);
  });
  queue->Wait();
  return replayed;
}

// One batch: the source looked at again (its current facts), then one DeleteMany of the keys
// that still hold the bytes moved.
void SourceDeletes::DeleteBatch(storage::Backend& src, const std::vector<std::string>& records,
                                std::stop_token stop) {
  std::vector<MovedObject> moved;
  moved.reserve(records.size());
  for (const auto& r : records) moved.push_back(ParseMovedRecord(r));
  const auto fail_all = [&](const Status& s) {
    for (const auto& m : moved) {
      if (report_ != nullptr) report_->Add(SourceDeleteRow(m.key, s, false));
      stats_.AddFailure(m.key, "delete-source", s);
    }
  };
  if (stop.stop_requested()) return fail_all(Status::Cancelled("cancelled"));
  auto now = LookAgainAtSources(src, moved, stop);
  if (!now.ok()) {
    return fail_all(now.status().WithContext("looking at the source again before deleting"));
  }
  for (const auto& [key, why] : now->kept) Kept(key, why);
  const Status s = now->doomed.empty() ? Status::Ok() : src.DeleteMany(now->doomed, stop);
  for (const auto& k : now->doomed) {
    if (report_ != nullptr) report_->Add(SourceDeleteRow(k, s, false));
    if (!s.ok()) stats_.AddFailure(k, "delete-source", s);
  }
  if (s.ok()) stats_.sources_deleted += now->doomed.size();
}

}  // namespace ferry::transfer
