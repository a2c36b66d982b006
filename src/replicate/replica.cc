// Replica metadata and write order (contracts in replica.h).
#include "replicate/replica.h"

#include <charconv>
#include <chrono>

namespace ferry::replicate {
namespace {

int64_t Seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string VersionName(const storage::ObjectInfo& info) {
  return info.version_id.empty() ? "null" : info.version_id;
}

}  // namespace

bool IsReplica(const storage::ObjectInfo& info) {
  return info.metadata.count(kMetaReplicaOrigin) != 0;
}

WriteOrder OrderOf(const storage::ObjectInfo& info, std::string_view location_name) {
  if (IsReplica(info)) {
    WriteOrder o;
    o.origin = info.metadata.at(kMetaReplicaOrigin);
    if (auto v = info.metadata.find(kMetaReplicaVersion); v != info.metadata.end()) {
      o.version = v->second;
    }
    if (auto t = info.metadata.find(kMetaReplicaTime); t != info.metadata.end()) {
      std::from_chars(t->second.data(), t->second.data() + t->second.size(), o.time_s);
    }
    return o;
  }
  return WriteOrder{Seconds(info.mtime), std::string(location_name), VersionName(info)};
}

void MarkReplica(const storage::ObjectInfo& info, std::string_view location_name,
                 std::map<std::string, std::string>& metadata) {
  const WriteOrder o = OrderOf(info, location_name);
  metadata[kMetaReplicaOrigin] = o.origin;
  metadata[kMetaReplicaVersion] = o.version;
  metadata[kMetaReplicaTime] = std::to_string(o.time_s);
}

}  // namespace ferry::replicate
