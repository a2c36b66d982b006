// The archive byte seams over a storage::Backend: an object's bytes as an entry body
// (BackendChunkSource), an archive stored as an object read by ranged reads
// (BackendRangeSource), and an archive written as an object through a chunked write
// (BackendSink). They let `ferry archive` pack from and read archives on any location.
// HeaderOf: an object's entry header (all its metadata) as both packers write it.
//
// Thread-safety: each object is used by one thread at a time; the Backend may be shared.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "archive/format.h"
#include "archive/io.h"
#include "storage/backend.h"

namespace ferry::archive {

// Reads `object` (its size and ETag as listed: a changed object fails with
// kFailedPrecondition on stores with ETags) in ranged reads of up to `chunk` bytes.
class BackendChunkSource : public ChunkSource {
 public:
  BackendChunkSource(storage::Backend& backend, const storage::ObjectInfo& object,
                     std::stop_token stop)
      : backend_(backend), object_(object), stop_(std::move(stop)) {}
  Result<size_t> Read(std::span<std::byte> out) override;

 private:
  storage::Backend& backend_;
  const storage::ObjectInfo& object_;
  std::stop_token stop_;
  uint64_t pos_ = 0;
};

// An archive that is the object `key` of `backend`, `size` bytes long.
class BackendRangeSource : public RangeSource {
 public:
  BackendRangeSource(storage::Backend& backend, std::string key, uint64_t size,
                     std::stop_token stop)
      : backend_(backend), key_(std::move(key)), size_(size), stop_(std::move(stop)) {}
  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) override;

 private:
  storage::Backend& backend_;
  std::string key_;
  uint64_t size_ = 0;
  std::stop_token stop_;
};

// Writes an archive as the object `key` of `backend` (features().chunked_write) in parts of
// `part_size` bytes; the object appears only at Close. Destroyed without Close: aborted.
// The archive's size is unknown when the write opens (WriteSpec::size 0), so the store's
// chunked writes must not need it up front: S3 multipart uploads. A local folder's chunked
// write sizes its file at open: write local archives with FileSink.
class BackendSink : public ByteSink {
 public:
  static Result<std::unique_ptr<BackendSink>> Open(storage::Backend& backend, std::string key,
                                                   uint64_t part_size, std::stop_token stop);
  Status Write(std::span<const std::byte> data) override;
  // Writes the last part (every byte written so far is then on the store), without completing
  // the object: the completion carries no bytes, so a caller that orders the bytes of several
  // sinks on one link lets the next sink send while this one completes.
  Status FlushLast();
  // FlushLast, then completes the object.
  Status Close();

 private:
  BackendSink(std::unique_ptr<storage::ChunkWriter> writer, uint64_t part_size,
              std::stop_token stop)
      : writer_(std::move(writer)), part_size_(part_size), stop_(std::move(stop)) {}
  Status FlushPart();
  std::unique_ptr<storage::ChunkWriter> writer_;
  uint64_t part_size_;
  std::stop_token stop_;
  std::vector<std::byte> part_;
  int part_number_ = 0;
  uint64_t offset_ = 0;  // of part_'s first byte in the object
};

// The entry header of `object` (with details): key, size, version id, ETag, source mtime,
// content headers, user metadata, tags and storage class.
EntryHeader HeaderOf(const storage::ObjectInfo& object);

}  // namespace ferry::archive
