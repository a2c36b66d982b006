// A run planned from inventory rows (`--source-inventory` with `--dest-inventory`, or with the
// destination looked up): the two sides' sorted row records (run_rows.h) merged into one pair
// per key, and which of a pair's facts must be read from the stores before the plan may act.
//
// Rows are claims, up to a day old. A key whose rows the plan would leave alone (equal by the
// run's comparison, or out of its filter) costs no request: the next inventory tells what
// changed since. A key the plan would write, or a destination key it would delete, is never
// acted on from a row: the current facts are read first (ChecksFor), and the plan is made on
// them. So:
//  - a key the source's row names, to be written: the source's object is read now (HEAD); gone
//    since the inventory, nothing is written (the caller reports it); changed since, the copy
//    is planned from what the HEAD says. The destination's object is read too when its side is
//    rows (appeared or changed there since: compared as it is now).
//  - a destination row the source's inventory lacks, with sync --delete: the source is read
//    (it may have the key again) and the destination (it may be gone already); a delete needs
//    the destination's object present and the source's absent, both as read now.
//
// Memory: one record per side and one pair. Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "lists/sorted_keys.h"
#include "storage/object_info.h"

namespace ferry::inventory {

// One key of the run and what each side says of it (nullopt: nothing).
struct RowPair {
  std::string key;
  std::optional<storage::ObjectInfo> source;       // the source inventory's row
  std::optional<storage::ObjectInfo> destination;  // the destination's row (or object)
};

// The union of two sorted record cursors (run_rows.h), one pair per key in key order. A
// second record of a key already seen on a side (an inventory with two current rows of one
// key: S3 writes none) is skipped and counted; the first is used.
class RowPairCursor {
 public:
  // `destination` may be null (no destination inventory: pairs have no destination).
  RowPairCursor(std::unique_ptr<lists::SortedKeyCursor> source,
                std::unique_ptr<lists::SortedKeyCursor> destination);

  // The next pair, nullptr at the end; valid until the next call, and the caller may move its
  // contents out (a run's batch keeps them without a copy). Errors (a cursor's, a record that
  // does not decode) are final.
  Result<RowPair*> Next();
  uint64_t duplicates() const { return duplicates_; }

 private:
  struct Side {
    std::unique_ptr<lists::SortedKeyCursor> cursor;
    std::optional<storage::ObjectInfo> head;  // the next record not yet paired
    bool ended = false;
    Status Advance(uint64_t& duplicates);
  };

  Side source_, destination_;
  bool started_ = false;
  RowPair pair_;
  uint64_t duplicates_ = 0;
  Status error_;
};

struct RowCheckOptions {
  // Whether the plan, given these facts (nullptr: absent), would write the key: its filter
  // passes the source's object and the comparison does not say skip. Required.
  std::function<bool(const storage::ObjectInfo* source, const storage::ObjectInfo* destination)>
      would_write;
  // Whether the plan would delete this destination-only object (sync --delete and its filter
  // passes it). Null: never.
  std::function<bool(const storage::ObjectInfo& destination)> would_delete;
  // The destination side is the destination's objects looked up now, not rows.
  bool destination_current = false;
};

// Which facts must be read now before the plan acts on `pair`.
struct RowChecks {
  bool source = false;
  bool destination = false;
  bool any() const { return source || destination; }
};
RowChecks ChecksFor(const RowPair& pair, const RowCheckOptions& options);

// `pair` with the facts read for `checks` in place of its rows (`source` and `destination` as
// read now, nullopt when absent). Returns true when the source's row named the key and the
// source no longer has it: gone since the inventory.
bool ApplyChecks(RowPair& pair, const RowChecks& checks,
                 std::optional<storage::ObjectInfo> source,
                 std::optional<storage::ObjectInfo> destination);

}  // namespace ferry::inventory
