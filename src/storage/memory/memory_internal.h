// Helpers shared by memory_backend.cc and memory_writes.cc (private to src/storage/memory/):
// the S3-like checks MemoryBackend applies to what it is asked to store.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/object_info.h"

namespace ferry::storage::memory_internal {

// kInvalidArgument for the empty key or one over 1024 bytes (S3's limits).
Status CheckKey(std::string_view key);
// kInvalidArgument for more than 10 tags (S3's limit).
Status CheckTags(const Tags& tags);
// "" for "STANDARD" (S3 omits it on HEAD), else as given.
std::string NormalizeStorageClass(std::string_view storage_class);
// Metadata names lower-cased, as S3 returns them.
std::map<std::string, std::string> LowerCaseNames(const std::map<std::string, std::string>& m);
std::string Md5Hex(std::span<const std::byte> data);

}  // namespace ferry::storage::memory_internal
