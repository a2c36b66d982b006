// Replica metadata and write order (contracts in replica.h).
#include "replicate/replica.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "checksum/checksum.h"

namespace ferry::replicate {
namespace {

// "1795369951.916" or "1795369951" (older replicas) in milliseconds; 0 when malformed.
int64_t ParseTime(std::string_view s) {
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
  if (ec != std::errc()) return 0;
  int64_t ms = 0;
  int digits = 0;
  if (end != s.data() + s.size() && *end == '.') {
    for (++end; end != s.data() + s.size() && digits < 3 && *end >= '0' && *end <= '9'; ++end) {
      ms = ms * 10 + (*end - '0');
      ++digits;
    }
  }
  for (; digits < 3; ++digits) ms *= 10;
  return seconds * 1000 + ms;
}

std::string FormatTime(int64_t ms) {
  std::string frac = std::to_string(ms % 1000);
  return std::to_string(ms / 1000) + "." + std::string(3 - frac.size(), '0') + frac;
}

}  // namespace

std::string VersionName(const storage::ObjectInfo& info) {
  return info.version_id.empty() ? "null" : info.version_id;
}

int64_t EpochMillis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Connected ConnectedLocations(std::string_view source, const RuleSet& rules) {
  Connected out{std::string(source)};
  for (const Rule& r : rules.rules) {
    for (const Destination& d : r.destinations) out.insert(d.location);
  }
  return out;
}

bool IsReplica(const storage::ObjectInfo& info, std::string_view location_name,
               const Connected& connected) {
  auto origin = info.metadata.find(kMetaReplicaOrigin);
  if (origin == info.metadata.end() || !connected.contains(origin->second)) return false;
  return origin->second != location_name || info.metadata.count(kMetaReplicaKept) != 0;
}

WriteOrder OrderOf(const storage::ObjectInfo& info, std::string_view location_name,
                   const Connected& connected) {
  if (IsReplica(info, location_name, connected)) {
    WriteOrder o;
    o.origin = info.metadata.at(kMetaReplicaOrigin);
    if (auto v = info.metadata.find(kMetaReplicaVersion); v != info.metadata.end()) {
      o.version = v->second;
    }
    if (auto t = info.metadata.find(kMetaReplicaTime); t != info.metadata.end()) {
      o.time_ms = ParseTime(t->second);
    }
    return o;
  }
  return WriteOrder{EpochMillis(info.mtime), std::string(location_name), VersionName(info)};
}

void MarkReplica(const storage::ObjectInfo& info, std::string_view location_name,
                 const Connected& connected, std::map<std::string, std::string>& metadata) {
  const WriteOrder o = OrderOf(info, location_name, connected);
  // An original's copy is no kept copy, whatever its metadata carried from elsewhere.
  if (!IsReplica(info, location_name, connected)) metadata.erase(kMetaReplicaKept);
  metadata[kMetaReplicaOrigin] = o.origin;
  metadata[kMetaReplicaVersion] = o.version;
  metadata[kMetaReplicaTime] = FormatTime(o.time_ms);
}

bool IsReplicaOf(const std::map<std::string, std::string>& metadata,
                 const std::map<std::string, std::string>& marks) {
  auto field = [](const std::map<std::string, std::string>& m, const char* name) {
    auto it = m.find(name);
    return it == m.end() ? std::string_view() : std::string_view(it->second);
  };
  const std::string_view origin = field(marks, kMetaReplicaOrigin);
  const std::string_view version = field(marks, kMetaReplicaVersion);
  if (origin.empty() || field(metadata, kMetaReplicaOrigin) != origin ||
      field(metadata, kMetaReplicaVersion) != version) {
    return false;
  }
  if (version != "null") return true;
  const std::string_view theirs = field(metadata, kMetaReplicaTime);
  const int64_t mine_ms = ParseTime(field(marks, kMetaReplicaTime));
  if (theirs.find('.') == std::string_view::npos) return ParseTime(theirs) == mine_ms / 1000 * 1000;
  return ParseTime(theirs) == mine_ms;
}

std::string TagsDigest(const storage::Tags& tags) {
  storage::Tags sorted = tags;
  std::sort(sorted.begin(), sorted.end());
  std::string text;
  for (const auto& [k, v] : sorted) {  // length-prefixed: no separator can be forged
    text += std::to_string(k.size()) + ":" + k + std::to_string(v.size()) + ":" + v + ";";
  }
  return checksum::Hex(checksum::Md5(checksum::AsBytes(text)));
}

}  // namespace ferry::replicate
