// Readers of one config key (config_keys.h).
#include "app/config_keys.h"

namespace ferry::app {

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
