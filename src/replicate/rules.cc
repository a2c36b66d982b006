// Rule validation and matching (contracts in rules.h).
#include "replicate/rules.h"

#include <map>
#include <set>

namespace ferry::replicate {
namespace {

Status Bad(const Rule& rule, std::string_view what) {
  return Status::InvalidArgument("replication rule '" + rule.id + "': " + std::string(what));
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "remote:bucket" or "s3://bucket" of a location text ("" when it names no bucket).
std::string BucketOf(std::string_view location) {
  size_t start = 0;
  if (StartsWith(location, "s3://")) {
    start = 5;
  } else {
    const size_t colon = location.find(':');
    if (colon == std::string_view::npos) return "";
    start = colon + 1;
  }
  const size_t slash = location.find('/', start);
  return std::string(location.substr(0, slash == std::string_view::npos ? location.size() : slash));
}

Status CheckTransport(const Rule& r, const Destination& d) {
  const Transport& t = d.transport;
  const std::string where = "destination " + d.location + ": transport ";
  if (!t.compress) {
    if (!t.staging.empty() || !t.region.empty() || t.level != 0 ||
        t.max_delay != Transport::kDefaultMaxDelay ||
        t.batch_objects != Transport::kDefaultBatchObjects ||
        t.batch_bytes != Transport::kDefaultBatchBytes) {
      return Bad(r, where + "sets staging, region, level, max_delay or batch_* without "
                            "compress = true");
    }
    return Status::Ok();
  }
  if (t.max_delay.count() < 0 || t.max_delay > kMaxTransportDelay) {
    return Bad(r, where + "'max_delay' must be 0 to 1h");
  }
  if (t.batch_objects == 0) return Bad(r, where + "'batch_objects' must be above 0");
  if (t.batch_bytes == 0) return Bad(r, where + "'batch_bytes' must be above 0");
  if (t.staging.empty()) return Bad(r, where + "needs 'staging' (a location for the archives)");
  if (t.level < 0 || t.level > 19) return Bad(r, where + "'level' must be 0 (adaptive) to 19");
  const std::string staging_bucket = BucketOf(t.staging);
  if (staging_bucket.empty()) return Bad(r, where + "'staging' " + t.staging + " names no bucket");
  if (staging_bucket == BucketOf(d.location)) {
    return Bad(r, where + "'staging' " + t.staging + " is in the destination's bucket");
  }
  return Status::Ok();
}

bool HasTag(const storage::Tags& tags, const std::pair<std::string, std::string>& want) {
  for (const auto& t : tags) {
    if (t == want) return true;
  }
  return false;
}

}  // namespace

bool FiltersOverlap(const Rule& a, const Rule& b) {
  if (!StartsWith(a.prefix, b.prefix) && !StartsWith(b.prefix, a.prefix)) return false;
  // A version carries one value per tag key: the same key with two values cannot match both.
  for (const auto& [ka, va] : a.tags) {
    for (const auto& [kb, vb] : b.tags) {
      if (ka == kb && va != vb) return false;
    }
  }
  return true;
}

Status Validate(const RuleSet& rules) {
  std::set<std::string> ids;
  for (size_t i = 0; i < rules.rules.size(); ++i) {
    const Rule& r = rules.rules[i];
    if (r.id.empty()) {
      return Status::InvalidArgument("replication rule #" + std::to_string(i + 1) +
                                     ": 'id' is missing");
    }
    if (r.id.size() > 255) return Bad(r, "'id' is longer than 255 characters");
    if (!ids.insert(r.id).second) return Bad(r, "'id' is used by two rules");
    if (r.priority < 0) return Bad(r, "'priority' must be 0 or more");
    if (r.replication_time.count() < 0 || r.replication_time > kMaxReplicationTime) {
      return Bad(r, "'replication_time' must be above 0 and at most 1000000 minutes");
    }
    if (r.destinations.empty()) return Bad(r, "'destinations' must name at least one location");
    std::set<std::string> locations;
    for (const Destination& d : r.destinations) {
      if (d.location.empty()) return Bad(r, "a destination has no 'location'");
      if (!locations.insert(d.location).second) {
        return Bad(r, "'destinations' names " + d.location + " twice");
      }
      FERRY_RETURN_IF_ERROR(CheckTransport(r, d));
    }
    std::set<std::string> tag_keys;
    for (const auto& [k, v] : r.tags) {
      if (k.empty()) return Bad(r, "a tag of 'filter.tags' has an empty key");
      if (!tag_keys.insert(k).second) return Bad(r, "'filter.tags' names tag '" + k + "' twice");
    }
    if (r.delete_markers && !r.tags.empty()) {
      return Bad(r, "'delete_markers' cannot be replicated with a tag filter (S3 refuses it too)");
    }
  }
  // One path per destination location, one level per staging location.
  std::map<std::string, const Transport*> by_location;
  std::map<std::string, int> level_of_staging;
  std::map<std::string, std::map<std::string, std::string>> regions_of_staging;
  for (const Rule& r : rules.rules) {
    for (const Destination& d : r.destinations) {
      auto [it, fresh] = by_location.emplace(d.location, &d.transport);
      if (!fresh && !(*it->second == d.transport)) {
        return Bad(r, "destination " + d.location +
                          ": another rule names it with another transport (a destination's "
                          "versions take one path)");
      }
      if (!d.transport.compress) continue;
      // An archive's entries name regions: each destination staged there needs its own.
      std::map<std::string, std::string>& regions = regions_of_staging[d.transport.staging];
      regions.emplace(d.location, d.transport.region);
      std::set<std::string> distinct;
      for (const auto& [location, region] : regions) {
        if (regions.size() > 1 && (region.empty() || !distinct.insert(region).second)) {
          return Bad(r, "destination " + d.location + ": destinations staged at " +
                            d.transport.staging + " need different transport 'region's");
        }
      }
      auto [lt, first] = level_of_staging.emplace(d.transport.staging, d.transport.level);
      if (!first && lt->second != d.transport.level) {
        return Bad(r, "destination " + d.location + ": transport 'level' differs from that of "
                          "another destination staged at " + d.transport.staging);
      }
    }
  }
  for (size_t i = 0; i < rules.rules.size(); ++i) {
    for (size_t j = i + 1; j < rules.rules.size(); ++j) {
      const Rule& a = rules.rules[i];
      const Rule& b = rules.rules[j];
      if (a.priority == b.priority && FiltersOverlap(a, b)) {
        return Bad(b, "'priority' " + std::to_string(b.priority) + " equals that of rule '" +
                          a.id + "', whose filter overlaps");
      }
    }
  }
  return Status::Ok();
}

bool Matches(const Rule& rule, std::string_view key, const storage::Tags* tags) {
  if (!rule.enabled || !StartsWith(key, rule.prefix)) return false;
  if (rule.tags.empty()) return true;
  if (tags == nullptr) return false;
  for (const auto& want : rule.tags) {
    if (!HasTag(*tags, want)) return false;
  }
  return true;
}

bool NeedsTags(const RuleSet& rules, std::string_view key) {
  for (const Rule& r : rules.rules) {
    if (r.enabled && !r.tags.empty() && StartsWith(key, r.prefix)) return true;
  }
  return false;
}

std::vector<std::string> DestinationLocations(const RuleSet& rules) {
  std::vector<std::string> out;
  for (const Rule& r : rules.rules) {
    if (!r.enabled) continue;
    for (const Destination& d : r.destinations) {
      bool seen = false;
      for (const std::string& o : out) seen = seen || o == d.location;
      if (!seen) out.push_back(d.location);
    }
  }
  return out;
}

std::vector<Winner> WinningRules(const RuleSet& rules, std::string_view key,
                                 const storage::Tags* tags) {
  std::vector<Winner> out;
  for (const std::string& location : DestinationLocations(rules)) {
    Winner best;
    for (const Rule& r : rules.rules) {
      if (best.rule != nullptr && r.priority <= best.rule->priority) continue;
      if (!Matches(r, key, tags)) continue;
      for (const Destination& d : r.destinations) {
        if (d.location == location) best = Winner{&r, &d};
      }
    }
    if (best.rule != nullptr) out.push_back(best);
  }
  return out;
}

}  // namespace ferry::replicate
