// RowPairCursor, ChecksFor and ApplyChecks (row_checks.h).
#include "inventory/row_checks.h"

#include <utility>

#include "inventory/run_rows.h"

namespace ferry::inventory {

Status RowPairCursor::Side::Advance(uint64_t& duplicates) {
  for (;;) {
    if (ended || cursor == nullptr) {
      ended = true;
      head.reset();
      return Status::Ok();
    }
    FERRY_ASSIGN_OR_RETURN(const std::string* record, cursor->Next());
    if (record == nullptr) {
      ended = true;
      head.reset();
      return Status::Ok();
    }
    if (head && RunRowKey(*record) == head->key) {  // a second current row of the key
      ++duplicates;
      continue;
    }
    FERRY_ASSIGN_OR_RETURN(storage::ObjectInfo row, DecodeRunRow(*record));
    head = std::move(row);
    return Status::Ok();
  }
}

RowPairCursor::RowPairCursor(std::unique_ptr<lists::SortedKeyCursor> source,
                             std::unique_ptr<lists::SortedKeyCursor> destination) {
  source_.cursor = std::move(source);
  destination_.cursor = std::move(destination);
}

Result<RowPair*> RowPairCursor::Next() {
  if (!error_.ok()) return error_;
  auto fail = [this](Status s) -> Result<RowPair*> {
    error_ = std::move(s);
    return error_;
  };
  if (!started_) {
    started_ = true;
    if (Status s = source_.Advance(duplicates_); !s.ok()) return fail(std::move(s));
    if (Status s = destination_.Advance(duplicates_); !s.ok()) return fail(std::move(s));
  }
  if (!source_.head && !destination_.head) return static_cast<RowPair*>(nullptr);
  const bool take_source =
      source_.head && (!destination_.head || source_.head->key <= destination_.head->key);
  const bool take_destination =
      destination_.head && (!source_.head || destination_.head->key <= source_.head->key);
  pair_.key = take_source ? source_.head->key : destination_.head->key;
  pair_.source.reset();
  pair_.destination.reset();
  // The heads are moved out before Advance: it compares the next record with the last key.
  if (take_source) {
    pair_.source = std::move(source_.head);
    source_.head = storage::ObjectInfo{};
    source_.head->key = pair_.key;
    if (Status s = source_.Advance(duplicates_); !s.ok()) return fail(std::move(s));
  }
  if (take_destination) {
    pair_.destination = std::move(destination_.head);
    destination_.head = storage::ObjectInfo{};
    destination_.head->key = pair_.key;
    if (Status s = destination_.Advance(duplicates_); !s.ok()) return fail(std::move(s));
  }
  return &pair_;
}

RowChecks ChecksFor(const RowPair& pair, const RowCheckOptions& options) {
  RowChecks checks;
  const storage::ObjectInfo* src = pair.source ? &*pair.source : nullptr;
  const storage::ObjectInfo* dst = pair.destination ? &*pair.destination : nullptr;
  if (src != nullptr) {
    if (!options.would_write(src, dst)) return checks;  // equal, or out of scope: no request
  } else if (dst == nullptr || !options.would_delete || !options.would_delete(*dst)) {
    return checks;  // a destination row kept as it is, or nothing
  }
  checks.source = true;
  checks.destination = !options.destination_current;
  return checks;
}

bool ApplyChecks(RowPair& pair, const RowChecks& checks,
                 std::optional<storage::ObjectInfo> source,
                 std::optional<storage::ObjectInfo> destination) {
  bool gone = false;
  if (checks.source) {
    gone = pair.source.has_value() && !source.has_value();
    pair.source = std::move(source);
  }
  if (checks.destination) pair.destination = std::move(destination);
  return gone;
}

}  // namespace ferry::inventory
