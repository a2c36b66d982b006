// Helpers shared by the engine's unit tests on MemoryBackend fakes (sync_test.cc,
// integrity_test.cc, executor_test.cc, destination_key_test.cc, copy_bytes_test.cc): seeded
// random bytes, small part limits, writes as other tools do them, a journal in memory, a sync
// on an executor of its own.
// Test-only; header-only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "base/clock.h"
#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "transfer/executor.h"
#include "transfer/journal.h"
#include "transfer/sync.h"

namespace ferry::transfer::testing {

// `n` bytes from a seeded generator: the same seed, the same bytes.
inline std::string Bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// S3's limits but parts of 1 KiB, so multipart paths run on small objects.
inline storage::MemoryBackend::Options SmallParts(std::string endpoint) {
  storage::MemoryBackend::Options o;
  o.features.min_part_size = 1024;
  o.endpoint = std::move(endpoint);
  return o;
}

// One PUT of `body` with `metadata` (an MD5 ETag, as any tool's single-part upload).
inline void Put(storage::MemoryBackend& b, const std::string& key, const std::string& body,
                std::map<std::string, std::string> metadata = {}) {
  storage::WriteSpec spec;
  spec.size = body.size();
  spec.metadata = std::move(metadata);
  auto r = b.Put(key, checksum::AsBytes(body), spec, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

// Writes `body` as another tool would: a multipart upload of `part` bytes, no ferry metadata.
inline void PutMultipart(storage::MemoryBackend& b, const std::string& key,
                         const std::string& body, uint64_t part) {
  storage::WriteSpec spec;
  spec.size = body.size();
  auto w = b.OpenChunkWriter(key, spec, part, {});
  ASSERT_TRUE(w.ok());
  int n = 1;
  for (uint64_t off = 0; off < body.size(); off += part, ++n) {
    auto data = checksum::AsBytes(body).subspan(off, std::min<uint64_t>(part, body.size() - off));
    ASSERT_TRUE((*w)->WriteChunk(n, off, data, {}).ok());
  }
  ASSERT_TRUE((*w)->Commit({}).ok());
}

// RunSync on an executor made for this run alone from `options.executor`: a fresh budget whose
// peak (SyncResult::peak_buffer_bytes) is this run's, for the tests that measure it or need a
// budget or a number of workers of their own.
inline SyncResult SyncOnOwnExecutor(storage::Backend& src, storage::Backend& dst,
                                    const SyncOptions& options, Stats& stats,
                                    std::stop_token stop = {}) {
  Executor executor(options.executor);
  return RunSync(executor, src, dst, options, stats, stop);
}

// An UploadJournal in memory, as the JobStore keeps one per large-object job.
class MemoryJournal : public UploadJournal {
 public:
  Result<std::optional<Upload>> Load() override { return upload_; }
  Status Creating(const std::string& source) override {
    if (!creating_error.ok()) return creating_error;
    const Clock& c = ClockOr(clock);
    upload_ = Upload{"", 0, source, {}, c.Now()};
    return Status::Ok();
  }
  Status Begin(const std::string& id, uint64_t part_size, const std::string& source) override {
    if (!begin_error.ok()) return begin_error;
    upload_ = Upload{id, part_size, source, {}, {}};
    return Status::Ok();
  }
  // Called concurrently by the workers of one object (journal.h).
  Status PartDone(const Part& part) override {
    std::lock_guard lock(parts_mu_);
    if (upload_) upload_->parts.push_back(part);
    return Status::Ok();
  }
  Status Clear() override {
    upload_.reset();
    return Status::Ok();
  }
  std::mutex parts_mu_;
  std::optional<Upload> upload_;
  Status creating_error;  // returned by Creating / Begin when set (a lost lease)
  Status begin_error;
  Clock* clock = nullptr;  // stamps Creating's record; null: the system clock (ClockOr)
};

// `key` as a listing shows it (no details).
inline storage::ObjectInfo Listed(storage::Backend& b, const std::string& key) {
  auto info = b.Stat(key, false, {});
  EXPECT_TRUE(info.ok()) << key;
  storage::ObjectInfo o = info.ok() ? *info : storage::ObjectInfo{};
  o.has_details = false;
  return o;
}

}  // namespace ferry::transfer::testing
