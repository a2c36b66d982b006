// Stats: counters of one run, updated by the engine's workers and read by the progress display
// and the final summary. Failures keep the first kMaxKeptFailures entries in memory (the count
// is exact), so a run with millions of failures still has bounded memory.
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry::transfer {

struct Failure {
  std::string key;
  std::string action;  // "copy", "delete", "list"
  Status status;
};

class Stats {
 public:
  static constexpr size_t kMaxKeptFailures = 1000;

  std::atomic<uint64_t> objects_listed{0};  // source objects that passed the filters
  std::atomic<uint64_t> objects_planned{0};  // to copy
  std::atomic<uint64_t> bytes_planned{0};
  std::atomic<uint64_t> objects_copied{0};
  std::atomic<uint64_t> bytes_copied{0};  // completed objects
  std::atomic<uint64_t> bytes_moved{0};   // moved so far, including parts of unfinished objects
  std::atomic<uint64_t> objects_skipped{0};
  std::atomic<uint64_t> objects_server_side{0};
  std::atomic<uint64_t> objects_multipart{0};
  std::atomic<uint64_t> objects_deleted{0};
  std::atomic<uint64_t> deletes_planned{0};
  std::atomic<uint64_t> deletes_kept{0};  // planned, then kept: the source had the key again
  // ferry move (move_source.h): source objects deleted once the destination proved them, and
  // those kept because nothing proved them (each also a failure, operation "move").
  std::atomic<uint64_t> sources_deleted{0};
  std::atomic<uint64_t> sources_kept{0};
  // --backup-dir (backup_dir.h): destination objects copied to the backup location first.
  std::atomic<uint64_t> backups_kept{0};
  std::atomic<uint64_t> details_fetched{0};  // HEAD requests the planner asked for
  std::atomic<uint64_t> parts_resumed{0};    // parts found on the store after a crash
  // Recorded uploads not resumed because the source changed since (started over instead).
  std::atomic<uint64_t> uploads_restarted{0};
  // Empty source keys ending in '/' (folder markers) that a destination folder has no use for.
  std::atomic<uint64_t> markers_skipped{0};
  // Source folders the listing did not enter (symbolic links to folders): not copied, and
  // nothing under them deleted.
  std::atomic<uint64_t> folders_not_followed{0};
  // Copies left for the next run because a file and a folder of one name trade places and the
  // other side's keys are deleted by this run (planner.h).
  std::atomic<uint64_t> conflicts_deferred{0};
  // Keys of a --files-from list that the source does not have (app/files_from.h): named in
  // warnings, never failures.
  std::atomic<uint64_t> listed_not_found{0};
  // Copied objects whose bytes nothing the source declared could check (no ferry checksum,
  // no MD5 ETag, a multipart ETag whose part layout could not be reproduced).
  std::atomic<uint64_t> objects_unverified{0};
  // Copied objects whose source is encrypted (SSE-KMS, SSE-C): their ETag is not an MD5, so
  // ferry's CRC32C checked them where the source has one (else they count as unverified too).
  std::atomic<uint64_t> objects_etag_encrypted{0};
  // Reads or writes refused by a checksum (corrupted on the way) and done again.
  std::atomic<uint64_t> checksum_retries{0};
  // Requests sent again after transient failures (S3 clients; filled in at the end of a run),
  // and job attempts retried after a failure (durable runs).
  std::atomic<uint64_t> request_retries{0};
  std::atomic<uint64_t> job_retries{0};
  uint64_t retries() const { return checksum_retries + request_retries + job_retries; }
  // Copied objects whose storage class or tags the destination could not hold (Swift has no
  // tags and only STANDARD): the bytes and everything else were copied.
  std::atomic<uint64_t> classes_not_kept{0};
  std::atomic<uint64_t> tags_not_kept{0};
  // Archived sources (GLACIER, DEEP_ARCHIVE, Intelligent-Tiering archive tiers; engine.h
  // RestoreOptions): not readable and not copied (no --restore-archived, or the restore did
  // not finish within --restore-wait; never failures), restores asked for (started or found
  // running), and archived objects copied from their restored copy.
  std::atomic<uint64_t> archived_not_copied{0};
  std::atomic<uint64_t> restores_requested{0};
  std::atomic<uint64_t> archived_copied{0};

  // Compressed transport (src/transport): archives staged, the raw bytes packed into them
  // and the bytes of the archives (what crosses to the target region), entries packed, and on
  // the target side entries whose checksum was verified as they were unpacked and entries
  // found written already by an interrupted unpack.
  std::atomic<uint64_t> archives_staged{0};
  std::atomic<uint64_t> transport_bytes_in{0};
  std::atomic<uint64_t> transport_bytes_wire{0};
  std::atomic<uint64_t> entries_packed{0};
  std::atomic<uint64_t> entries_stored_raw{0};
  std::atomic<uint64_t> archives_unpacked{0};
  std::atomic<uint64_t> entries_verified{0};
  std::atomic<uint64_t> entries_already_present{0};
  // Cost accounting (estimate/cost.h): CPU microseconds charged to the pack jobs, and the
  // requests staging adds over a plain copy (transport/staging_requests.h): archive writes
  // (PUT-class) and reads (GET-class).
  std::atomic<uint64_t> transport_cpu_us{0};
  std::atomic<uint64_t> transport_extra_puts{0};
  std::atomic<uint64_t> transport_extra_gets{0};

  void AddFailure(std::string key, std::string action, Status status);
  uint64_t failures() const { return failure_count_.load(); }
  std::vector<Failure> KeptFailures() const;

  // Compressed transport with the adaptive level: archives packed per content class and level.
  void AddLevelUsed(std::string_view content_class, int level);
  std::map<std::string, std::map<int, uint64_t>> LevelsUsed() const;
  // The same in a few words: "csv 3x5 4x1; json 3x2" (level x archives); "" when none.
  std::string LevelsUsedText() const;

 private:
  std::atomic<uint64_t> failure_count_{0};
  mutable std::mutex mu_;
  std::vector<Failure> kept_;  // GUARDED_BY(mu_)
  std::map<std::string, std::map<int, uint64_t>> levels_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::transfer
