// BorrowedBackend: a Backend that forwards every call to one the test owns. A Worker opens a
// run's locations through its BackendOpener, which hands over ownership, and drops them with
// the run: an opener that returns a BorrowedBackend lets every open of a location text see the
// same store, and the test look at it after the worker is gone.
// Server-side copies are not forwarded (CanCopyFrom stays false): the engine reads and writes.
// Thread-safety: as the backend borrowed, which must outlive this one.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/backend.h"

namespace ferry::testing {

class BorrowedBackend : public storage::Backend {
 public:
  explicit BorrowedBackend(storage::Backend& b) : b_(b) {}

  const storage::Features& features() const override { return b_.features(); }
  std::string Describe() const override { return b_.Describe(); }
  Status Check(std::stop_token s) override { return b_.Check(s); }
  Status LearnVersions(std::stop_token s) override { return b_.LearnVersions(s); }
  Result<std::unique_ptr<storage::ListingCursor>> List(std::string_view p) override {
    return b_.List(p);
  }
  Result<std::unique_ptr<storage::ListingCursor>> ListFrom(std::string_view p,
                                                           std::string_view a) override {
    return b_.ListFrom(p, a);
  }
  Result<std::optional<std::string>> FirstKeyAfter(std::string_view a) override {
    return b_.FirstKeyAfter(a);
  }
  Result<storage::ObjectInfo> Stat(std::string_view k, bool t, std::stop_token s) override {
    return b_.Stat(k, t, s);
  }
  Status ReadAt(std::string_view k, uint64_t o, std::span<std::byte> out, std::string_view e,
                std::stop_token s) override {
    return b_.ReadAt(k, o, out, e, s);
  }
  Result<storage::ObjectInfo> ReadObject(std::string_view k, std::span<std::byte> out,
                                         std::string_view e, std::stop_token s) override {
    return b_.ReadObject(k, out, e, s);
  }
  Result<storage::WriteResult> Put(std::string_view k, std::span<const std::byte> d,
                                   const storage::WriteSpec& spec, std::stop_token s) override {
    return b_.Put(k, d, spec, s);
  }
  Result<std::unique_ptr<storage::ChunkWriter>> OpenChunkWriter(std::string_view k,
                                                                const storage::WriteSpec& spec,
                                                                uint64_t part,
                                                                std::stop_token s) override {
    return b_.OpenChunkWriter(k, spec, part, s);
  }
  Result<std::unique_ptr<storage::ChunkWriter>> ResumeChunkWriter(
      std::string_view k, std::string_view id, const storage::WriteSpec& spec, uint64_t part,
      std::stop_token s) override {
    return b_.ResumeChunkWriter(k, id, spec, part, s);
  }
  Result<std::vector<PendingUpload>> ListPendingUploads(std::string_view p,
                                                        std::stop_token s) override {
    return b_.ListPendingUploads(p, s);
  }
  Status AbortPendingUpload(const PendingUpload& u, std::stop_token s) override {
    return b_.AbortPendingUpload(u, s);
  }
  Status Delete(std::string_view k, std::stop_token s) override { return b_.Delete(k, s); }
  Status Sync(std::stop_token s) override { return b_.Sync(s); }
  Status DeleteMany(std::span<const std::string> keys, std::stop_token s) override {
    return b_.DeleteMany(keys, s);
  }
  Result<std::chrono::system_clock::time_point> ServerTime(std::stop_token s) override {
    return b_.ServerTime(s);
  }
  Status PutTags(std::string_view k, const storage::Tags& t, std::stop_token s) override {
    return b_.PutTags(k, t, s);
  }
  // Versions.
  Result<std::unique_ptr<storage::ListingCursor>> ListVersions(std::string_view p,
                                                               std::string_view k,
                                                               std::string_view v) override {
    return b_.ListVersions(p, k, v);
  }
  Result<storage::ObjectInfo> StatVersion(std::string_view k, std::string_view v, bool t,
                                          std::stop_token s) override {
    return b_.StatVersion(k, v, t, s);
  }
  Status ReadVersionAt(std::string_view k, std::string_view v, uint64_t o,
                       std::span<std::byte> out, std::stop_token s) override {
    return b_.ReadVersionAt(k, v, o, out, s);
  }
  Result<storage::ObjectInfo> ReadVersionWithDetails(std::string_view k, std::string_view v,
                                                     uint64_t o, std::span<std::byte> out,
                                                     bool t, std::stop_token s) override {
    return b_.ReadVersionWithDetails(k, v, o, out, t, s);
  }
  Status DeleteVersion(std::string_view k, std::string_view v, std::stop_token s) override {
    return b_.DeleteVersion(k, v, s);
  }
  Result<storage::WriteResult> AddDeleteMarker(std::string_view k, std::stop_token s) override {
    return b_.AddDeleteMarker(k, s);
  }
  Status PutVersionTags(std::string_view k, std::string_view v, const storage::Tags& t,
                        std::stop_token s) override {
    return b_.PutVersionTags(k, v, t, s);
  }

 private:
  storage::Backend& b_;
};

}  // namespace ferry::testing
