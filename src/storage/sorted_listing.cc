// ListSorted / SortListing: an external sort of a listing (sorted_listing.h). Runs are sorted
// vectors of ObjectInfo; spilled runs are records in temporary files:
//   key, size, etag, mtime (ns), storage_class, version_id, flags, unreadable,
//   content headers (6 strings), metadata (count, then name/value), tags (-1 or count, pairs)
// with strings as [u32 length][bytes] and integers little-endian as the host writes them (the
// files never leave the process).
#include "storage/sorted_listing.h"

#include <algorithm>
#include <cstdio>
#include <queue>
#include <string>
#include <utility>
#include <vector>

namespace ferry::storage {
namespace {

constexpr size_t kReadBuffer = 64u << 10;

Status WriteFailed() {
  return Status::Internal("cannot write a temporary file while sorting a listing (disk full?)");
}

// One spilled run: a temporary file written once, then read back from its start.
class RunFile {
 public:
  RunFile() : file_(std::tmpfile()) {
    if (file_ != nullptr) std::setvbuf(file_, nullptr, _IOFBF, kReadBuffer);
  }
  ~RunFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  RunFile(const RunFile&) = delete;
  RunFile& operator=(const RunFile&) = delete;

  bool ok() const { return file_ != nullptr && !failed_; }

  void Write(const ObjectInfo& o) {
    PutString(o.key);
    PutU64(o.size);
    PutString(o.etag);
    PutU64(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(o.mtime.time_since_epoch()).count()));
    PutString(o.storage_class);
    PutString(o.version_id);
    PutU64((o.delete_marker ? 1u : 0u) | (o.is_latest ? 2u : 0u) | (o.etag_opaque ? 4u : 0u) |
           (o.has_details ? 8u : 0u) | (o.not_followed ? 16u : 0u));
    PutString(o.unreadable);
    const ContentHeaders& c = o.content;
    for (const std::string* s : {&c.content_type, &c.content_encoding, &c.content_language,
                                 &c.content_disposition, &c.cache_control, &c.expires}) {
      PutString(*s);
    }
    PutU64(o.metadata.size());
    for (const auto& [name, value] : o.metadata) PutString(name), PutString(value);
    PutU64(o.tags ? o.tags->size() : ~uint64_t{0});
    if (o.tags) {
      for (const auto& [name, value] : *o.tags) PutString(name), PutString(value);
    }
  }

  // Ends writing; reading starts at the first record.
  Status Rewind() {
    if (!ok() || std::fflush(file_) != 0) return WriteFailed();
    std::rewind(file_);
    return Status::Ok();
  }

  // The next record into `o`; false at the end. kInternal for a torn record.
  Result<bool> Read(ObjectInfo& o) {
    o = ObjectInfo{};
    uint32_t len = 0;
    if (std::fread(&len, sizeof len, 1, file_) != 1) return false;
    o.key.resize(len);
    if (len > 0 && std::fread(o.key.data(), 1, len, file_) != len) return Torn();
    uint64_t v = 0, flags = 0;
    bool good = GetU64(o.size) && GetString(o.etag) && GetU64(v);
    o.mtime = std::chrono::system_clock::time_point(std::chrono::duration_cast<
        std::chrono::system_clock::duration>(std::chrono::nanoseconds(static_cast<int64_t>(v))));
    good = good && GetString(o.storage_class) && GetString(o.version_id) && GetU64(flags) &&
           GetString(o.unreadable);
    o.delete_marker = (flags & 1u) != 0;
    o.is_latest = (flags & 2u) != 0;
    o.etag_opaque = (flags & 4u) != 0;
    o.has_details = (flags & 8u) != 0;
    o.not_followed = (flags & 16u) != 0;
    ContentHeaders& c = o.content;
    for (std::string* s : {&c.content_type, &c.content_encoding, &c.content_language,
                           &c.content_disposition, &c.cache_control, &c.expires}) {
      good = good && GetString(*s);
    }
    uint64_t n = 0;
    good = good && GetU64(n);
    for (uint64_t i = 0; good && i < n; ++i) {
      std::string name, value;
      good = GetString(name) && GetString(value);
      o.metadata.emplace(std::move(name), std::move(value));
    }
    good = good && GetU64(n);
    if (good && n != ~uint64_t{0}) {
      o.tags.emplace();
      for (uint64_t i = 0; good && i < n; ++i) {
        std::string name, value;
        good = GetString(name) && GetString(value);
        o.tags->emplace_back(std::move(name), std::move(value));
      }
    }
    if (!good) return Torn();
    return true;
  }

 private:
  static Status Torn() {
    return Status::Internal("a temporary file of a listing sort was cut short");
  }
  void PutU64(uint64_t v) {
    if (!ok()) return;
    failed_ = std::fwrite(&v, sizeof v, 1, file_) != 1;
  }
  void PutString(const std::string& s) {
    if (!ok()) return;
    const auto len = static_cast<uint32_t>(s.size());
    failed_ = std::fwrite(&len, sizeof len, 1, file_) != 1 ||
              (len > 0 && std::fwrite(s.data(), 1, len, file_) != len);
  }
  bool GetU64(uint64_t& v) { return std::fread(&v, sizeof v, 1, file_) == 1; }
  bool GetString(std::string& s) {
    uint32_t len = 0;
    if (std::fread(&len, sizeof len, 1, file_) != 1) return false;
    s.resize(len);
    return len == 0 || std::fread(s.data(), 1, len, file_) == len;
  }

  std::FILE* file_;
  bool failed_ = false;
};

// Roughly what one entry costs in memory.
uint64_t EstimatedBytes(const ObjectInfo& o) {
  uint64_t n = sizeof(ObjectInfo) + o.key.size() + o.etag.size() + o.storage_class.size() +
               o.version_id.size() + o.unreadable.size();
  for (const auto& [name, value] : o.metadata) n += 64 + name.size() + value.size();
  if (o.tags) {
    for (const auto& [name, value] : *o.tags) n += 64 + name.size() + value.size();
  }
  return n;
}

bool KeyLess(const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; }

// Merges runs, smallest key first (equal keys: the earlier run first, so the merge is stable).
class RunMerger {
 public:
  explicit RunMerger(std::vector<std::unique_ptr<RunFile>> runs) : runs_(std::move(runs)) {}

  Status Start() {
    heads_.resize(runs_.size());
    for (size_t i = 0; i < runs_.size(); ++i) {
      FERRY_RETURN_IF_ERROR(runs_[i]->Rewind());
      FERRY_RETURN_IF_ERROR(Refill(i));
    }
    return Status::Ok();
  }
  // The next entry, or nullptr at the end; valid until the next call.
  Result<const ObjectInfo*> Next() {
    if (last_ != kNone) FERRY_RETURN_IF_ERROR(Refill(last_));
    last_ = kNone;
    if (order_.empty()) return static_cast<const ObjectInfo*>(nullptr);
    last_ = order_.top();
    order_.pop();
    current_ = std::move(heads_[last_]);
    return static_cast<const ObjectInfo*>(&current_);
  }

 private:
  static constexpr size_t kNone = ~size_t{0};
  Status Refill(size_t i) {
    FERRY_ASSIGN_OR_RETURN(bool more, runs_[i]->Read(heads_[i]));
    if (more) order_.push(i);
    return Status::Ok();
  }
  struct Later {
    const std::vector<ObjectInfo>* heads;
    bool operator()(size_t a, size_t b) const {
      const int c = (*heads)[a].key.compare((*heads)[b].key);
      return c > 0 || (c == 0 && a > b);
    }
  };

  std::vector<std::unique_ptr<RunFile>> runs_;
  std::vector<ObjectInfo> heads_;
  std::priority_queue<size_t, std::vector<size_t>, Later> order_{Later{&heads_}};
  size_t last_ = kNone;
  ObjectInfo current_;
};

class SortingCursor : public ListingCursor {
 public:
  SortingCursor(std::unique_ptr<ListingCursor> inner, SortOptions options)
      : inner_(std::move(inner)), options_(std::move(options)) {}

  Result<const ObjectInfo*> Next() override {
    if (!sorted_) {
      FERRY_RETURN_IF_ERROR(Sort());
      sorted_ = true;
    }
    if (merger_) return merger_->Next();
    if (index_ >= memory_.size()) return static_cast<const ObjectInfo*>(nullptr);
    return static_cast<const ObjectInfo*>(&memory_[index_++]);
  }

 private:
  Status Sort() {
    uint64_t held = 0;
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(const ObjectInfo* o, inner_->Next());
      if (o == nullptr) break;
      if (options_.keep && !options_.keep(*o)) continue;
      held += EstimatedBytes(*o);
      memory_.push_back(*o);
      if (held >= options_.run_bytes) {
        FERRY_RETURN_IF_ERROR(Spill());
        held = 0;
      }
    }
    inner_.reset();  // the store's listing is done: its page buffers go now
    if (runs_.empty()) {  // one run: served from memory
      std::stable_sort(memory_.begin(), memory_.end(), KeyLess);
      return Status::Ok();
    }
    FERRY_RETURN_IF_ERROR(Spill());
    merger_ = std::make_unique<RunMerger>(std::move(runs_));
    return merger_->Start();
  }

  // Writes the entries held as one sorted run; keeps at most kMaxRuns runs.
  Status Spill() {
    if (memory_.empty()) return Status::Ok();
    std::stable_sort(memory_.begin(), memory_.end(), KeyLess);
    auto run = std::make_unique<RunFile>();
    for (const ObjectInfo& o : memory_) run->Write(o);
    if (!run->ok()) return WriteFailed();
    memory_.clear();
    memory_.shrink_to_fit();
    runs_.push_back(std::move(run));
    if (runs_.size() < kMaxRuns) return Status::Ok();
    // Too many runs to merge at once: fold them into one.
    RunMerger merger(std::move(runs_));
    runs_.clear();
    FERRY_RETURN_IF_ERROR(merger.Start());
    auto folded = std::make_unique<RunFile>();
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(const ObjectInfo* o, merger.Next());
      if (o == nullptr) break;
      folded->Write(*o);
    }
    if (!folded->ok()) return WriteFailed();
    runs_.push_back(std::move(folded));
    return Status::Ok();
  }

  std::unique_ptr<ListingCursor> inner_;
  SortOptions options_;
  bool sorted_ = false;
  std::vector<ObjectInfo> memory_;
  size_t index_ = 0;
  std::vector<std::unique_ptr<RunFile>> runs_;
  std::unique_ptr<RunMerger> merger_;
};

}  // namespace

std::unique_ptr<ListingCursor> SortListing(std::unique_ptr<ListingCursor> unsorted,
                                           SortOptions options) {
  return std::make_unique<SortingCursor>(std::move(unsorted), std::move(options));
}

Result<std::unique_ptr<ListingCursor>> ListSorted(Backend& backend, std::string_view prefix,
                                                  std::string_view start_after,
                                                  SortOptions options) {
  FERRY_ASSIGN_OR_RETURN(auto cursor, start_after.empty() ? backend.List(prefix)
                                                          : backend.ListFrom(prefix, start_after));
  if (backend.features().sorted_listing) return cursor;
  return SortListing(std::move(cursor), std::move(options));
}

}  // namespace ferry::storage
