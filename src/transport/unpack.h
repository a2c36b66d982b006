// transport::UnpackArchive: the target side of compressed transport. Streams one staged
// archive (ranged reads: its manifest, then each entry's frames) and writes the entries meant
// for this unpacker's region to the destination with all their metadata (user metadata,
// content headers, tags, storage class or an override, ferry's CRC32C and mtime), then deletes
// the archive from staging (unless it holds entries of other regions: theirs too).
//
// Checked: every entry's bytes are decoded and checked against its CRC32C (and each frame's)
// before the object becomes visible: entries up to `whole_limit` are decoded into memory and
// written with one PUT after the check; larger ones go through a chunked write (multipart) that
// is committed only after the check and aborted otherwise. No entry is held whole in memory
// above `whole_limit`.
//
// Parallel (unpack_pipeline.h): the caller's thread reads, decodes and checks the entries in
// manifest order (the next range of the archive downloaded meanwhile); `threads` writer
// threads PUT the small ones (at most `max_bytes` of decoded entries held at once) while the
// next are decoded; a large entry's parts are uploaded by `part_threads` threads while the
// reading thread decodes the next parts (at most part_threads + 1 parts held), and once it is
// checked a writer thread waits for its last parts and commits it (its part buffers counted
// against `max_bytes`) while the reading thread goes on.
//
// Resumable without duplicates or losses. The journal records the watermark (every entry below
// it is on the destination) every `checkpoint_every` entries, before the archive is deleted,
// and once done; no entry at or beyond recorded watermark + `window` is ever started. A
// crashed unpack resumes at the recorded watermark: each entry of the next `window` is looked
// at first (a Stat of the destination: same size, ferry CRC32C and ferry-mtime as the entry,
// and its bytes read back have the entry's CRC32C = written, not written again), every later one is written. `window` must be the same for every attempt on
// an archive (the default everywhere). An archive already gone from staging with the journal
// at its end is done (the crash came after the delete).
//
// Errors: kDataLoss for a corrupt archive or entry (nothing of that entry becomes visible);
// the backends' errors otherwise. The caller retries: the journal makes a retry cheap.
// Thread-safety: one call per thread; backends may be shared.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "archive/format.h"
#include "archive/io.h"
#include "base/status.h"
#include "storage/backend.h"
#include "transport/store.h"

namespace ferry::transfer {
class Executor;
}  // namespace ferry::transfer

namespace ferry::transport {

// Where an unpack records how far it got.
class UnpackJournal {
 public:
  virtual ~UnpackJournal() = default;
  // The recorded watermark; nullopt when this archive was never started here.
  virtual Result<std::optional<uint64_t>> Load() = 0;
  // Entries [0, written) of `entries` are on the destination; `done`: the archive is deleted.
  virtual Status Record(uint64_t written, uint64_t entries, bool done) = 0;
  // Whether what is recorded covers every entry of the archive (a Record with written ==
  // entries, or done): only then is an archive found gone unpacked here; else its entries past
  // the watermark are lost with it. Default: false (a vanished archive is a failure).
  virtual Result<bool> Complete() { return false; }
  // Every entry of the archive meant for this unpacker (of `region`; "" = every entry) is on
  // its destination; `regions`: every region the archive's entries name (sorted, once each).
  // True when the archive may now be deleted (no other unpacker still needs it): the caller
  // deletes it and calls Deleted. Default: true when no region but `region` is named (or
  // `region` is ""); otherwise the archive is left to the others and this one is recorded done.
  virtual Result<bool> Unpacked(uint64_t entries, const std::vector<std::string>& regions,
                                const std::string& region);
  // The archive was deleted after Unpacked said so. Default: Record(entries, entries, true).
  virtual Status Deleted(uint64_t entries);
};

// The journal of one (staging, archive, destination) row of a TransportStore.
class StoreUnpackJournal : public UnpackJournal {
 public:
  StoreUnpackJournal(TransportStore& store, ArchiveRow row) : store_(store), row_(std::move(row)) {}
  Result<std::optional<uint64_t>> Load() override;
  Status Record(uint64_t written, uint64_t entries, bool done) override;
  Result<bool> Complete() override;
  // The archive's rows decide (TransportStore::Unpacked): true when every destination's row is
  // unpacked or done; Deleted marks them all done.
  Result<bool> Unpacked(uint64_t entries, const std::vector<std::string>& regions,
                        const std::string& region) override;
  Status Deleted(uint64_t entries) override;

 private:
  TransportStore& store_;
  ArchiveRow row_;
};

struct UnpackOptions {
  // Entries meant for this region are written (and those meant for every region); "" writes
  // every entry.
  std::string region;
  std::string storage_class;  // overrides the entries' storage class when not ""
  uint64_t whole_limit = 16ull << 20;
  uint64_t part_size = 16ull << 20;  // of chunked writes above whole_limit
  int part_threads = 4;              // parts of one chunked write uploaded at once
  uint64_t checkpoint_every = 64;    // entries between journal records
  uint64_t window = 256;             // entries past the recorded watermark that may start
  uint64_t max_bytes = 64ull << 20;  // decoded entries held for the writes at most
  // The process's executor (required): entries are written as its tasks, their bytes in its
  // ByteBudget (unpack_pipeline.h). Not owned.
  transfer::Executor* executor = nullptr;
  bool keep_archive = false;         // leave the archive on staging when done
  // Entries of one key (adjacent in the manifest: a replication's versions, oldest first) are
  // written one after another in manifest order: an entry waits for its key's earlier writes.
  bool ordered_keys = false;
  // Replaces the check of an entry that a crashed attempt may have written (a Stat: same size,
  // CRC32C and ferry-mtime): true when the destination holds it. Replication recognises a
  // version by its replica metadata (two versions may have the same bytes). Called from the
  // writes' tasks.
  std::function<Result<bool>(const archive::Entry&)> present;
  // Called after each entry this call wrote, with what the write made (its version id), from
  // writes' tasks, concurrently; an error fails the unpack (the entry counts as not written).
  std::function<Status(const archive::Entry&, const storage::WriteResult&)> on_written;
  // A fence: called right before each write that makes an entry visible (a PUT, a chunked
  // write's commit), from the writes' tasks, concurrently; an error fails the unpack and that
  // entry is not written (a chunked write is aborted). Claims (claim.h) stop an unpacker that
  // lost its claim here. Not called before the parts of a chunked write (invisible until the
  // commit), nor before the archive's delete (the journal's Record before it).
  std::function<Status()> before_write;
  // An archive whose entries name regions is refused (kFailedPrecondition, nothing written):
  // `ferry unpack` without --region.
  bool refuse_named_regions = false;
  // --preserve-lock: each entry is written with the retention and legal hold it recorded
  // (LockToWrite); the caller checked that `dst` has object lock. Else with none (the
  // destination's default retention applies).
  bool preserve_lock = false;
};

struct UnpackResult {
  uint64_t entries = 0;             // in the archive
  uint64_t written = 0;             // entries written to the destination by this call
  uint64_t bytes_written = 0;
  uint64_t already_present = 0;     // found written by an earlier, interrupted unpack
  uint64_t other_regions = 0;       // entries not meant for this region
  uint64_t checksums_verified = 0;  // entries whose CRC32C was checked
  uint64_t archive_bytes = 0;
  // What the stream that decoded the frames held itself (archive::EntryStream::MemoryFor),
  // overdrawn from the executor's budget while it ran.
  uint64_t stream_bytes = 0;
  bool archive_missing = false;     // the archive was gone and the journal said it was done
  bool archive_deleted = false;     // this call deleted the archive (the last unpacker of it)
};

// Every region the entries of `manifest` name ("" left out), sorted, once each.
std::vector<std::string> RegionsOf(const archive::Manifest& manifest);

// Unpacks the archive `key` of `staging` into `dst`.
Result<UnpackResult> UnpackArchive(storage::Backend& staging, const std::string& key,
                                   storage::Backend& dst, UnpackJournal& journal,
                                   const UnpackOptions& options, std::stop_token stop);

// The WriteSpec an entry is written with (ferry's CRC32C and mtime added; options.storage_class
// overriding the entry's; its lock with options.preserve_lock, as LockToWrite at the system
// clock's now).
storage::WriteSpec SpecOf(const archive::Entry& entry, const storage::Features& dst,
                          const UnpackOptions& options);

// The lock an entry that recorded `recorded` is written with at `now`: its legal hold, and its
// retention unless that is over by `now` (a store refuses a retain-until date in the past, and
// such a retention no longer protects anything).
storage::ObjectLock LockToWrite(const storage::ObjectLock& recorded,
                                std::chrono::system_clock::time_point now);

// The write path of one entry, shared by UnpackArchive and restore (restore.h); both write the
// entry's key with SpecOf's metadata (options.storage_class overriding the entry's).
//  - PutEntry: bytes already decoded and checked, written with one PUT.
//  - WriteLargeEntry: `read` writes the entry's bytes to the sink it is given and checks them
//    (an EntryStream's Read); they go to a chunked write in parts of options.part_size,
//    options.part_threads of them uploading at once while `read` goes on, that is committed
//    only when `read` returned OK and every part was written, and aborted otherwise: nothing
//    unchecked becomes visible. Needs dst.features().chunked_write.
using EntryReader = std::function<Status(archive::ByteSink&)>;
// `made` (when given) receives what the write made.
Status PutEntry(const archive::Entry& entry, std::span<const std::byte> bytes,
                storage::Backend& dst, const UnpackOptions& options, std::stop_token stop,
                storage::WriteResult* made = nullptr);
Status WriteLargeEntry(const archive::Entry& entry, const EntryReader& read,
                       storage::Backend& dst, const UnpackOptions& options, std::stop_token stop,
                       storage::WriteResult* made = nullptr);

}  // namespace ferry::transport
