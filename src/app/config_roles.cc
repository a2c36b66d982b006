// [[serve.cache]] and [[serve.unpack]] (config_roles.h).
#include "app/config_roles.h"

#include <initializer_list>
#include <limits>
#include <string_view>

#include "app/config_keys.h"
#include "app/config_limits.h"
#include "app/location.h"
#include "plan/filter.h"

namespace ferry::app {
namespace {

// A location key: present, well formed, and on a remote the config names.
Status Place(const toml::table& t, const char* key, std::string& out, const std::string& where,
             const std::map<std::string, RemoteConfig>& remotes) {
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, key, out, where));
  if (out.empty()) return Status::InvalidArgument(where + ": '" + key + "' is missing");
  Result<Location> loc = ParseLocation(out);
  if (!loc.ok()) return loc.status().WithContext(where + ": '" + key + "'");
  if (!loc->remote.empty() && remotes.find(loc->remote) == remotes.end()) {
    return Status::InvalidArgument(where + ": '" + key + "': unknown remote '" + loc->remote +
                                   "'");
  }
  return Status::Ok();
}

// "5m", "30s", "1h": from `low` to `high`.
Status Duration(const toml::table& t, const char* key, std::chrono::seconds low,
                std::chrono::seconds high, std::chrono::seconds& out, const std::string& where) {
  if (t.get(key) == nullptr) return Status::Ok();
  std::string text;
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, key, text, where));
  Result<std::chrono::seconds> d = plan::ParseAge(text);
  if (!d.ok()) return d.status().WithContext(where + ": '" + key + "'");
  if (*d < low || *d > high) {
    return Status::InvalidArgument(where + ": '" + key + "' must be from " +
                                   std::to_string(low.count()) + "s to " +
                                   std::to_string(high.count()) + "s");
  }
  out = *d;
  return Status::Ok();
}

const toml::array* Entries(const toml::node& n, const std::string& src, const char* name,
                           Status& error) {
  const toml::array* list = n.as_array();
  if (list == nullptr) {
    error = Status::InvalidArgument(src + ": [serve] '" + name + "' must be [[serve." + name +
                                    "]] tables");
  }
  return list;
}

constexpr std::chrono::seconds kDay{86400};

// A cache's size limit: "500GiB" (plan::ParseSize), above 0.
Status CacheSizeLimit(const toml::table& t, const char* key, uint64_t& out,
                      const std::string& where) {
  if (t.get(key) == nullptr) return Status::Ok();
  std::string text;
  FERRY_RETURN_IF_ERROR(ReadNonEmptyString(t, key, text, where));
  Result<uint64_t> size = plan::ParseSize(text);
  if (!size.ok()) return size.status().WithContext(where + ": '" + key + "'");
  if (*size == 0) return Status::InvalidArgument(where + ": '" + key + "' must be above 0");
  out = *size;
  return Status::Ok();
}

Status ParseCache(const toml::array& list, const std::string& src,
                  const std::map<std::string, RemoteConfig>& remotes,
                  std::vector<CacheRoleConfig>& out) {
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = src + ": [[serve.cache]] #" + std::to_string(i + 1);
    const toml::table* t = list[i].as_table();
    if (t == nullptr) return Status::InvalidArgument(where + " must be a table");
    FERRY_RETURN_IF_ERROR(CheckKeys(
        *t, where, {"cache", "state", "interval", "max_size", "max_objects", "max_delete"}));
    CacheRoleConfig c;
    FERRY_RETURN_IF_ERROR(Place(*t, "cache", c.cache, where, remotes));
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "state", c.state, where));
    FERRY_RETURN_IF_ERROR(Duration(*t, "interval", std::chrono::seconds(1), kDay, c.interval,
                                   where));
    FERRY_RETURN_IF_ERROR(CacheSizeLimit(*t, "max_size", c.max_bytes, where));
    FERRY_RETURN_IF_ERROR(ReadWholeNumber(*t, "max_objects", 1,
                                          std::numeric_limits<int64_t>::max(), c.max_objects,
                                          where));
    FERRY_RETURN_IF_ERROR(ReadDeleteLimit(*t, where, c.max_delete));
    for (const CacheRoleConfig& other : out) {
      if (other.cache == c.cache && other.state == c.state) {
        return Status::InvalidArgument(where + ": cache " + c.cache + " is listed twice");
      }
    }
    out.push_back(std::move(c));
  }
  return Status::Ok();
}

Status ParseUnpack(const toml::array& list, const std::string& src,
                   const std::map<std::string, RemoteConfig>& remotes,
                   std::vector<UnpackRoleConfig>& out) {
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = src + ": [[serve.unpack]] #" + std::to_string(i + 1);
    const toml::table* t = list[i].as_table();
    if (t == nullptr) return Status::InvalidArgument(where + " must be a table");
    FERRY_RETURN_IF_ERROR(CheckKeys(*t, where,
                               {"staging", "destination", "region", "state", "storage_class",
                                "preserve_lock", "interval", "claim_ttl"}));
    UnpackRoleConfig u;
    FERRY_RETURN_IF_ERROR(Place(*t, "staging", u.staging, where, remotes));
    FERRY_RETURN_IF_ERROR(Place(*t, "destination", u.destination, where, remotes));
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "region", u.region, where));
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "state", u.state, where));
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "storage_class", u.storage_class, where));
    if (const toml::node* n = t->get("preserve_lock")) {
      if (!n->is_boolean()) {
        return Status::InvalidArgument(where + ": 'preserve_lock' must be true or false");
      }
      u.preserve_lock = *n->value<bool>();
    }
    FERRY_RETURN_IF_ERROR(Duration(*t, "interval", std::chrono::seconds(1), kDay, u.interval,
                                   where));
    FERRY_RETURN_IF_ERROR(Duration(*t, "claim_ttl", std::chrono::seconds(2), kDay, u.claim_ttl,
                                   where));
    for (const UnpackRoleConfig& other : out) {
      if (other.staging == u.staging && other.destination == u.destination &&
          other.region == u.region) {
        return Status::InvalidArgument(where + ": staging " + u.staging + " to " +
                                       u.destination + " is listed twice");
      }
    }
    out.push_back(std::move(u));
  }
  return Status::Ok();
}

}  // namespace

Status ParseServeRoles(const toml::table& serve, const std::string& src,
                       const std::map<std::string, RemoteConfig>& remotes, ServeConfig& out) {
  Status error;
  if (const toml::node* n = serve.get("cache")) {
    const toml::array* list = Entries(*n, src, "cache", error);
    if (list == nullptr) return error;
    FERRY_RETURN_IF_ERROR(ParseCache(*list, src, remotes, out.cache));
  }
  if (const toml::node* n = serve.get("unpack")) {
    const toml::array* list = Entries(*n, src, "unpack", error);
    if (list == nullptr) return error;
    FERRY_RETURN_IF_ERROR(ParseUnpack(*list, src, remotes, out.unpack));
  }
  return Status::Ok();
}

}  // namespace ferry::app
