#include "inventory/rows.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "checksum/checksum.h"
#include "inventory/csv_row.h"
#include "lists/line_source.h"

namespace ferry::inventory {
namespace {

// The spooled copy of one data file: an unlinked temporary file read from its start.
class SpoolSource : public lists::ByteSource {
 public:
  SpoolSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  ~SpoolSource() override { ::close(fd_); }
  SpoolSource(const SpoolSource&) = delete;
  SpoolSource& operator=(const SpoolSource&) = delete;

  Result<size_t> Read(std::span<char> out) override {
    for (;;) {
      const ssize_t n = ::read(fd_, out.data(), out.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return Status::Internal(name_ + ": reading the spool: " + std::strerror(errno));
    }
  }
  const std::string& name() const override { return name_; }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::string name_;
};

// An unlinked temporary file in `dir` ("": $TMPDIR, else /tmp).
Result<int> OpenSpoolFile(const std::string& dir) {
  std::string base = dir;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string path = base + "/ferry-inventory-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) {
    return Status::Internal("cannot make a spool file in " + base + ": " + std::strerror(errno));
  }
  ::unlink(path.c_str());
  return fd;
}

Status WriteAllToSpool(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Status::Internal(std::string("writing the spool: ") + std::strerror(errno));
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

// Copies `key` to a spool file, hashing it; returns the spool, rewound, once the file's size
// and MD5 are the manifest's. kDataLoss naming the file when they are not.
Result<std::unique_ptr<SpoolSource>> SpoolVerified(storage::Backend& store, const std::string& key,
                                                   const DataFile& file,
                                                   const RowsOptions& options,
                                                   std::stop_token stop) {
  const std::string name = store.Describe() + key;
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<lists::ByteSource> in,
                         lists::OpenObjectSource(store, key, stop, name, options.range_bytes));
  FERRY_ASSIGN_OR_RETURN(int fd, OpenSpoolFile(options.spool_dir));
  auto spool = std::make_unique<SpoolSource>(fd, name);
  checksum::Md5Hasher md5;
  std::vector<char> buffer(options.range_bytes);
  uint64_t total = 0;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(size_t n, in->Read(buffer));
    if (n == 0) break;
    if (total + n > file.size) {  // refused before the rest is read and spooled
      return Status::DataLoss(name + ": more than the " + std::to_string(file.size) +
                              " bytes the manifest says: the inventory file is damaged");
    }
    md5.Update(checksum::AsBytes(std::string_view(buffer.data(), n)));
    FERRY_RETURN_IF_ERROR(WriteAllToSpool(fd, buffer.data(), n).WithContext(name));
    total += n;
  }
  if (total != file.size) {
    return Status::DataLoss(name + ": " + std::to_string(total) + " bytes, the manifest says " +
                            std::to_string(file.size) + ": the inventory file is damaged");
  }
  const std::string have = checksum::Hex(md5.Finish());
  if (have != file.md5_hex) {
    return Status::DataLoss(name + ": MD5 " + have + ", the manifest's MD5checksum is " +
                            file.md5_hex + ": the inventory file is damaged or was changed");
  }
  if (::lseek(fd, 0, SEEK_SET) != 0) {
    return Status::Internal(name + ": rewinding the spool: " + std::strerror(errno));
  }
  return spool;
}

// The configuration prefix of a manifest key ("a/src/cfg/2026-11-27T00-00Z/manifest.json"
// -> "a/src/cfg/"), or nullopt when the key has no run folder above it.
std::optional<std::string_view> ConfigurationPrefix(std::string_view manifest_key) {
  size_t end = manifest_key.rfind('/');
  if (end == std::string_view::npos) return std::nullopt;
  end = manifest_key.rfind('/', end == 0 ? 0 : end - 1);
  if (end == std::string_view::npos) return std::nullopt;
  return manifest_key.substr(0, end + 1);
}

}  // namespace

std::string DataFileKey(std::string_view manifest_key, const Manifest& manifest,
                        const DataFile& file) {
  const auto config = ConfigurationPrefix(manifest_key);
  if (!config) return file.key;
  // The last segment of the configuration prefix is its id; the one before, the source bucket.
  const std::string_view c = config->substr(0, config->size() - 1);
  const size_t id_at = c.rfind('/');
  const std::string_view config_id = id_at == std::string_view::npos ? c : c.substr(id_at + 1);
  const std::string identity = manifest.source_bucket + "/" + std::string(config_id) + "/";
  for (size_t at = file.key.find(identity); at != std::string::npos;
       at = file.key.find(identity, at + 1)) {
    if (at != 0 && file.key[at - 1] != '/') continue;
    const std::string_view listed = std::string_view(file.key).substr(0, at + identity.size());
    if (!config->ends_with(listed)) continue;
    return std::string(config->substr(0, config->size() - listed.size())) + file.key;
  }
  return file.key;
}

struct RowCursor::OpenFile {
  std::unique_ptr<lists::LineSource> lines;
  std::vector<std::string> fields;
  std::string name;
};

RowCursor::RowCursor(storage::Backend& store, std::string manifest_key, Manifest manifest,
                     RowsOptions options, std::stop_token stop)
    : store_(store),
      manifest_key_(std::move(manifest_key)),
      manifest_(std::move(manifest)),
      options_(std::move(options)),
      stop_(std::move(stop)) {}

RowCursor::~RowCursor() = default;

Status RowCursor::OpenNextFile() {
  const DataFile& file = manifest_.files[next_file_++];
  const std::string key = DataFileKey(manifest_key_, manifest_, file);
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<SpoolSource> spool,
                         SpoolVerified(store_, key, file, options_, stop_));
  stats_.files++;
  stats_.bytes += file.size;
  file_ = std::make_unique<OpenFile>();
  file_->name = spool->name();
  file_->lines = std::make_unique<lists::LineSource>(std::move(spool));
  return Status::Ok();
}

Result<const storage::ObjectInfo*> RowCursor::Next() {
  if (!error_.ok()) return error_;
  for (;;) {
    if (stop_.stop_requested()) return error_ = Status::Cancelled("cancelled");
    if (file_ == nullptr) {
      if (next_file_ == manifest_.files.size()) return nullptr;
      if (Status s = OpenNextFile(); !s.ok()) return error_ = s;
    }
    auto line = file_->lines->Next();
    if (!line.ok()) return error_ = line.status();
    if (!line->has_value()) {
      file_.reset();
      continue;
    }
    auto bad_row = [&](const Status& s) {
      return Status::InvalidArgument(file_->name + " row " +
                                     std::to_string(file_->lines->line_number()) + ": " +
                                     s.message());
    };
    if (Status s = SplitCsvLine(**line, file_->fields); !s.ok()) return error_ = bad_row(s);
    auto row = RowObject(file_->fields, manifest_.columns, manifest_.source_bucket);
    if (!row.ok()) return error_ = bad_row(row.status());
    row_ = std::move(row).value();
    stats_.rows++;
    return &row_;
  }
}

}  // namespace ferry::inventory
