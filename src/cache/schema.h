// Component "cache" of the state database: its migrations (schema.cc). Internal to src/cache/.
#pragma once

#include "state/migrate.h"

namespace ferry::cache::internal {

const state::Component& CacheComponent();

}  // namespace ferry::cache::internal
