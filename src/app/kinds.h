// The job kinds of this ferry, registered in one place: jobs' own (scan, transfer, delete),
// compressed transport's (pack, unpack, and the run hook of compressed runs; a backup's archives
// kept by the backup catalog's keeper), and replication's (replicate-scan, replicate-keys; a
// pass's unpack jobs). Each handler lives beside its capability (src/transport/kinds/,
// src/backup/kinds/, src/replicate/kinds/); adding a kind is one line here
// (docs/design/job-kinds.md). Every worker, `ferry jobs` and the run views ask these.
//
// Thread-safety: the registries are built once and read-only after.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "jobs/kinds/registry.h"

namespace ferry::replicate {
struct PassStats;
}

namespace ferry::app {

// Every kind and run hook of this ferry.
const jobs::KindRegistry& Kinds();

// What `ferry replicate` serves for its own run: replicate-scan, replicate-keys (counting into
// `totals`, when given: the command's summary) and unpack (a pass's compressed transport).
jobs::KindRegistry ReplicationKinds(replicate::PassStats* totals);

// `ferry worker --role`: the kinds of each side of compressed transport ("pack": scan, transfer,
// pack; "unpack": unpack, delete). kInvalidArgument naming the known roles for any other.
Result<std::vector<std::string>> RoleKinds(std::string_view role);

// The role whose worker takes `kind` ("any" when no role names it: only a worker without
// --role or --kinds takes it). The fleet's backlog gauges are labelled with it.
std::string RoleOf(std::string_view kind);

}  // namespace ferry::app
