// Which manifest.json a LOCATION names: the manifest itself, or an inventory configuration's
// prefix (<destination-prefix>/<source-bucket>/<configuration-id>), under which AWS writes one
// <YYYY-MM-DDTHH-MMZ>/manifest.json per inventory run; the newest is chosen. The configuration's
// data/ and hive/ folders (Hive's symlink.txt manifests) are not read.
//
// Thread-safety: as the Backend's.
#pragma once

#include <stop_token>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/backend.h"

namespace ferry::inventory {

// True for a run's folder name as AWS writes it: "2026-11-27T00-00Z".
bool IsRunFolderName(std::string_view name);

// The key of the manifest `path` names in `store`: `path` itself when its last segment is
// "manifest.json"; else the newest <timestamp>/manifest.json directly under `path` (a trailing
// '/' optional) by the folder's timestamp (which sorts as the time does). kNotFound in one line
// naming the prefix when it holds no run's manifest. Lists only the keys under the prefix that
// start with a digit (run folders), so a configuration's many data files are not listed
// where the store lists in key order.
Result<std::string> LocateManifest(storage::Backend& store, std::string_view path);

}  // namespace ferry::inventory
