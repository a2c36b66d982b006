// Schema migrations by component. Several stores may share one database (the JobStore, a
// cache index, ...): each owns a named *component* of the schema, with its own ordered list of
// migrations. Table schema_version holds one row per component (component, version);
// migrations[i] takes the component from version i to i + 1.
//
// Migrate runs in one write transaction behind the dialect's migration lock, so processes that
// start at once migrate one after another and the second finds nothing to do. A database from
// before components (schema_version with a version column only) gets the component column;
// its one row becomes component "jobs", the only store there was.
//
// To change a component's schema: append a migration, never edit a released one.
// Errors: kFailedPrecondition when the database holds a newer version of the component than
// the caller knows ("upgrade ferry"); the failing migration's error, with its version.
#pragma once

#include <span>
#include <string_view>

#include "base/status.h"
#include "state/sql_session.h"

namespace ferry::state {

using Migration = Status (*)(SqlTx& tx, const Dialect& dialect);

struct Component {
  std::string_view name;                   // e.g. "jobs"; never renamed
  std::span<const Migration> migrations;  // in order; never edited once released
};

// Creates or brings `component`'s tables to its newest version.
Status Migrate(SqlSession& session, const Component& component);

// The version of `component` in the database (0: none yet). One read transaction.
Result<int64_t> ComponentVersion(SqlSession& session, std::string_view component);

}  // namespace ferry::state
