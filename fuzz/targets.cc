// The list of fuzz targets (fuzz_target.h). A new target: its file in targets/, a line here, a
// line in CMakeLists.txt, seeds in corpus/<name>/.
#include "fuzz/fuzz_target.h"

FERRY_FUZZ_TARGET(s3_xml);
FERRY_FUZZ_TARGET(events);
FERRY_FUZZ_TARGET(archive);
FERRY_FUZZ_TARGET(replication_json);
FERRY_FUZZ_TARGET(cache_request);
FERRY_FUZZ_TARGET(config_toml);
FERRY_FUZZ_TARGET(location);
FERRY_FUZZ_TARGET(sigv4);
FERRY_FUZZ_TARGET(bwlimit);
FERRY_FUZZ_TARGET(inventory);
FERRY_FUZZ_TARGET(key_list);

namespace ferry::fuzz {

std::span<const Target> AllTargets() {
  static constexpr Target kTargets[] = {
      {"s3_xml", &FerryFuzz_s3_xml},
      {"events", &FerryFuzz_events},
      {"archive", &FerryFuzz_archive},
      {"replication_json", &FerryFuzz_replication_json},
      {"cache_request", &FerryFuzz_cache_request},
      {"config_toml", &FerryFuzz_config_toml},
      {"location", &FerryFuzz_location},
      {"sigv4", &FerryFuzz_sigv4},
      {"bwlimit", &FerryFuzz_bwlimit},
      {"inventory", &FerryFuzz_inventory},
      {"key_list", &FerryFuzz_key_list},
  };
  return kTargets;
}

}  // namespace ferry::fuzz
