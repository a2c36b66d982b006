// Targets as JSON text, the form a durable run's targets are stored in (outbox.h: any process
// of the store delivers them). Secrets stay names of variables and files (target.h). Pure.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "notify/target.h"

namespace ferry::notify {

std::string TargetsJson(const std::vector<Target>& targets);
// kInvalidArgument "malformed notification targets: ..." when `json` is not what TargetsJson
// writes.
Result<std::vector<Target>> ParseTargetsJson(const std::string& json);

}  // namespace ferry::notify
