#include "app/config.h"

#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "plan/filter.h"

namespace ferry::app {
namespace {

Status ReadString(const toml::table& t, const char* key, std::string& out,
                  const std::string& where) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  if (!n->is_string()) {
    return Status::InvalidArgument(where + ": '" + key + "' must be a string");
  }
  out = n->value<std::string>().value_or("");
  return Status::Ok();
}

Status ParseRemote(const std::string& name, const toml::table& t, const std::string& src,
                   RemoteConfig& r) {
  const std::string where = src + ": [remotes." + name + "]";
  static const char* kKnown[] = {"endpoint", "region", "addressing", "profile",
                                 "access_key_id_env", "secret_access_key_env",
                                 "session_token_env"};
  for (const auto& [k, v] : t) {
    bool known = false;
    for (const char* want : kKnown) known = known || k.str() == want;
    if (!known) {
      if (k.str() == "access_key_id" || k.str() == "secret_access_key") {
        return Status::InvalidArgument(where + ": secrets do not belong in the config file; "
                                       "name an environment variable with '" +
                                       std::string(k.str()) + "_env' or use 'profile'");
      }
      return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) + "'");
    }
  }
  r.name = name;
  FERRY_RETURN_IF_ERROR(ReadString(t, "endpoint", r.endpoint, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "region", r.region, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "addressing", r.addressing, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "profile", r.profile, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "access_key_id_env", r.access_key_id_env, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "secret_access_key_env", r.secret_access_key_env, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "session_token_env", r.session_token_env, where));
  if (!r.addressing.empty() && r.addressing != "path" && r.addressing != "virtual") {
    return Status::InvalidArgument(where + ": addressing must be \"path\" or \"virtual\"");
  }
  if (!r.endpoint.empty() && r.endpoint.rfind("http://", 0) != 0 &&
      r.endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(where + ": endpoint must start with http:// or https://");
  }
  if (r.access_key_id_env.empty() != r.secret_access_key_env.empty()) {
    return Status::InvalidArgument(
        where + ": set both access_key_id_env and secret_access_key_env, or neither");
  }
  return Status::Ok();
}

// [transfer]: defaults for command-line options, checked as strictly as the options are.
Status ParseTransfer(const toml::table& t, const std::string& src, TransferDefaults& out) {
  const std::string where = src + ": [transfer]";
  static const char* kKnown[] = {"concurrency", "memory", "part_size", "multipart_threshold"};
  for (const auto& [k, v] : t) {
    bool known = false;
    for (const char* want : kKnown) known = known || k.str() == want;
    if (!known) {
      return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) + "'");
    }
  }
  if (const toml::node* n = t.get("concurrency")) {
    const std::optional<int64_t> c = n->is_integer() ? n->value<int64_t>() : std::nullopt;
    if (!c || *c < 1 || *c > 1024) {
      return Status::InvalidArgument(where + ": 'concurrency' must be a whole number from 1 to "
                                     "1024");
    }
    out.concurrency = static_cast<int>(*c);
  }
  const std::pair<const char*, std::optional<std::string>*> sizes[] = {
      {"memory", &out.memory},
      {"part_size", &out.part_size},
      {"multipart_threshold", &out.multipart_threshold}};
  for (const auto& [key, slot] : sizes) {
    if (t.get(key) == nullptr) continue;
    std::string text;
    FERRY_RETURN_IF_ERROR(ReadString(t, key, text, where));
    auto size = plan::ParseSize(text);
    if (!size.ok()) return size.status().WithContext(where + ": '" + key + "'");
    if (*size == 0) return Status::InvalidArgument(where + ": '" + key + "' must be above 0");
    *slot = text;
  }
  return Status::Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, std::string_view source_name) {
  const std::string src(source_name);
  // Debian's toml++ is built with exceptions: the throw stops here, at the adapter.
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& err) {
    return Status::InvalidArgument("malformed config " + src + " line " +
                                   std::to_string(err.source().begin.line) + ": " +
                                   std::string(err.description()));
  }
  Config config;
  config.source = src;
  for (const auto& [k, v] : root) {
    const std::string key(k.str());
    if (key != "remotes" && key != "transfer") {
      return Status::InvalidArgument(src + ": unknown section '" + key + "'");
    }
  }
  if (const toml::table* remotes = root["remotes"].as_table()) {
    for (const auto& [name, node] : *remotes) {
      const toml::table* t = node.as_table();
      if (t == nullptr) {
        return Status::InvalidArgument(src + ": remotes." + std::string(name.str()) +
                                       " must be a table");
      }
      RemoteConfig r;
      FERRY_RETURN_IF_ERROR(ParseRemote(std::string(name.str()), *t, src, r));
      config.remotes[r.name] = std::move(r);
    }
  }
  if (root.contains("transfer")) {
    const toml::table* t = root["transfer"].as_table();
    if (t == nullptr) return Status::InvalidArgument(src + ": transfer must be a table");
    FERRY_RETURN_IF_ERROR(ParseTransfer(*t, src, config.transfer));
  }
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("config file not found: " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path);
}

}  // namespace ferry::app
