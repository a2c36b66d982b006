// A backup as a compressed run that keeps its archives (docs/design/backup.md): the
// transport::ArchiveKeeper that the composition root gives transport's run hook and pack kind
// (src/app/kinds.cc). Opened with a backup run on a worker, it keeps the run's catalog (its
// kind state "backup", in the JobStore's database); a scan's source is compared with the
// catalog (ChangedObjects: only what changed is packed, the keys the listing lacks noted gone
// for the run) and no destination is listed; a pack job's archive is recorded with its entries
// in the catalog (RecordBackupArchive), and a retry of a job whose archive is recorded packs
// nothing.
//
// Thread-safety: the keeper is shared by every run and job; the catalog is thread-safe.
#pragma once

#include <memory>

#include "backup/catalog.h"
#include "jobs/run_context.h"
#include "transport/kinds/kinds.h"

namespace ferry::backup {

std::shared_ptr<const transport::ArchiveKeeper> MakeCatalogKeeper();

// The catalog of a backup run opened on this worker; kFailedPrecondition when the run was not
// opened as a backup.
Result<std::shared_ptr<CatalogStore>> CatalogOf(jobs::RunContext& run);

}  // namespace ferry::backup
