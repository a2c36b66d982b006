// Readers of one key of a config table that the config's parsers share (config_*.cc). Each
// leaves `out` as it was when the key is absent; a present key of the wrong shape is
// kInvalidArgument, one line "<where>: '<key>' must be ...".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "base/status.h"

namespace ferry::app {

// A string (it may be empty).
Status ReadString(const toml::table& t, const char* key, std::string& out,
                  const std::string& where);

// true or false: "... must be true or false".
Status ReadBool(const toml::table& t, const char* key, bool& out, const std::string& where);

// Refuses the first key of `t` that is not in `known`: "<where>: unknown key '<key>'" (nothing
// in a config is silently ignored).
Status CheckKeys(const toml::table& t, const std::string& where,
                 std::initializer_list<std::string_view> known);

// A string that is not empty.
Status ReadNonEmptyString(const toml::table& t, const char* key, std::string& out,
                          const std::string& where);

// A whole number from `low` to `high`: "... must be a whole number from LOW to HIGH".
template <class Int>
Status ReadWholeNumber(const toml::table& t, const char* key, int64_t low, int64_t high,
                       Int& out, const std::string& where) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  const std::optional<int64_t> v = n->is_integer() ? n->value<int64_t>() : std::nullopt;
  if (!v || *v < low || *v > high) {
    return Status::InvalidArgument(where + ": '" + key + "' must be a whole number from " +
                                   std::to_string(low) + " to " + std::to_string(high));
  }
  out = static_cast<Int>(*v);
  return Status::Ok();
}

}  // namespace ferry::app
