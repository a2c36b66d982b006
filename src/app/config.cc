// The config file (app/config.h): reads the TOML, refuses an unknown section, and hands each
// section to its parser (config_<section>.cc).
#include "app/config.h"

#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "app/config_costs.h"
#include "app/config_limits.h"
#include "app/config_notify.h"
#include "app/config_remotes.h"
#include "app/config_replication.h"
#include "app/config_schedules.h"
#include "app/config_serve.h"
#include "app/config_transfer.h"
#include "storage/key.h"

namespace ferry::app {

namespace {

// The TOML text as a table; a malformed text refused in one printable line naming the line.
Result<toml::table> ParseToml(std::string_view text, std::string_view source_name) {
  // Debian's toml++ is built with exceptions: the throw stops here, at the adapter.
  try {
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& err) {
    // toml++ quotes the text it met, which may hold a line break or any byte: escaped, so the
    // refusal stays one printable line (found by fuzz_config_toml)
    return Status::InvalidArgument("malformed config " + std::string(source_name) + " line " +
                                   std::to_string(err.source().begin.line) + ": " +
                                   storage::PrintableKey(err.description()));
  }
}

// The table of section `name`, nullptr when the file has none; a section that is not a table
// is refused ("<src>: <name> must be a table"), never skipped.
Result<const toml::table*> SectionTable(const toml::table& root, const char* name,
                                        const std::string& src) {
  const toml::node* n = root.get(name);
  if (n == nullptr) return static_cast<const toml::table*>(nullptr);
  if (!n->is_table()) return Status::InvalidArgument(src + ": " + name + " must be a table");
  return n->as_table();
}

// [remotes.NAME]: each a table.
Status ParseRemotes(const toml::table& remotes, const std::string& src, Config& config) {
  for (const auto& [name, node] : remotes) {
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      return Status::InvalidArgument(src + ": remotes." + std::string(name.str()) +
                                     " must be a table");
    }
    RemoteConfig r;
    FERRY_RETURN_IF_ERROR(ParseRemote(std::string(name.str()), *t, src, r));
    config.remotes[r.name] = std::move(r);
  }
  return Status::Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, std::string_view source_name) {
  const std::string src(source_name);
  FERRY_ASSIGN_OR_RETURN(const toml::table root, ParseToml(text, source_name));
  Config config;
  config.source = src;
  for (const auto& [k, v] : root) {
    const std::string key(k.str());
    if (key != "remotes" && key != "transfer" && key != "replication" && key != "costs" &&
        key != "serve" && key != "limits" && key != "schedules" && key != "sync" &&
        key != "notify" && key != "catalog" && key != "cache") {
      return Status::InvalidArgument(src + ": unknown section '" + key + "'");
    }
  }
  // The remotes first: the sections after them name remotes.
  FERRY_ASSIGN_OR_RETURN(const toml::table* remotes, SectionTable(root, "remotes", src));
  if (remotes != nullptr) FERRY_RETURN_IF_ERROR(ParseRemotes(*remotes, src, config));
  FERRY_ASSIGN_OR_RETURN(const toml::table* transfer, SectionTable(root, "transfer", src));
  if (transfer != nullptr) FERRY_RETURN_IF_ERROR(ParseTransfer(*transfer, src, config.transfer));
  FERRY_ASSIGN_OR_RETURN(const toml::table* limits, SectionTable(root, "limits", src));
  if (limits != nullptr) FERRY_RETURN_IF_ERROR(ParseLimits(*limits, src, config.limits));
  FERRY_ASSIGN_OR_RETURN(const toml::table* sync, SectionTable(root, "sync", src));
  if (sync != nullptr) FERRY_RETURN_IF_ERROR(ParseSync(*sync, src, config.sync));
  FERRY_ASSIGN_OR_RETURN(const toml::table* catalog, SectionTable(root, "catalog", src));
  if (catalog != nullptr) FERRY_RETURN_IF_ERROR(ParseCatalog(*catalog, src, config.catalog));
  FERRY_ASSIGN_OR_RETURN(const toml::table* cache, SectionTable(root, "cache", src));
  if (cache != nullptr) FERRY_RETURN_IF_ERROR(ParseCache(*cache, src, config.cache));
  FERRY_ASSIGN_OR_RETURN(const toml::table* replication, SectionTable(root, "replication", src));
  if (replication != nullptr) {
    FERRY_RETURN_IF_ERROR(ParseReplication(*replication, src, config.remotes, config.replication));
  }
  FERRY_ASSIGN_OR_RETURN(const toml::table* serve, SectionTable(root, "serve", src));
  if (serve != nullptr) FERRY_RETURN_IF_ERROR(ParseServe(*serve, src, config.remotes, config.serve));
  if (const toml::node* n = root.get("schedules")) {
    FERRY_RETURN_IF_ERROR(ParseSchedules(*n, src, config.schedules));
  }
  if (const toml::node* n = root.get("notify")) {
    FERRY_RETURN_IF_ERROR(ParseNotify(*n, src, config.remotes, config.notify));
  }
  FERRY_ASSIGN_OR_RETURN(const toml::table* costs, SectionTable(root, "costs", src));
  if (costs != nullptr) FERRY_RETURN_IF_ERROR(ParseCosts(*costs, src, config.costs));
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
