// SortKeys (sorted_keys.h): an external sort of a key list. Spilled runs are temporary files
// of [u32 length][bytes] records, the host's byte order (they never leave the process).
#include "lists/sorted_keys.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <utility>
#include <vector>

namespace ferry::lists {
namespace {

constexpr uint64_t kKeyBookkeeping = 48;  // a std::string and its vector slot, about
constexpr size_t kRunReadBuffer = 64u << 10;

std::string TempFolder(const std::string& given) {
  if (!given.empty()) return given;
  const char* env = std::getenv("TMPDIR");
  return env != nullptr && *env != '\0' ? env : "/tmp";
}

// One spilled run: written once, then read from its start. Unlinked when made.
class KeyRunFile {
 public:
  static Result<std::unique_ptr<KeyRunFile>> Create(const std::string& folder) {
    std::string path = folder + "/ferry-keys-XXXXXX";
    const int fd = ::mkstemp(path.data());
    if (fd < 0) {
      return Status::Internal("cannot make a temporary file in " + folder +
                              " to sort a key list: " + std::strerror(errno));
    }
    ::unlink(path.c_str());
    std::FILE* file = ::fdopen(fd, "w+b");
    if (file == nullptr) {
      ::close(fd);
      return Status::Internal("cannot open a temporary file in " + folder);
    }
    std::setvbuf(file, nullptr, _IOFBF, kRunReadBuffer);
    return std::unique_ptr<KeyRunFile>(new KeyRunFile(file, folder));
  }
  ~KeyRunFile() { std::fclose(file_); }
  KeyRunFile(const KeyRunFile&) = delete;
  KeyRunFile& operator=(const KeyRunFile&) = delete;

  Status Put(const std::string& key) {
    const auto n = static_cast<uint32_t>(key.size());
    if (std::fwrite(&n, sizeof n, 1, file_) != 1 ||
        std::fwrite(key.data(), 1, key.size(), file_) != key.size()) {
      return WriteFailed();
    }
    bytes_ += sizeof n + key.size();
    return Status::Ok();
  }
  Status Rewind() {
    if (std::fflush(file_) != 0) return WriteFailed();
    std::rewind(file_);
    return Status::Ok();
  }
  // The next key into `key`; false at the end.
  Result<bool> Get(std::string& key) {
    uint32_t n = 0;
    if (std::fread(&n, sizeof n, 1, file_) != 1) return false;
    key.resize(n);
    if (n > 0 && std::fread(key.data(), 1, n, file_) != n) {
      return Status::Internal("a temporary file of a key list's sort is torn");
    }
    return true;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  KeyRunFile(std::FILE* file, std::string folder) : file_(file), folder_(std::move(folder)) {}
  Status WriteFailed() const {
    return Status::Internal("cannot write a temporary file in " + folder_ +
                            " while sorting a key list (disk full?)");
  }
  std::FILE* file_;
  std::string folder_;
  uint64_t bytes_ = 0;
};

// Keys held in memory, sorted.
class MemoryKeyCursor : public SortedKeyCursor {
 public:
  MemoryKeyCursor(std::vector<std::string> keys, SortKeysStats stats)
      : SortedKeyCursor(stats), keys_(std::move(keys)) {}

 protected:
  Result<const std::string*> Raw() override {
    if (at_ == keys_.size()) return static_cast<const std::string*>(nullptr);
    return &keys_[at_++];
  }

 private:
  std::vector<std::string> keys_;
  size_t at_ = 0;
};

// The list read again (the fast path of an ordered list).
class StreamKeyCursor : public SortedKeyCursor {
 public:
  StreamKeyCursor(std::unique_ptr<KeyStream> stream, SortKeysStats stats)
      : SortedKeyCursor(stats), stream_(std::move(stream)) {}

 protected:
  Result<const std::string*> Raw() override {
    FERRY_ASSIGN_OR_RETURN(auto key, stream_->Next());
    if (!key) return static_cast<const std::string*>(nullptr);
    key_ = std::move(*key);
    return &key_;
  }

 private:
  std::unique_ptr<KeyStream> stream_;
  std::string key_;
};

// The k-way merge of spilled runs and the keys still in memory.
class MergeKeyCursor : public SortedKeyCursor {
 public:
  MergeKeyCursor(std::vector<std::unique_ptr<KeyRunFile>> runs, std::vector<std::string> tail,
                 SortKeysStats stats)
      : SortedKeyCursor(stats), runs_(std::move(runs)), tail_(std::move(tail)),
        heads_(runs_.size() + 1) {}

  // Rewinds the runs and reads each one's first key.
  Status Start() {
    for (size_t i = 0; i < runs_.size(); ++i) {
      FERRY_RETURN_IF_ERROR(runs_[i]->Rewind());
      FERRY_RETURN_IF_ERROR(Advance(i));
    }
    return Advance(runs_.size());
  }

 protected:
  Result<const std::string*> Raw() override {
    if (current_ != kNone) FERRY_RETURN_IF_ERROR(Advance(current_));
    if (heap_.empty()) {
      current_ = kNone;
      return static_cast<const std::string*>(nullptr);
    }
    current_ = heap_.top();
    heap_.pop();
    return &heads_[current_];
  }

 private:
  static constexpr size_t kNone = ~size_t{0};
  struct Greater {
    const std::vector<std::string>* heads;
    bool operator()(size_t a, size_t b) const { return (*heads)[a] > (*heads)[b]; }
  };

  // Reads source i's next key into heads_[i] and puts it on the heap (the tail is source
  // runs_.size()).
  Status Advance(size_t i) {
    bool more = false;
    if (i < runs_.size()) {
      FERRY_ASSIGN_OR_RETURN(more, runs_[i]->Get(heads_[i]));
    } else if (tail_at_ < tail_.size()) {
      heads_[i] = std::move(tail_[tail_at_++]);
      more = true;
    }
    if (more) heap_.push(i);
    return Status::Ok();
  }

  std::vector<std::unique_ptr<KeyRunFile>> runs_;
  std::vector<std::string> tail_;
  size_t tail_at_ = 0;
  std::vector<std::string> heads_;
  std::priority_queue<size_t, std::vector<size_t>, Greater> heap_{Greater{&heads_}};
  size_t current_ = kNone;
};

// What one read of the list gathered.
struct Gathered {
  std::vector<std::string> held;  // keys in memory (sorted once the read ends)
  std::vector<std::unique_ptr<KeyRunFile>> runs;
  SortKeysStats stats;
  bool must_restart = false;  // the fast path was taken and the list turned out unordered
};

class KeySorter {
 public:
  explicit KeySorter(const SortKeysOptions& options)
      : options_(options), folder_(TempFolder(options.temp_dir)) {}

  // Reads `stream` to its end. With `allow_fast`, an ordered list over the budget is not held
  // (must_restart when it then turns out unordered).
  Result<Gathered> Gather(KeyStream& stream, bool allow_fast) {
    Gathered g;
    uint64_t held_bytes = 0;
    bool holding = true;
    std::string prev;
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(auto key, stream.Next());
      if (!key) break;
      ++g.stats.keys_read;
      if (g.stats.keys_read > 1 && *key < prev) g.stats.in_order = false;
      prev = *key;
      if (!holding) {
        if (!g.stats.in_order) {
          g.must_restart = true;
          return g;
        }
        continue;
      }
      held_bytes += key->size() + kKeyBookkeeping;
      g.held.push_back(std::move(*key));
      if (held_bytes <= options_.memory_bytes) continue;
      if (allow_fast && g.stats.in_order && g.runs.empty()) {
        holding = false;  // the fast path: the keys come again from a second read
        std::vector<std::string>().swap(g.held);
        continue;
      }
      FERRY_RETURN_IF_ERROR(Spill(g));
      held_bytes = 0;
    }
    g.stats.streamed = !holding;
    std::sort(g.held.begin(), g.held.end());  // cheap when in order
    return g;
  }

 private:
  // Writes the held keys as one sorted run (duplicates in it dropped and counted); merges
  // the runs into one when there are kMaxKeyRuns.
  Status Spill(Gathered& g) {
    std::sort(g.held.begin(), g.held.end());
    FERRY_ASSIGN_OR_RETURN(auto run, KeyRunFile::Create(folder_));
    for (size_t i = 0; i < g.held.size(); ++i) {
      if (i > 0 && g.held[i] == g.held[i - 1]) {
        ++g.stats.duplicates;
        continue;
      }
      FERRY_RETURN_IF_ERROR(run->Put(g.held[i]));
    }
    std::vector<std::string>().swap(g.held);
    g.stats.bytes_spilled += run->bytes();
    ++g.stats.runs_spilled;
    g.runs.push_back(std::move(run));
    if (g.runs.size() < kMaxKeyRuns) return Status::Ok();
    MergeKeyCursor merge(std::move(g.runs), {}, {});
    g.runs.clear();
    FERRY_RETURN_IF_ERROR(merge.Start());
    FERRY_ASSIGN_OR_RETURN(auto merged, KeyRunFile::Create(folder_));
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(const std::string* key, merge.Next());
      if (key == nullptr) break;
      FERRY_RETURN_IF_ERROR(merged->Put(*key));
    }
    g.stats.duplicates += merge.stats().duplicates;
    g.stats.bytes_spilled += merged->bytes();
    g.runs.push_back(std::move(merged));
    return Status::Ok();
  }

  const SortKeysOptions& options_;
  std::string folder_;
};

}  // namespace

Result<const std::string*> SortedKeyCursor::Next() {
  if (!error_.ok()) return error_;
  for (;;) {
    auto key = Raw();
    if (!key.ok()) {
      error_ = key.status();
      return error_;
    }
    if (*key == nullptr) return *key;
    if (have_last_ && **key == last_) {
      ++stats_.duplicates;
      continue;
    }
    if (have_last_ && **key < last_) {
      error_ = Status::FailedPrecondition("the key list changed between its two reads (\"" +
                                          **key + "\" came after \"" + last_ + "\")");
      return error_;
    }
    last_ = **key;
    have_last_ = true;
    return &last_;
  }
}

Result<std::unique_ptr<SortedKeyCursor>> SortKeys(std::unique_ptr<KeyStream> first,
                                                  SortKeysOptions options) {
  KeySorter sorter(options);
  FERRY_ASSIGN_OR_RETURN(Gathered g, sorter.Gather(*first, static_cast<bool>(options.reopen)));
  if (g.must_restart) {
    // An ordered start over the budget, then a key out of order: sort it all after all.
    FERRY_ASSIGN_OR_RETURN(first, options.reopen());
    FERRY_ASSIGN_OR_RETURN(g, sorter.Gather(*first, /*allow_fast=*/false));
  }
  if (g.stats.streamed) {
    FERRY_ASSIGN_OR_RETURN(auto again, options.reopen());
    return std::unique_ptr<SortedKeyCursor>(new StreamKeyCursor(std::move(again), g.stats));
  }
  if (g.runs.empty()) {
    return std::unique_ptr<SortedKeyCursor>(new MemoryKeyCursor(std::move(g.held), g.stats));
  }
  auto merge = std::make_unique<MergeKeyCursor>(std::move(g.runs), std::move(g.held), g.stats);
  FERRY_RETURN_IF_ERROR(merge->Start());
  return std::unique_ptr<SortedKeyCursor>(std::move(merge));
}

}  // namespace ferry::lists
