#include "cli/commands/move.h"

#include <filesystem>
#include <system_error>

#include "plan/delete_limit.h"
#include "transfer/backup_dir.h"

namespace ferry::cli {
namespace {

// Where a location sits on its store, for the overlap check: remote and bucket, or a folder.
transfer::LocationPrefix PlaceOf(const app::Location& loc) {
  if (loc.kind == app::Location::Kind::kLocal) {
    std::error_code ec;  // an absolute, normal path: "./a" and "a/" are one folder
    std::filesystem::path abs = std::filesystem::absolute(loc.path, ec);
    std::string path = ec ? loc.path : abs.lexically_normal().string();
    if (!path.empty() && path.back() != '/') path += '/';
    return {"", path};
  }
  return {loc.remote + ":" + loc.bucket, loc.prefix};
}

}  // namespace

void AddBackupDirOptions(CLI::App* cmd, BackupDirArgs& args) {
  cmd->add_option("--backup-dir", args.dir,
                  "before an object of DST is replaced or deleted, copy it there on the server "
                  "(REMOTE:bucket/prefix on DST's store, outside DST's prefix); a failed copy "
                  "leaves the object untouched and the run fails");
  cmd->add_option("--suffix", args.suffix,
                  "with --backup-dir: appended to each key kept there (e.g. .2026-11-28)");
}

Result<std::unique_ptr<storage::Backend>> OpenBackupDir(const BackupDirArgs& a,
                                                        const app::Location& dst_loc,
                                                        storage::Backend& dst,
                                                        app::Wiring& wiring,
                                                        std::stop_token stop) {
  if (a.dir.empty()) {
    if (!a.suffix.empty()) return Status::InvalidArgument("--suffix needs --backup-dir");
    return std::unique_ptr<storage::Backend>();
  }
  auto loc = app::ParseLocation(a.dir);
  if (!loc.ok()) return loc.status().WithContext("--backup-dir");
  FERRY_RETURN_IF_ERROR(transfer::CheckBackupLocation(PlaceOf(*loc), PlaceOf(dst_loc)));
  FERRY_ASSIGN_OR_RETURN(auto backup, wiring.OpenBackend(*loc, /*create_local=*/false));
  if (!backup->CanCopyFrom(dst)) {
    return Status::InvalidArgument(
        "--backup-dir: " + backup->Describe() + " cannot copy from " + dst.Describe() +
        " on the server: give a prefix on the destination's store (the same remote, or "
        "another bucket of it)");
  }
  FERRY_RETURN_IF_ERROR(backup->Check(stop).WithContext("--backup-dir"));
  return backup;
}

void AddMoveOptions(CLI::App* cmd, std::string& max_delete, bool& delete_empty_src_dirs) {
  cmd->add_option("--max-delete", max_delete,
                  "if the move would delete more than N source objects, or more than P% of the "
                  "source objects it considers (N or P%), delete none at all, say so and exit "
                  "2; the copies are made");
  cmd->add_flag("--delete-empty-src-dirs", delete_empty_src_dirs,
                "a source folder: remove the folders under it that the move left empty (never "
                "SRC itself, never one that still holds a file); without it they stay. An "
                "object-store source has no folders: nothing changes there");
}

Status ApplyMoveFlags(const MoveFlags& flags, transfer::SyncOptions& out) {
  if (flags.durable && flags.compress) {
    return Status::InvalidArgument(
        "--compress does not go with a durable move (--state, --detach) yet: run it without them");
  }
  if (flags.size_only) {
    return Status::InvalidArgument(
        "--size-only: ferry move deletes a source object only once a checksum proved its copy");
  }
  out.move = true;
  out.transfer.decide.checksum = true;  // an identical destination must be proved, not assumed
  if (!flags.max_delete.empty()) {
    auto limit = plan::ParseDeleteLimit(flags.max_delete);
    if (!limit.ok()) return limit.status().WithContext("--max-delete");
    out.max_delete = *limit;
  }
  return Status::Ok();
}

Status CheckMoveLocations(const app::Location& src, const app::Location& dst) {
  if (!transfer::LocationsOverlap(PlaceOf(src), PlaceOf(dst))) return Status::Ok();
  return Status::InvalidArgument("ferry move: " + src.text + " and " + dst.text +
                                 " overlap (one is inside the other): nothing was moved");
}

}  // namespace ferry::cli
