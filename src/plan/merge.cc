#include "plan/merge.h"

#include <string>
#include <string_view>

namespace ferry::plan {
namespace {

// One side of the merge: the cursor, its current object and the key read before it.
class Side {
 public:
  Side(storage::ListingCursor& cursor, std::string_view name) : cursor_(cursor), name_(name) {}

  // Reads the next object into current(); nullptr at the end. Fails with kInternal when the
  // key does not strictly follow the previous one.
  Status Advance() {
    if (current_ != nullptr) {
      previous_.assign(current_->key);
      has_previous_ = true;
    }
    Result<const storage::ObjectInfo*> next = cursor_.Next();
    if (!next.ok()) return next.status();
    current_ = *next;
    if (current_ == nullptr || !has_previous_) return Status::Ok();
    int order = std::string_view(current_->key).compare(previous_);
    if (order > 0) return Status::Ok();
    std::string what = order == 0 ? "duplicate key" : "keys out of order";
    return Status::Internal(std::string(name_) + " listing is broken (" + what + "): \"" +
                            current_->key + "\" after \"" + previous_ + "\"");
  }

  const storage::ObjectInfo* current() const { return current_; }

 private:
  storage::ListingCursor& cursor_;
  std::string_view name_;
  const storage::ObjectInfo* current_ = nullptr;
  std::string previous_;
  bool has_previous_ = false;
};

}  // namespace

Status MergeListings(storage::ListingCursor& src, storage::ListingCursor& dst,
                     ListingVisitor& visitor) {
  Side s(src, "source");
  Side d(dst, "destination");
  FERRY_RETURN_IF_ERROR(s.Advance());
  FERRY_RETURN_IF_ERROR(d.Advance());
  while (s.current() != nullptr || d.current() != nullptr) {
    int order;
    if (s.current() == nullptr) {
      order = 1;  // only the destination is left
    } else if (d.current() == nullptr) {
      order = -1;  // only the source is left
    } else {
      order = std::string_view(s.current()->key).compare(d.current()->key);
    }
    if (order < 0) {
      FERRY_RETURN_IF_ERROR(visitor.SourceOnly(*s.current()));
      FERRY_RETURN_IF_ERROR(s.Advance());
    } else if (order > 0) {
      FERRY_RETURN_IF_ERROR(visitor.DestinationOnly(*d.current()));
      FERRY_RETURN_IF_ERROR(d.Advance());
    } else {
      FERRY_RETURN_IF_ERROR(visitor.Both(*s.current(), *d.current()));
      FERRY_RETURN_IF_ERROR(s.Advance());
      FERRY_RETURN_IF_ERROR(d.Advance());
    }
  }
  return Status::Ok();
}

}  // namespace ferry::plan
