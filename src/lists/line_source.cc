#include "lists/line_source.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

namespace ferry::lists {
namespace {

constexpr size_t kLineChunk = 64u << 10;  // raw bytes read, decoded bytes made, at a time

class FileByteSource : public ByteSource {
 public:
  FileByteSource(std::FILE* file, std::string name, bool owned)
      : file_(file), name_(std::move(name)), owned_(owned) {}
  ~FileByteSource() override {
    if (owned_) std::fclose(file_);
  }
  Result<size_t> Read(std::span<char> out) override {
    const size_t n = std::fread(out.data(), 1, out.size(), file_);
    if (n == 0 && std::ferror(file_)) {
      return Status::Internal(name_ + ": cannot read: " + std::strerror(errno));
    }
    return n;
  }
  const std::string& name() const override { return name_; }

 private:
  std::FILE* file_;
  std::string name_;
  bool owned_;
};

class ObjectByteSource : public ByteSource {
 public:
  ObjectByteSource(storage::Backend& backend, std::string key, storage::ObjectInfo info,
                   std::stop_token stop, std::string name, size_t range_bytes)
      : backend_(backend), key_(std::move(key)), info_(std::move(info)), stop_(stop),
        name_(std::move(name)), range_bytes_(std::max<size_t>(range_bytes, 1)) {}
  Result<size_t> Read(std::span<char> out) override {
    if (at_ >= info_.size) return size_t{0};
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>({out.size(), range_bytes_, info_.size - at_}));
    const Status read = backend_.ReadAt(key_, at_, std::as_writable_bytes(out.first(n)),
                                        info_.etag, stop_);
    if (!read.ok()) return read.WithContext(name_);
    at_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }

 private:
  storage::Backend& backend_;
  std::string key_;
  storage::ObjectInfo info_;
  std::stop_token stop_;
  std::string name_;
  size_t range_bytes_;
  uint64_t at_ = 0;
};

class MemoryByteSource : public ByteSource {
 public:
  MemoryByteSource(std::string bytes, std::string name)
      : bytes_(std::move(bytes)), name_(std::move(name)) {}
  Result<size_t> Read(std::span<char> out) override {
    const size_t n = std::min(out.size(), bytes_.size() - at_);
    std::memcpy(out.data(), bytes_.data() + at_, n);
    at_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }

 private:
  std::string bytes_;
  std::string name_;
  size_t at_ = 0;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  if (path == "-") return std::unique_ptr<ByteSource>(new FileByteSource(stdin, "stdin", false));
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(path + ": is a folder, not a file");
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int err = errno;
    std::string line = path + ": " + std::strerror(err);
    if (err == ENOENT) return Status::NotFound(std::move(line));
    if (err == EACCES) return Status::PermissionDenied(std::move(line));
    return Status::InvalidArgument(std::move(line));
  }
  return std::unique_ptr<ByteSource>(new FileByteSource(file, path, true));
}

Result<std::unique_ptr<ByteSource>> OpenObjectSource(storage::Backend& backend, std::string key,
                                                     std::stop_token stop, std::string name,
                                                     size_t range_bytes) {
  if (name.empty()) name = backend.Describe() + "/" + key;
  auto info = backend.Stat(key, /*with_tags=*/false, stop);
  if (!info.ok()) return info.status().WithContext(name);
  return std::unique_ptr<ByteSource>(new ObjectByteSource(
      backend, std::move(key), std::move(*info), stop, std::move(name), range_bytes));
}

std::unique_ptr<ByteSource> MemorySource(std::string bytes, std::string name) {
  return std::make_unique<MemoryByteSource>(std::move(bytes), std::move(name));
}

// --- LineSource -----------------------------------------------------------------------------

struct LineSource::Inflater {
  z_stream z{};
  bool member_done = false;  // the last inflate ended a gzip member
  Inflater() { inflateInit2(&z, 16 + MAX_WBITS); }  // gzip only
  ~Inflater() { inflateEnd(&z); }
};

LineSource::LineSource(std::unique_ptr<ByteSource> bytes, Options options)
    : bytes_(std::move(bytes)), options_(options) {}

LineSource::~LineSource() = default;

const std::string& LineSource::name() const { return bytes_->name(); }

Status LineSource::Error(std::string what) const {
  return Status::InvalidArgument(name() + ": " + std::move(what));
}

// Reads more raw bytes into raw_ (dropping those decoded); sets source_ended_ at the end.
Status LineSource::FillRaw() {
  raw_.erase(0, raw_at_);
  raw_at_ = 0;
  const size_t had = raw_.size();
  raw_.resize(had + kLineChunk);
  auto n = bytes_->Read(std::span<char>(raw_.data() + had, kLineChunk));
  if (!n.ok()) {
    raw_.resize(had);
    return n.status().WithContext(name());
  }
  raw_.resize(had + *n);
  if (*n == 0) source_ended_ = true;
  return Status::Ok();
}

// Decodes raw_ into decoded_ until at least one byte is made or the stream ends correctly.
Status LineSource::Inflate() {
  z_stream& z = inflater_->z;
  for (;;) {
    if (raw_at_ == raw_.size() && !source_ended_) FERRY_RETURN_IF_ERROR(FillRaw());
    if (inflater_->member_done) {
      if (raw_at_ == raw_.size() && source_ended_) return Status::Ok();  // the stream's end
      if (raw_.size() - raw_at_ < 2 && !source_ended_) {
        FERRY_RETURN_IF_ERROR(FillRaw());
        continue;
      }
      if (raw_.size() - raw_at_ < 2 || static_cast<unsigned char>(raw_[raw_at_]) != 0x1f ||
          static_cast<unsigned char>(raw_[raw_at_ + 1]) != 0x8b) {
        return Error("corrupt gzip data (bytes after the end of the gzip stream)");
      }
      inflateReset(&z);
      inflater_->member_done = false;
    }
    const size_t had = decoded_.size();
    decoded_.resize(had + kLineChunk);
    z.next_in = reinterpret_cast<Bytef*>(raw_.data() + raw_at_);
    z.avail_in = static_cast<uInt>(raw_.size() - raw_at_);
    z.next_out = reinterpret_cast<Bytef*>(decoded_.data() + had);
    z.avail_out = static_cast<uInt>(kLineChunk);
    const int ret = inflate(&z, Z_NO_FLUSH);
    raw_at_ = raw_.size() - z.avail_in;
    decoded_.resize(had + (kLineChunk - z.avail_out));
    if (ret == Z_STREAM_END) {
      inflater_->member_done = true;
    } else if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_STREAM_ERROR ||
               ret == Z_MEM_ERROR) {
      return Error(std::string("corrupt gzip data (") +
                   (z.msg != nullptr ? z.msg : "zlib error " + std::to_string(ret)) + ")");
    } else if (raw_at_ == raw_.size() && source_ended_ && decoded_.size() == had) {
      return Error("truncated gzip stream");  // input used up, the member not ended
    }
    if (decoded_.size() > had) return Status::Ok();
  }
}

Status LineSource::Fill() {
  if (!started_) {
    started_ = true;
    while (raw_.size() < 2 && !source_ended_) FERRY_RETURN_IF_ERROR(FillRaw());
    gzip_ = raw_.size() >= 2 && static_cast<unsigned char>(raw_[0]) == 0x1f &&
            static_cast<unsigned char>(raw_[1]) == 0x8b;
    if (gzip_) inflater_ = std::make_unique<Inflater>();
  }
  if (gzip_) return Inflate();
  if (raw_at_ == raw_.size() && !source_ended_) FERRY_RETURN_IF_ERROR(FillRaw());
  decoded_.append(raw_, raw_at_, std::string::npos);
  raw_at_ = raw_.size();
  return Status::Ok();
}

Status LineSource::TooLong(uint64_t line) const {
  return Status::InvalidArgument(name() + ":" + std::to_string(line) + ": line longer than " +
                                 std::to_string(options_.max_line) + " bytes");
}

Result<std::optional<std::string_view>> LineSource::Next() {
  if (!error_.ok()) return error_;
  if (ended_) return std::optional<std::string_view>();
  size_t scanned = decoded_at_;  // no '\n' in decoded_[decoded_at_, scanned)
  for (;;) {
    const size_t nl = decoded_.find('\n', scanned);
    const bool at_end = nl == std::string::npos && started_ && source_ended_ &&
                        raw_at_ == raw_.size() && (!gzip_ || inflater_->member_done);
    if (nl != std::string::npos || at_end) {
      const size_t end = nl == std::string::npos ? decoded_.size() : nl;
      if (at_end && end == decoded_at_) {
        ended_ = true;
        return std::optional<std::string_view>();
      }
      std::string_view line(decoded_.data() + decoded_at_, end - decoded_at_);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ++line_number_;
      if (line.size() > options_.max_line) {
        error_ = TooLong(line_number_);
        return error_;
      }
      decoded_at_ = nl == std::string::npos ? decoded_.size() : nl + 1;
      if (at_end) ended_ = true;
      return std::optional<std::string_view>(line);
    }
    // No whole line yet. One longer than the limit (and a '\r') is refused without reading on.
    if (decoded_.size() - decoded_at_ > options_.max_line + 1) {
      error_ = TooLong(line_number_ + 1);
      return error_;
    }
    decoded_.erase(0, decoded_at_);
    decoded_at_ = 0;
    scanned = decoded_.size();
    const Status filled = Fill();
    if (!filled.ok()) {
      error_ = filled;
      return error_;
    }
  }
}

}  // namespace ferry::lists
