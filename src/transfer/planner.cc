#include "transfer/planner.h"

namespace ferry::transfer {
namespace {

// True when every key inside `region` ("a/": the keys under a folder) sorts before `key`, which
// is neither inside it nor equal to it. Keys reach the planner in ascending order, so a region
// once passed stays passed.
bool Passed(std::string_view region, std::string_view key) {
  return key > region && !key.starts_with(region);
}

bool IsFolderKey(std::string_view key) { return key.empty() || key.ends_with('/'); }

CopyRequest PlannedPairRequest(const storage::ObjectInfo* src, const storage::ObjectInfo* dst) {
  CopyRequest r;
  r.src = *src;
  if (dst != nullptr) r.dst = *dst;
  return r;
}

}  // namespace

Status Planner::Advance(std::string_view key) {
  size_t released = 0;
  while (released < held_.size() && Passed(held_[released].request.src.key + "/", key)) {
    FERRY_RETURN_IF_ERROR(Release(held_[released]));
    ++released;
  }
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(released));
  while (!deleted_files_.empty() && Passed(deleted_files_.back(), key)) deleted_files_.pop_back();
  if (!unreadable_folder_.empty() && Passed(unreadable_folder_, key)) unreadable_folder_.clear();
  return Status::Ok();
}

Status Planner::Release(Held& held) {
  if (held.conflict) {
    stats_.conflicts_deferred += 1;
    return Status::Ok();
  }
  return Plan(std::move(held.request));
}

Status Planner::Plan(CopyRequest request) {
  stats_.objects_planned += 1;
  stats_.bytes_planned += request.src.size;
  return sink_.Copy(std::move(request));
}

Status Planner::Finish(const FolderProbe& folder_below) {
  for (Held& held : held_) {
    if (!held.conflict && folder_below) {
      FERRY_ASSIGN_OR_RETURN(bool below, folder_below(held.request.src.key + "/"));
      held.conflict = below;
    }
    FERRY_RETURN_IF_ERROR(Release(held));
  }
  held_.clear();
  return Status::Ok();
}

Status Planner::DestinationOnly(const storage::ObjectInfo& dst) {
  FERRY_RETURN_IF_ERROR(Advance(dst.key));
  if (!filter_.Matches(dst)) return Status::Ok();
  ++destination_in_scope_;
  if (!delete_extra_) return Status::Ok();
  // Under a source folder that could not be listed: its keys are unknown, not absent.
  if (!unreadable_folder_.empty() && dst.key.starts_with(unreadable_folder_)) {
    return Status::Ok();
  }
  for (Held& held : held_) {
    if (dst.key.starts_with(held.request.src.key + "/")) held.conflict = true;
  }
  stats_.deletes_planned += 1;
  FERRY_RETURN_IF_ERROR(sink_.Delete(dst));
  if (PathKeys()) deleted_files_.push_back(dst.key + "/");
  return Status::Ok();
}

Status Planner::Handle(const storage::ObjectInfo* src, const storage::ObjectInfo* dst) {
  FERRY_RETURN_IF_ERROR(Advance(src->key));
  if (src->not_followed) {
    // A folder the listing did not enter: its destination keys stay, nothing is copied.
    stats_.folders_not_followed += 1;
    unreadable_folder_ = src->key;
    return Status::Ok();
  }
  const bool unreadable_folder = !src->unreadable.empty() && src->key.ends_with('/');
  if (!unreadable_folder && !filter_.Matches(*src)) {
    return Status::Ok();  // the destination is left alone too
  }
  if (!src->unreadable.empty()) {
    // Never skipped, never absent: the copy fails (the source read reports why), so the run
    // fails and deletes nothing.
    stats_.objects_listed += 1;
    if (unreadable_folder) unreadable_folder_ = src->key;
    CopyRequest r = PlannedPairRequest(src, dst);
    r.reason = "unreadable: " + src->unreadable;
    return Plan(std::move(r));
  }
  if (!dst_folder_markers_ && IsFolderKey(src->key) && src->size == 0) {
    stats_.markers_skipped += 1;  // a folder marker: folders are implied by their keys here
    return Status::Ok();
  }
  if (PathKeys()) {
    for (const std::string& file : deleted_files_) {
      if (src->key.starts_with(file)) {  // "a/b" while the file "a" is deleted by this run
        stats_.conflicts_deferred += 1;
        return Status::Ok();
      }
    }
  }
  stats_.objects_listed += 1;
  const plan::Decision d = plan::Decide(src, dst, decide_);
  if (d.verdict == plan::Verdict::kSkip || d.verdict == plan::Verdict::kDelete) {
    stats_.objects_skipped += 1;
    sink_.Skipped(*src, d.reason);
    return Status::Ok();
  }
  // Only now the pair is copied into a request: most pairs of a large run are skipped, and
  // copying two ObjectInfo (strings, metadata maps) each was most of their planning cost.
  CopyRequest r = PlannedPairRequest(src, dst);
  r.need_details = d.verdict == plan::Verdict::kNeedDetails;
  r.reason = d.reason;
  if (PathKeys() && dst == nullptr && !IsFolderKey(src->key)) {
    // Held until the merge is past "key/": destination keys there would be in its way.
    held_.push_back(Held{std::move(r), false});
    return Status::Ok();
  }
  return Plan(std::move(r));
}

}  // namespace ferry::transfer
