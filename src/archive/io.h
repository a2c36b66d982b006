// The byte seams of the archive codec: where a Writer sends the archive (ByteSink), where an
// entry's bytes come from (ChunkSource), and where a Reader reads an archive (RangeSource),
// with their file and memory implementations. Backend-backed ones are in backend_io.h.
//
// Thread-safety: each object is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::archive {

// Receives bytes in order.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(std::span<const std::byte> data) = 0;
};

// Yields an entry's bytes in order, in chunks.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // Fills up to out.size() bytes; returns how many, 0 only at the end.
  virtual Result<size_t> Read(std::span<std::byte> out) = 0;
  // The bytes not read yet when the source holds them in memory (the writer then compresses
  // them in place instead of copying them out in chunks); nullopt otherwise. Calling Consume
  // afterwards marks them read.
  virtual std::optional<std::span<const std::byte>> InMemory() const { return std::nullopt; }
  virtual void Consume(size_t /*n*/) {}
  // Sources that read ahead into buffers of their own lend the next bytes in place instead of
  // copying them out (the writer then compresses them where they are): Lend waits as Read
  // does and returns a prefix of the bytes not read yet (empty at the end), valid until the
  // next call on the source; Consume(n) then marks n of them read. Only when CanLend().
  virtual bool CanLend() const { return false; }
  virtual Result<std::span<const std::byte>> Lend() { return std::span<const std::byte>(); }
};

// Random access to an archive: every call is one ranged read.
class RangeSource {
 public:
  virtual ~RangeSource() = default;
  virtual uint64_t size() const = 0;
  // Exactly out.size() bytes at `offset`; kDataLoss past the end.
  virtual Status ReadAt(uint64_t offset, std::span<std::byte> out) = 0;
};

// An archive written to a local file: created (truncated) at Open, closed by Close, which
// first flushes it to disk (fsync) when `fsync` is set. A sink destroyed without Close
// removes the partial file.
class FileSink : public ByteSink {
 public:
  static Result<std::unique_ptr<FileSink>> Open(const std::string& path, bool fsync = true);
  ~FileSink() override;
  Status Write(std::span<const std::byte> data) override;
  Status Close();

 private:
  FileSink(std::string path, int fd, bool fsync) : path_(std::move(path)), fd_(fd), fsync_(fsync) {}
  std::string path_;
  int fd_ = -1;
  bool fsync_ = true;
};

// A local file read with pread.
class FileRangeSource : public RangeSource {
 public:
  static Result<std::unique_ptr<FileRangeSource>> Open(const std::string& path);
  ~FileRangeSource() override;
  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) override;

 private:
  FileRangeSource(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Bytes held in memory (tests, small archives); counts the ranged reads.
class StringSink : public ByteSink {
 public:
  Status Write(std::span<const std::byte> data) override {
    bytes.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::Ok();
  }
  std::string bytes;
};

class StringRangeSource : public RangeSource {
 public:
  explicit StringRangeSource(std::string_view bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) override;
  int reads() const { return reads_; }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  std::string_view bytes_;
  int reads_ = 0;
  uint64_t bytes_read_ = 0;
};

class StringChunkSource : public ChunkSource {
 public:
  explicit StringChunkSource(std::string_view bytes) : bytes_(bytes) {}
  Result<size_t> Read(std::span<std::byte> out) override;
  std::optional<std::span<const std::byte>> InMemory() const override {
    return std::as_bytes(std::span(bytes_.data() + pos_, bytes_.size() - pos_));
  }
  void Consume(size_t n) override { pos_ += std::min(n, bytes_.size() - pos_); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace ferry::archive
