// Key lists (src/lists/): what `--files-from` reads, from a file, stdin or an object anyone may
// have written. The first byte picks the form (even: plain, odd: csv of bucket "bkt" under the
// prefix "pre/"); the rest is the list's bytes, gzip or not, read through LineSource with a
// small line limit, then sorted (SortKeys, in memory).
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "lists/key_list.h"
#include "lists/line_source.h"
#include "lists/sorted_keys.h"

namespace {

// The keys of a list, each checked as it comes; false when the list was refused.
bool ReadFuzzedKeys(std::string_view text, ferry::lists::KeyListOptions options,
                    std::vector<std::string>& keys) {
  using ferry::fuzz::Require;
  ferry::lists::KeyListReader reader(ferry::lists::MemorySource(std::string(text), "fuzz"),
                                     std::move(options));
  for (;;) {
    auto key = reader.Next();
    if (!key.ok()) {
      Require(key.status().message().find('\n') == std::string::npos, "a refusal is one line");
      Require(key.status().message().starts_with("fuzz"), "a refusal names the list");
      return false;
    }
    if (!key->has_value()) return true;
    Require(!(*key)->empty() && (*key)->size() <= 1024, "a key is 1..1024 bytes");
    keys.push_back(std::move(**key));
  }
}

// Serves a vector of keys to SortKeys.
class FuzzKeyStream : public ferry::lists::KeyStream {
 public:
  explicit FuzzKeyStream(const std::vector<std::string>& keys) : keys_(keys) {}
  ferry::Result<std::optional<std::string>> Next() override {
    if (at_ == keys_.size()) return std::optional<std::string>();
    return std::optional<std::string>(keys_[at_++]);
  }

 private:
  const std::vector<std::string>& keys_;
  size_t at_ = 0;
};

}  // namespace

FERRY_FUZZ_TARGET(key_list) {
  using ferry::fuzz::Require;
  const std::string_view text = ferry::fuzz::AsText(data, size);
  if (text.empty()) return 0;
  ferry::lists::KeyListOptions options;
  if ((static_cast<unsigned char>(text[0]) & 1) != 0) {
    options.format = ferry::lists::ListFormat::kCsv;
    options.bucket = "bkt";
    options.prefix = "pre/";
  }
  options.lines.max_line = 4096;
  std::vector<std::string> keys;
  if (!ReadFuzzedKeys(text.substr(1), options, keys)) return 0;
  auto sorted = ferry::lists::SortKeys(std::make_unique<FuzzKeyStream>(keys));
  Require(sorted.ok(), "keys read are sorted");
  std::string last;
  size_t n = 0;
  for (;; ++n) {
    auto key = (*sorted)->Next();
    Require(key.ok(), "a sort in memory does not fail");
    if (*key == nullptr) break;
    Require(n == 0 || last < **key, "sorted keys ascend strictly");
    last = **key;
  }
  Require(n + (*sorted)->stats().duplicates == keys.size(), "every key once or a duplicate");
  return 0;
}
