// VectorCursor: a ListingCursor that serves a std::vector<ObjectInfo>, for tests of the
// planner and of anything that consumes listings. It serves the objects exactly in the order
// given (it does not sort), so tests can also feed out-of-order or duplicate listings.
// An injected failure (FailAt) makes Next() return that status at a chosen position.
//
// Thread-safety: like every ListingCursor, one thread at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/backend.h"
#include "storage/object_info.h"

namespace ferry::plan {

class VectorCursor : public storage::ListingCursor {
 public:
  explicit VectorCursor(std::vector<storage::ObjectInfo> objects) : objects_(std::move(objects)) {}

  // After `served` objects have been returned, Next() returns `status` (non-OK) instead of the
  // next object or the end. It keeps returning it.
  void FailAt(size_t served, Status status) {
    FERRY_CHECK(!status.ok());
    fail_at_ = served;
    failure_ = std::move(status);
  }

  // Number of successful Next() calls that returned an object (not the end).
  size_t served() const { return next_; }

  Result<const storage::ObjectInfo*> Next() override {
    if (fail_at_.has_value() && next_ == *fail_at_) return failure_;
    if (next_ == objects_.size()) return static_cast<const storage::ObjectInfo*>(nullptr);
    return &objects_[next_++];
  }

 private:
  std::vector<storage::ObjectInfo> objects_;
  size_t next_ = 0;
  std::optional<size_t> fail_at_;
  Status failure_;
};

}  // namespace ferry::plan
