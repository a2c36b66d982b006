// SortKeys: the keys of a list in ascending byte order (the order of listings and of
// plan::MergeListings), each once, with bounded memory whatever the list's length.
//
// Nothing promises a list's keys in order (a manifest is written in the order its maker found
// the keys), so the list is read to its end first — an error anywhere in it (a bad row, a
// truncated gzip) fails SortKeys and nothing is yielded — then:
//  - in memory, when its keys fit in SortKeysOptions::memory_bytes (estimated: each key's
//    bytes plus 48 bytes of bookkeeping): sorted there (not at all when already in order);
//  - in order but larger than the budget, and the list can be opened again (a file, an object;
//    SortKeysOptions::reopen set): the fast path — nothing is held or written, the keys stream
//    from a second read of the list, checked to be in order again as they pass (a list changed
//    between the two reads fails the cursor with kFailedPrecondition);
//  - otherwise an external sort: runs of at most the budget sorted and written to temporary
//    files in SortKeysOptions::temp_dir (created with mkstemp and unlinked at once: nothing
//    stays after the process, even after a crash), then k-way merged, at most kMaxKeyRuns
//    files at once (more are first merged into one). Disk use is about the list's size; memory
//    is the budget plus a 64 KiB read buffer per run being merged.
// Duplicates (anywhere in the list, across runs) are yielded once and counted.
//
// Thread-safety: SortKeys and the cursor it returns are used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "lists/key_list.h"

namespace ferry::lists {

// Yields sorted, unique keys.
class KeyCursor {
 public:
  virtual ~KeyCursor() = default;
  // The next key, or nullptr at the end; valid until the next call. Errors are final.
  virtual Result<const std::string*> Next() = 0;
};

inline constexpr size_t kMaxKeyRuns = 64;

struct SortKeysOptions {
  uint64_t memory_bytes = 32ull << 20;  // keys held in memory, at most (estimated)
  std::string temp_dir;                 // "" = $TMPDIR, else /tmp
  // Opens the list again from its start (a file or an object: not stdin). Unset: the list is
  // read once, and an ordered list larger than the budget is spilled like any other.
  std::function<Result<std::unique_ptr<KeyStream>>()> reopen;
};

struct SortKeysStats {
  uint64_t keys_read = 0;     // keys in the list, duplicates included
  uint64_t duplicates = 0;    // keys read more than once (each extra one counted); complete
                              // once the cursor reached its end
  bool in_order = true;       // the list was in ascending order (duplicates allowed)
  bool streamed = false;      // the fast path: keys read again from the list, nothing held
  uint64_t runs_spilled = 0;  // runs written to temporary files (0: none)
  uint64_t bytes_spilled = 0;
};

// The sorted keys: a KeyCursor that also tells how they were sorted.
class SortedKeyCursor : public KeyCursor {
 public:
  explicit SortedKeyCursor(SortKeysStats stats) : stats_(stats) {}
  // Sorted keys, each once; a key below the one before (a list changed between its two reads)
  // is kFailedPrecondition.
  Result<const std::string*> Next() final;
  const SortKeysStats& stats() const { return stats_; }

 protected:
  // The keys in ascending order, duplicates possible; nullptr at the end.
  virtual Result<const std::string*> Raw() = 0;

 private:
  SortKeysStats stats_;
  std::string last_;
  bool have_last_ = false;
  Status error_;
};

// Reads `first` (the list, from its start) to its end and returns its keys sorted as above.
// Errors: the stream's, unchanged (nothing is yielded after one), and kInternal when a
// temporary file cannot be made or written (naming the folder).
Result<std::unique_ptr<SortedKeyCursor>> SortKeys(std::unique_ptr<KeyStream> first,
                                                  SortKeysOptions options = {});

}  // namespace ferry::lists
