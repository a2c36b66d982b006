// Headers, StringSink and SpanSink: the small concrete pieces of transport.h.
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "http/transport.h"

namespace ferry::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

namespace {

// A request or reply carries about ten headers: room for them at once, not 1, 2, 4, 8, 16.
constexpr size_t kTypicalHeaders = 16;

}  // namespace

void Headers::Set(std::string_view name, std::string_view value) {
  if (entries_.capacity() == 0) entries_.reserve(kTypicalHeaders);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const auto& e) { return EqualsIgnoreCase(e.first, name); });
  if (it == entries_.end()) {
    entries_.emplace_back(std::string(name), std::string(value));
    return;
  }
  it->second.assign(value);
  // Drop any further entries of the same name: Set leaves exactly one.
  entries_.erase(std::remove_if(std::next(it), entries_.end(),
                                [&](const auto& e) { return EqualsIgnoreCase(e.first, name); }),
                 entries_.end());
}

void Headers::Add(std::string_view name, std::string_view value) {
  if (entries_.capacity() == 0) entries_.reserve(kTypicalHeaders);
  entries_.emplace_back(std::string(name), std::string(value));
}

const std::string* Headers::Find(std::string_view name) const {
  for (const auto& e : entries_) {
    if (EqualsIgnoreCase(e.first, name)) return &e.second;
  }
  return nullptr;
}

std::string Headers::Get(std::string_view name) const {
  const std::string* v = Find(name);
  return v ? *v : std::string();
}

void Headers::Remove(std::string_view name) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const auto& e) { return EqualsIgnoreCase(e.first, name); }),
                 entries_.end());
}

Status StringSink::Write(std::span<const std::byte> data) {
  if (data.size() > limit_ - std::min(limit_, body_.size())) {
    return Status::DataLoss("response body larger than " + std::to_string(limit_) + " bytes");
  }
  body_.append(reinterpret_cast<const char*>(data.data()), data.size());
  return Status::Ok();
}

bool StringSink::Rewind() {
  body_.clear();
  return true;
}

Status SpanSink::Write(std::span<const std::byte> data) {
  if (data.size() > out_.size() - written_) {
    return Status::DataLoss("response body larger than the " + std::to_string(out_.size()) +
                            "-byte buffer");
  }
  if (!data.empty()) std::memcpy(out_.data() + written_, data.data(), data.size());
  written_ += data.size();
  return Status::Ok();
}

bool SpanSink::Rewind() {
  written_ = 0;
  return true;
}

}  // namespace ferry::http
