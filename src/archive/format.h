// The ferry archive format (".fza"), version 2 (reads 1): what an archive holds and how its manifest is
// encoded. docs/design/archive.md describes the bytes; this header is its code.
//
// An archive is a sequence of zstd frames, so that `zstd -d` of a whole archive prints the
// concatenated bytes of every entry:
//   header    skippable frame (magic 0x184D2A50) holding "FERRYFZA" and the format version
//   frames    data frames: ordinary zstd frames, or "stored" zstd frames made only of raw blocks
//             (incompressible data), each holding at most WriterOptions::frame_size raw bytes
//             (plus one small entry)
//   manifest  skippable frame holding the manifest (below), itself zstd-compressed
//   trailer   skippable frame of fixed size (kTrailerSize) at the very end: manifest offset,
//             length, CRC32C and the format version, then "FZAEND01"
// An entry's bytes are a contiguous run of the decompressed stream of frames
// [first_frame, first_frame + frame_count), starting `offset_in_frame` bytes into the first:
// large entries own their frames (offset 0), small ones share frames with their neighbours.
// Version 2 (object lock) appends to each manifest entry, after its destinations: the lock
// mode (a string: "", "GOVERNANCE" or "COMPLIANCE"), its retain-until date (a varint of unix
// ns; 0 without a mode) and the legal hold (a varint, 0 or 1). Header and trailer keep their
// layout and carry the version.
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/object_info.h"

namespace ferry::archive {

// The version this ferry writes. It reads 1 too (kOldestFormatVersion): version 2 added each
// entry's object lock (EntryHeader::lock) after its destinations; nothing else changed.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kOldestFormatVersion = 1;
inline constexpr char kHeaderMagic[8] = {'F', 'E', 'R', 'R', 'Y', 'F', 'Z', 'A'};
inline constexpr char kTrailerMagic[8] = {'F', 'Z', 'A', 'E', 'N', 'D', '0', '1'};
inline constexpr uint32_t kSkippableMagic = 0x184D2A50;  // zstd skippable frame, variant 0
inline constexpr uint32_t kZstdMagic = 0xFD2FB528;
// Header frame: 8 bytes of skippable header + 8 magic + 4 version + 4 flags (0).
inline constexpr size_t kHeaderSize = 24;
// Trailer frame: 8 bytes of skippable header + manifest offset (8) + manifest length (8) +
// manifest CRC32C (4) + version (4) + 8 magic.
inline constexpr size_t kTrailerSize = 40;

// One data frame of an archive.
struct FrameInfo {
  uint64_t offset = 0;       // of the frame's first byte in the archive
  uint64_t stored_size = 0;  // bytes of the frame in the archive
  uint64_t raw_size = 0;     // bytes it decompresses to
  uint32_t crc32c = 0;       // CRC32C of the decompressed bytes
  bool stored = false;       // raw blocks only (incompressible data): no compression
  bool operator==(const FrameInfo&) const = default;
};

// What an archive records about one object besides its bytes.
struct EntryHeader {
  std::string key;  // any bytes (UTF-8 expected, not required), up to 64 KiB
  uint64_t size = 0;
  std::string version_id;  // "" when unversioned
  std::string etag;        // the source's ETag, for information ("" = none)
  int64_t mtime_ns = 0;    // the source's modification time, unix ns
  storage::ContentHeaders content;
  std::map<std::string, std::string> metadata;  // user metadata, as on the source
  std::optional<storage::Tags> tags;            // nullopt = none / unknown
  std::string storage_class;                    // "" = default
  std::vector<std::string> destinations;        // regions the entry is meant for ("" = all)
  // The source version's retention and legal hold (version 2; none in a version-1 archive).
  // Recorded whenever the source said; written to a restored object only when asked
  // (--preserve-lock: transport::UnpackOptions::preserve_lock).
  storage::ObjectLock lock{};
  bool operator==(const EntryHeader&) const = default;
};

// One entry of the manifest: its header and where its bytes are.
struct Entry {
  EntryHeader header;
  uint32_t crc32c = 0;  // ferry's checksum of the entry's bytes
  uint32_t first_frame = 0;
  uint32_t frame_count = 0;  // 0 for an empty entry
  uint64_t offset_in_frame = 0;
  bool stored = false;  // its frames were stored raw (sampled ratio below the threshold)
  bool operator==(const Entry&) const = default;
};

struct Manifest {
  std::vector<FrameInfo> frames;
  std::vector<Entry> entries;  // in the order they were added
  bool operator==(const Manifest&) const = default;
};

// What one manifest may hold. Each entry, frame and item (a metadata pair, a tag, a
// destination) costs a reader a fixed amount of memory besides its bytes, far more than the
// few bytes it takes in the manifest: these bound what a hostile manifest can make a reader
// allocate. Writer::Add refuses an entry past max_entries, so every archive ferry writes reads
// back. (Compressed transport batches hold 5,000 objects at most; `ferry archive pack` of more
// than max_entries objects fails with one line.)
struct ManifestLimits {
  uint64_t max_entries = uint64_t{1} << 22;  // 4,194,304 objects
  uint64_t max_frames = uint64_t{1} << 22;   // 256 TiB of large entries in 64 MiB frames
  uint64_t max_items = uint64_t{1} << 24;    // metadata pairs + tags + destinations, in all
};

// The manifest as bytes (before its own zstd compression) and back. Decode reads versions 1
// and 2 and refuses anything malformed (truncated, lengths past the end, frames out of range,
// an unknown version, a lock mode other than GOVERNANCE/COMPLIANCE, a retain-until date
// without a mode or a mode without one) or past `limits` with kDataLoss naming what is wrong.
// `version` is kFormatVersion, or 1 (an older ferry's layout, without the locks: what the
// tests of reading old archives write).
std::string EncodeManifest(const Manifest& manifest, uint32_t version = kFormatVersion);
Result<Manifest> DecodeManifest(std::span<const std::byte> bytes,
                                const ManifestLimits& limits = {});

// The fixed-size header and trailer frames.
// `version` as EncodeManifest's.
std::string EncodeHeader(uint32_t version = kFormatVersion);
// kDataLoss when not an archive of a version this ferry reads (1 or 2).
Status CheckHeader(std::span<const std::byte> bytes);
struct Trailer {
  uint64_t manifest_offset = 0;
  uint64_t manifest_size = 0;
  uint32_t manifest_crc32c = 0;  // of the manifest frame's payload (compressed manifest)
};
std::string EncodeTrailer(const Trailer& trailer, uint32_t version = kFormatVersion);
Result<Trailer> DecodeTrailer(std::span<const std::byte> bytes);  // kTrailerSize bytes

}  // namespace ferry::archive
