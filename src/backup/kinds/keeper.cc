// The backup's ArchiveKeeper (keeper.h).
#include "backup/kinds/keeper.h"

#include <chrono>

#include "backup/backup.h"

namespace ferry::backup {
namespace {

constexpr char kCatalogState[] = "backup";

// A chunk's source, only what changed since the catalog's latest entry of its key.
class CatalogSource : public transport::ArchiveKeeper::Source {
 public:
  CatalogSource(storage::ListingCursor& listed, CatalogStore& catalog, std::string location,
                GoneTracking gone)
      : changed_(listed, catalog, std::move(location), std::move(gone)) {}
  Result<const storage::ObjectInfo*> Next() override { return changed_.Next(); }
  uint64_t unchanged() const override { return changed_.unchanged(); }

 private:
  ChangedObjects changed_;
};

class CatalogKeeper : public transport::ArchiveKeeper {
 public:
  Status Open(jobs::RunContext& run, const jobs::RunOpening& opening) const override {
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<CatalogStore> catalog,
                           CatalogStore::Open(*opening.store.session()));
    jobs::SetKindState(run, kCatalogState, std::shared_ptr<CatalogStore>(std::move(catalog)));
    return Status::Ok();
  }

  // The catalog's live keys the listing lacks are noted gone for this run, up to where the
  // chunk was cut or (not cut) to the end of the range as it is then.
  std::unique_ptr<Source> SourceOf(jobs::RunContext& run, const jobs::WorkerOptions& options,
                                   storage::ListingCursor& listed,
                                   const jobs::ChunkListing& chunk) const override {
    std::shared_ptr<CatalogStore> catalog = jobs::FindKindState<CatalogStore>(run, kCatalogState);
    FERRY_CHECK(catalog != nullptr);  // opened with the run (Open)
    GoneTracking gone{.run = run.run.id,
                      .start_after = chunk.range.start_after,
                      .covered_to = chunk.covered_to,
                      .clock = options.clock};
    return std::make_unique<CatalogSource>(listed, *catalog, run.options.transport.staging,
                                           std::move(gone));
  }

  Result<bool> Kept(jobs::JobContext& ctx, const std::string& key) const override {
    FERRY_ASSIGN_OR_RETURN(std::shared_ptr<CatalogStore> catalog, CatalogOf(ctx.run));
    return catalog->HasArchive(ctx.run.options.transport.staging, key);
  }

  // The archive `key` (complete on the backup location) and its entries, in the catalog.
  Status Keep(jobs::JobContext& ctx, const std::string& key,
              uint64_t archive_bytes) const override {
    FERRY_ASSIGN_OR_RETURN(std::shared_ptr<CatalogStore> catalog, CatalogOf(ctx.run));
    FERRY_ASSIGN_OR_RETURN(std::shared_ptr<transport::CompressedRun> compressed,
                           transport::CompressedRunOf(ctx.run));
    // This worker's time; the catalog raises it above the rows of the archive's keys (workers'
    // clocks disagree: CatalogStore::RecordNewestArchive).
    const Clock& clock = ClockOr(ctx.options.clock);
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               clock.Now().time_since_epoch())
                               .count();
    const std::string& location = ctx.run.options.transport.staging;
    return RecordBackupArchive(*catalog, *compressed->staging,
                               {.location = location,
                                .archive = key,
                                .archive_bytes = archive_bytes,
                                .backed_up_ms = now_ms},
                               ctx.cancel)
        .status()
        .WithContext("recording " + key + " in the catalog");
  }
};

}  // namespace

std::shared_ptr<const transport::ArchiveKeeper> MakeCatalogKeeper() {
  return std::make_shared<CatalogKeeper>();
}

Result<std::shared_ptr<CatalogStore>> CatalogOf(jobs::RunContext& run) {
  auto catalog = jobs::FindKindState<CatalogStore>(run, kCatalogState);
  if (catalog == nullptr) {
    return Status::FailedPrecondition("run " + std::to_string(run.run.id) +
                                      " is not open as a backup on this worker");
  }
  return catalog;
}

}  // namespace ferry::backup
