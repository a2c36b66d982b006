// How one object's bytes move from a source to a destination, whole or in parts, for every
// capability that copies objects: sync (copy_object.cc, multipart.cc) and replication
// (replicate/copy_version.cc). The callers decide what is written (the write spec), when
// (preconditions, fences) and what they record (stats, status rows), and when their parts run
// (sync's as executor tasks whose last one finishes the upload, replication's under its key's
// task). The bytes move here, one way:
//  - reads are pinned to the object that was decided on: by version id where it has one, else
//    to its ETag (ReadPinned);
//  - a part is read into a buffer of the executor's pool (counted in its ByteBudget), its
//    CRC32C recorded, written from the same buffer with no other copy, and checkpointed in the
//    upload's journal (PartCopy::Send);
//  - the parts of a source that declares no CRC32C are cut in its own multipart layout where
//    one is known or likely (ChooseLayout), and checked against its ETag before the commit
//    (CheckParts); a whole read is checked the same way (CheckRead);
//  - a copy in parts on the server is checked against a source changed under it
//    (CheckSourceUnchanged).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

#include "base/status.h"
#include "storage/backend.h"
#include "transfer/buffer_pool.h"
#include "transfer/journal.h"
#include "transfer/resume.h"
#include "transfer/verify.h"

namespace ferry::transfer {

// The part size of a copy in parts, and how its parts are checked against the source.
struct PartLayout {
  uint64_t part_size = 0;
  bool verify = false;  // the parts reproduce the source's "<md5>-N" layout: their digest counts
  bool exact = false;   // the store told the part size (not a guess): a mismatch is corruption
};

// The part size that reproduces the layout of a source whose ETag is "<md5>-N" (`check`), if
// the destination (`dst`) accepts it: the exact one where the store tells it, else the
// likeliest size common tools use. Otherwise `part_size`, unverified.
PartLayout ChooseLayout(storage::Backend& src, const storage::Features& dst,
                        const SourceCheck& check, const storage::ObjectInfo& object,
                        uint64_t part_size, std::stop_token stop);

// Reads [offset, offset + out.size()) of `object`: by version id where it has one (not
// "null"), else the current object pinned to its ETag (kFailedPrecondition once it changed).
Status ReadPinned(storage::Backend& src, const storage::ObjectInfo& object, uint64_t offset,
                  std::span<std::byte> out, std::stop_token stop);

// Checks the whole bytes read of `object` (`data`, whose CRC32C is `crc`) against what it
// declares (CheckWhole). A multipart ETag that no common part size reproduces is tried in the
// layout the store tells, which decides when its uniform parts account for every part of the
// ETag (else parts of mixed sizes: kUnverified, never a false corruption).
WholeCheck CheckRead(storage::Backend& src, const storage::ObjectInfo& object,
                     std::span<const std::byte> data, uint32_t crc,
                     bool md5_checked_by_destination, std::stop_token stop);

// Whether `src` still holds `object` (same ETag and size), for a copy in parts on the server
// before its commit: servers may ignore the If-Match of part copies. kFailedPrecondition when
// it changed.
Status CheckSourceUnchanged(storage::Backend& src, const storage::ObjectInfo& object,
                            std::stop_token stop);

// One upload's parts: the source they are read from, the upload (opened or resumed,
// resume.h) and what each part recorded. Parts are sent concurrently, each by one thread:
// each writes only its own entries of `upload`'s vectors.
struct PartCopy {
  storage::Backend* src = nullptr;
  storage::ObjectInfo object;        // the source, with its details (pinned by ReadPinned)
  ResumedUpload upload;              // writer, part size, parts adopted, per-part CRC/MD5
  UploadJournal* journal = nullptr;  // checkpoints; may be null (no resume)
  BufferPool* buffers = nullptr;     // the executor's pool: where parts' buffers come from
  bool track_md5 = false;            // record each part's MD5 (CheckParts needs them)
  // The source's full-object CRC other than CRC32C (CRC32, CRC64NVME; DeclaredCrcOf): each
  // part's is recorded as it is sent (TrackDeclaredCrc), to be combined before the commit
  // (CheckDeclaredParts).
  std::optional<checksum::Algorithm> declared_crc{};
  std::vector<uint64_t> declared_part_crcs{};  // by part index; sized on the first part sent
  std::vector<char> declared_known{};          // 1 where declared_part_crcs holds the part's

  uint64_t Offset(int part_number) const {
    return static_cast<uint64_t>(part_number - 1) * upload.part_size;
  }
  uint64_t Length(int part_number) const { return upload.PartLength(part_number, object.size); }
  // The parts still to send (not adopted from an interrupted attempt), in order.
  std::vector<int> Missing() const;
  // Records each part's CRC of `algorithm` as it is sent (nothing for nullopt or CRC32C, whose
  // part CRCs are always kept). Call once the upload is open, before any part is sent.
  void TrackDeclaredCrc(std::optional<checksum::Algorithm> algorithm);

  // Reads part `part_number` into a buffer borrowed from `buffers` (kCancelled when `stop` is
  // requested while it waits for budget) and sends it (SendBytes).
  Status Send(int part_number, std::stop_token stop);
  // Records the CRC32C of `bytes` (the part's bytes, read by the caller), writes them, records
  // their MD5 (the store's where it reports it) when tracked, and checkpoints the part.
  Status SendBytes(int part_number, std::span<const std::byte> bytes, std::stop_token stop);
  // Copies part `part_number` on the server (UploadPartCopy pinned to the source).
  Status CopyOnServer(int part_number, std::stop_token stop);

  // The CRC32C of the whole object, combined from every part's (sent or adopted).
  uint32_t Crc32c() const;
};

// The full-object CRC (any width) the source declares in x-amz-checksum-*, which parts can be
// checked against by combining their CRCs; nullopt for none, composite values and SHAs.
std::optional<checksum::Algorithm> DeclaredCrcOf(const SourceCheck& check);

// Checks the parts against the source's declared full-object CRC (DeclaredCrcOf): true when
// they combine to it, kDataLoss when they do not (the upload is to be aborted and done again),
// nullopt when it cannot tell (no such CRC, or adopted parts whose CRC of that algorithm
// nobody recorded: the caller falls back to CheckParts).
Result<std::optional<bool>> CheckDeclaredParts(const PartCopy& copy, const SourceCheck& check);

// Checks the parts sent (their MD5s tracked) against what the source declares when it is not a
// CRC32C: the digest of its multipart layout, or the MD5 of a source written in one PUT. True
// when that proved them, false when nothing could (resumed parts whose MD5 nobody tells, no
// layout, a guessed layout whose parts read the same twice: the caller counts it unverified).
// kDataLoss when the bytes are not the source's (the upload is to be aborted and done again):
// the store's own layout does not make the ETag, or parts read differently a second time.
// Reads the object again, in order, one part at a time, when a guess did not make the ETag or
// the source has a plain MD5 ETag (MD5s of parts finished in any order cannot be combined).
Result<bool> CheckParts(PartCopy& copy, const SourceCheck& check, const PartLayout& layout,
                        std::stop_token stop);

}  // namespace ferry::transfer
