// Readers of one config key (config_keys.h).
#include "app/config_keys.h"

namespace ferry::app {

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

Status ReadBool(const toml::table& t, const char* key, bool& out, const std::string& where) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  if (!n->is_boolean()) return Status::InvalidArgument(where + ": '" + key + "' must be true or false");
  out = n->value<bool>().value_or(false);
  return Status::Ok();
}

Status CheckKeys(const toml::table& t, const std::string& where,
                 std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : t) {
    bool ok = false;
    for (std::string_view want : known) ok = ok || k.str() == want;
    if (!ok) return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) + "'");
  }
  return Status::Ok();
}

Status ReadNonEmptyString(const toml::table& t, const char* key, std::string& out,
                          const std::string& where) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  if (!n->is_string() || n->value<std::string>().value_or("").empty()) {
    return Status::InvalidArgument(where + ": '" + key + "' must be a non-empty string");
  }
  out = *n->value<std::string>();
  return Status::Ok();
}

}  // namespace ferry::app
