#include "transfer/key_spool.h"

namespace ferry::transfer {

KeySpool::KeySpool() : file_(std::tmpfile()) {}

KeySpool::~KeySpool() {
  if (file_ != nullptr) std::fclose(file_);
}

Status KeySpool::Add(std::string_view key) {
  std::lock_guard lock(mu_);
  if (file_ == nullptr) return Status::Internal("cannot create a temporary file for the spool");
  const auto n = static_cast<uint32_t>(key.size());
  if (std::fwrite(&n, sizeof n, 1, file_) != 1 ||
      std::fwrite(key.data(), 1, key.size(), file_) != key.size()) {
    return Status::Internal("cannot write the spool's temporary file");
  }
  ++count_;
  return Status::Ok();
}

uint64_t KeySpool::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

Status KeySpool::Replay(size_t n, const std::function<void(std::vector<std::string>)>& batch) {
  std::lock_guard lock(mu_);
  if (count_ == 0) return Status::Ok();
  std::rewind(file_);
  std::vector<std::string> keys;
  uint32_t len = 0;
  uint64_t read = 0;
  while (read < count_ && std::fread(&len, sizeof len, 1, file_) == 1) {
    std::string key(len, '\0');
    if (std::fread(key.data(), 1, len, file_) != len) {
      return Status::Internal("spool truncated");
    }
    ++read;
    keys.push_back(std::move(key));
    if (keys.size() == n) batch(std::move(keys)), keys = {};
  }
  if (!keys.empty()) batch(std::move(keys));
  if (read != count_) return Status::Internal("spool truncated");
  return Status::Ok();
}

}  // namespace ferry::transfer
