// [costs] of the config file (config_costs.h).
#include "app/config_costs.h"

#include <optional>

#include "app/config_keys.h"

namespace ferry::app {

// [costs]: the cost model's prices (estimate/cost.h), numbers 0 or more.
Status ParseCosts(const toml::table& t, const std::string& src, estimate::Prices& out) {
  const std::string where = src + ": [costs]";
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "pairs") {
      const toml::table* pairs = v.as_table();
      if (pairs == nullptr) {
        return Status::InvalidArgument(where + ": 'pairs' must be a table of \"from->to\" = "
                                       "$/GB");
      }
      for (const auto& [pk, pv] : *pairs) {
        const std::optional<double> price = pv.is_number() ? pv.value<double>() : std::nullopt;
        Status s = estimate::SetPairPrice(out, pk.str(), price.value_or(-1));
        if (!s.ok()) return s.WithContext(where);
      }
      continue;
    }
    const std::optional<double> price = v.is_number() ? v.value<double>() : std::nullopt;
    Status s = estimate::SetPrice(out, key, price.value_or(-1));
    if (!s.ok()) return s.WithContext(where);
  }
  return Status::Ok();
}

}  // namespace ferry::app
