// Plain data for the unit tests of one key's decisions (key_*_test.cc): listed versions, status
// rows and rules, built in one line each.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "replicate/rules.h"
#include "replicate/status_store.h"
#include "storage/object_info.h"

namespace ferry::replicate::internal::keytest {

inline constexpr const char* kKey = "k";
inline constexpr const char* kSrc = "ra:src/";
inline constexpr const char* kDst = "rb:dst/";

inline std::chrono::system_clock::time_point AtMs(int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

// A listed version of kKey written at `ms` (milliseconds since the epoch).
inline storage::ObjectInfo Listed(std::string version_id, int64_t ms, bool latest = false) {
  storage::ObjectInfo v;
  v.key = kKey;
  v.version_id = std::move(version_id);
  v.etag = "e-" + v.version_id;
  v.size = 10;
  v.mtime = AtMs(ms);
  v.is_latest = latest;
  return v;
}

inline storage::ObjectInfo ListedMarker(std::string version_id, int64_t ms, bool latest = false) {
  storage::ObjectInfo v = Listed(std::move(version_id), ms, latest);
  v.delete_marker = true;
  v.etag.clear();
  v.size = 0;
  return v;
}

// A row of kSrc's kKey.
inline VersionStatus RowFor(std::string rule, std::string destination, std::string version,
                            VersionState state) {
  VersionStatus r;
  r.source = kSrc;
  r.key = kKey;
  r.rule = std::move(rule);
  r.destination = std::move(destination);
  r.source_version = std::move(version);
  r.state = state;
  r.source_etag = "e-" + r.source_version;
  return r;
}

// An enabled rule `id` to `destinations`, taking every key.
inline Rule RuleTo(std::string id, std::vector<std::string> destinations) {
  Rule rule;
  rule.id = std::move(id);
  for (std::string& d : destinations) {
    Destination dest;
    dest.location = std::move(d);
    rule.destinations.push_back(std::move(dest));
  }
  return rule;
}

}  // namespace ferry::replicate::internal::keytest
