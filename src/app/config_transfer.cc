// [transfer] of the config file (config_transfer.h).
#include "app/config_transfer.h"

#include <optional>
#include <utility>

#include "app/config_keys.h"
#include "plan/filter.h"

namespace ferry::app {

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

}  // namespace ferry::app
