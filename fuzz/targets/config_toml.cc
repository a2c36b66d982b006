// The TOML config file (app/config.h): remotes, [serve], [limits], [worker], ... Whatever the
// text, a Config or one line naming the file.
#include <string>

#include "app/config.h"
#include "fuzz/fuzz_target.h"

FERRY_FUZZ_TARGET(config_toml) {
  auto config = ferry::app::ParseConfig(ferry::fuzz::AsText(data, size), "fuzz.toml");
  if (!config.ok()) {
    const std::string& m = config.status().message();
    std::fprintf(stderr, "refusal: %s\n", m.c_str());
    ferry::fuzz::Require(m.find("fuzz.toml") != std::string::npos, "a refusal names the file");
    ferry::fuzz::Require(m.find('\n') == std::string::npos, "a refusal is one line");
  }
  return 0;
}
