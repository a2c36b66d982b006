// The config file (app/config.h): reads the TOML, refuses an unknown section, and hands each
// section to its parser (config_<section>.cc).
#include "app/config.h"

#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "app/config_costs.h"
#include "app/config_limits.h"
#include "app/config_remotes.h"
#include "app/config_replication.h"
#include "app/config_schedules.h"
#include "app/config_serve.h"
#include "app/config_transfer.h"
#include "storage/key.h"

namespace ferry::app {

Result<Config> ParseConfig(std::string_view text, std::string_view source_name) {
  const std::string src(source_name);
  // Debian's toml++ is built with exceptions: the throw stops here, at the adapter.
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& err) {
    // toml++ quotes the text it met, which may hold a line break or any byte: escaped, so the
    // refusal stays one printable line (found by fuzz_config_toml)
    return Status::InvalidArgument("malformed config " + src + " line " +
                                   std::to_string(err.source().begin.line) + ": " +
                                   storage::PrintableKey(err.description()));
  }
  Config config;
  config.source = src;
  for (const auto& [k, v] : root) {
    const std::string key(k.str());
    if (key != "remotes" && key != "transfer" && key != "replication" && key != "costs" &&
        key != "serve" && key != "limits" && key != "schedules") {
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
  if (root.contains("limits")) {
    const toml::table* t = root["limits"].as_table();
    if (t == nullptr) return Status::InvalidArgument(src + ": limits must be a table");
    FERRY_RETURN_IF_ERROR(ParseLimits(*t, src, config.limits));
  }
  if (root.contains("replication")) {
    const toml::table* t = root["replication"].as_table();
    if (t == nullptr) return Status::InvalidArgument(src + ": replication must be a table");
    FERRY_RETURN_IF_ERROR(ParseReplication(*t, src, config.remotes, config.replication));
  }
  if (root.contains("serve")) {
    const toml::table* t = root["serve"].as_table();
    if (t == nullptr) return Status::InvalidArgument(src + ": serve must be a table");
    FERRY_RETURN_IF_ERROR(ParseServe(*t, src, config.remotes, config.serve));
  }
  if (const toml::node* n = root.get("schedules")) {
    FERRY_RETURN_IF_ERROR(ParseSchedules(*n, src, config.schedules));
  }
  if (root.contains("costs")) {
    const toml::table* t = root["costs"].as_table();
    if (t == nullptr) return Status::InvalidArgument(src + ": costs must be a table");
    FERRY_RETURN_IF_ERROR(ParseCosts(*t, src, config.costs));
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
