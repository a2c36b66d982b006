// LineSource: the lines of a byte stream, read front to back with bounded memory. What reads a
// list of keys (`--files-from`, lists/key_list.h) or an S3 Inventory's CSV.gz files
// (src/inventory/) reads it through this.
//
// Bytes come from a ByteSource the caller chooses: a local file or stdin (OpenFileSource), an
// object of a store read in ranges (OpenObjectSource), or any implementation of its own.
// A stream that starts with gzip's magic bytes (1f 8b) is decoded as gzip (zlib), member after
// member (concatenated gzip files are one stream, as gzip(1) reads them); anything else is
// read as it is. Detection is by content, never by the name.
//
// The contract:
//  - A line ends at '\n'; a '\r' just before it is dropped (CRLF files). The last line needs
//    no '\n': "a\nb" is two lines, "a\n" one, "" none. Nothing else is changed (no trimming:
//    what a line means is its reader's business).
//  - Memory: the ByteSource's own buffer, 64 KiB of raw and 64 KiB of decoded bytes, and the
//    current line (at most Options::max_line bytes). A longer line is refused, never cut:
//    kInvalidArgument "NAME:LINE: line longer than N bytes".
//  - A gzip stream that ends before its end (truncated) or does not decode (corrupt, a wrong
//    CRC or length in its trailer) is one error, kInvalidArgument, naming the source
//    ("NAME: truncated gzip stream", "NAME: corrupt gzip data (zlib's reason)"), reported when
//    the reader reaches it: the lines before it were returned. A reader that must not act on a
//    partial list reads it to its end before acting (lists/sorted_keys.h does).
//  - Errors of the ByteSource are returned as they are, with the name as context.
//  - After an error, Next keeps returning it.
//
// Thread-safety: one thread at a time (a LineSource and its ByteSource are not shared).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/backend.h"

namespace ferry::lists {

// Bytes read front to back.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills `out` with the next bytes: returns how many (at least 1 while bytes remain; 0 only
  // at the end). Errors are final.
  virtual Result<size_t> Read(std::span<char> out) = 0;
  // What the source is, for messages: a path, "stdin", "s3://bucket/key".
  virtual const std::string& name() const = 0;
};

// A local file, or stdin when `path` is "-". kNotFound / kPermissionDenied / kInvalidArgument
// (a folder) with one line naming the path.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);

// An object of `backend`, read in ranges of `range_bytes` (ReadAt pinned to the ETag the Stat
// saw: an object replaced while it is read fails with kFailedPrecondition instead of mixing
// two versions). One Stat first: a missing object is kNotFound naming it. `backend` must
// outlive the source; `stop` cancels the reads. `name` is used in messages (e.g. the location
// as the user wrote it); empty: backend.Describe() + "/" + key.
Result<std::unique_ptr<ByteSource>> OpenObjectSource(storage::Backend& backend,
                                                     std::string key, std::stop_token stop,
                                                     std::string name = {},
                                                     size_t range_bytes = 1u << 20);

// A source over bytes held in memory (tests, fuzzing).
std::unique_ptr<ByteSource> MemorySource(std::string bytes, std::string name = "memory");

class LineSource {
 public:
  struct Options {
    size_t max_line = 64u << 10;  // bytes of one line (its terminator not counted)
  };

  explicit LineSource(std::unique_ptr<ByteSource> bytes) : LineSource(std::move(bytes), {}) {}
  LineSource(std::unique_ptr<ByteSource> bytes, Options options);
  ~LineSource();
  LineSource(const LineSource&) = delete;
  LineSource& operator=(const LineSource&) = delete;

  // The next line without its terminator, valid until the next call; nullopt at the end.
  Result<std::optional<std::string_view>> Next();
  // The number (from 1) of the line Next returned last; 0 before the first.
  uint64_t line_number() const { return line_number_; }
  // The ByteSource's name.
  const std::string& name() const;
  // True once the stream was seen to be gzip (known after the first Next).
  bool gzip() const { return gzip_; }

 private:
  struct Inflater;
  // Appends at least one decoded byte to `decoded_` (unless at the end): raw or inflated.
  Status Fill();
  Status FillRaw();
  Status Inflate();
  Status Error(std::string what) const;
  Status TooLong(uint64_t line) const;

  std::unique_ptr<ByteSource> bytes_;
  Options options_;
  std::unique_ptr<Inflater> inflater_;  // when gzip_
  std::string raw_;                     // bytes read, not yet decoded
  size_t raw_at_ = 0;
  std::string decoded_;                 // decoded bytes, not yet returned as lines
  size_t decoded_at_ = 0;
  std::string line_;
  uint64_t line_number_ = 0;
  bool started_ = false;
  bool gzip_ = false;
  bool source_ended_ = false;
  bool ended_ = false;
  Status error_;
};

}  // namespace ferry::lists
