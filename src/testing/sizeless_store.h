// SizelessChunkedStore: a memory store whose chunked writes take no size up front, as S3's
// multipart uploads do (the memory backend wants the size when the write opens). Parts are
// kept by their offset and the object is put at Commit: it exists only once complete, as an
// upload's object. Counts what tests look at: writes opened, bytes received, commits.
// `part_hook` (if set) runs before each part is kept, outside any lock: tests block parts in
// it or fail them.
// Thread-safety: the counters are atomics; a writer takes parts from several threads at once
// (as S3's do), its Commit after them.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/memory/memory_backend.h"

namespace ferry::testing {

class SizelessChunkedStore : public storage::MemoryBackend {
 public:
  using storage::MemoryBackend::MemoryBackend;

  Result<std::unique_ptr<storage::ChunkWriter>> OpenChunkWriter(std::string_view key,
                                                                const storage::WriteSpec& spec,
                                                                uint64_t /*part_size*/,
                                                                std::stop_token) override {
    ++opened;
    if (!open_failure.ok()) return open_failure;
    return std::unique_ptr<storage::ChunkWriter>(new Writer(*this, std::string(key), spec));
  }

  std::atomic<int> opened{0};             // chunked writes opened
  std::atomic<uint64_t> received{0};      // bytes their WriteChunk calls got
  std::atomic<int> committed{0};          // chunked writes completed
  std::function<Status(int part_number)> part_hook;  // set before writes start
  Status open_failure;  // what OpenChunkWriter returns, when not ok

 private:
  class Writer : public storage::ChunkWriter {
   public:
    Writer(SizelessChunkedStore& b, std::string key, storage::WriteSpec spec)
        : b_(b), key_(std::move(key)), spec_(std::move(spec)) {}
    const std::string& upload_id() const override { return key_; }
    Status WriteChunk(int part_number, uint64_t offset, std::span<const std::byte> data,
                      std::stop_token) override {
      if (b_.part_hook) FERRY_RETURN_IF_ERROR(b_.part_hook(part_number));
      std::lock_guard lock(mu_);
      if (bytes_.size() < offset + data.size()) bytes_.resize(offset + data.size());
      std::copy(data.begin(), data.end(), bytes_.begin() + static_cast<ptrdiff_t>(offset));
      b_.received += data.size();
      return Status::Ok();
    }
    Result<storage::WriteResult> Commit(std::stop_token stop) override {
      std::lock_guard lock(mu_);
      spec_.size = bytes_.size();
      auto r = b_.Put(key_, bytes_, spec_, stop);
      if (r.ok()) ++b_.committed;
      return r;
    }
    Status Abort() override { return Status::Ok(); }
    Result<std::optional<std::vector<storage::StoredPart>>> ListStoredParts(
        std::stop_token) override {
      return std::optional<std::vector<storage::StoredPart>>();
    }
    void AdoptPart(const storage::StoredPart&) override {}
    void Detach() override {}

   private:
    SizelessChunkedStore& b_;
    std::string key_;
    storage::WriteSpec spec_;
    std::mutex mu_;
    std::vector<std::byte> bytes_;  // GUARDED_BY(mu_)
  };
};

}  // namespace ferry::testing
