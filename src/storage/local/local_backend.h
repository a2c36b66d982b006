// LocalBackend: a folder on a local file system seen as a Backend. The key "a/b.txt" is the
// file <root>/a/b.txt; folders are implied by keys and are not objects themselves.
//
// Chosen in src/app/ for locations that are paths; also used by the conformance tests.
//
// Behaviour worth knowing:
//  * Every key passes ValidateLocalKey (storage/key.h) before the file system is touched, so no
//    key reaches outside the root ("../x", "/etc/passwd" and the like are kInvalidArgument).
//    The root itself is trusted: symbolic links that its owner placed inside it are theirs.
//  * A file and a folder cannot share a name: writing "a/b" while the file "a" exists (or "a"
//    while "a/b" exists) fails with kFailedPrecondition. A folder "a" that holds no object
//    (only folders and temporary files that killed writes left) gives way to a file "a".
//  * Listings stream in ascending byte order of key with memory bounded by the depth of the
//    tree times the width of one folder. They skip ferry's temporary files, special files
//    (sockets, fifos, devices: not objects) and symbolic links to folders (not followed);
//    symbolic links to regular files are listed with the size and mtime of their target.
//  * Writes go to a temporary file ".ferry-tmp-<random>-<name>" beside the target (<name>: the
//    key's last segment, left out when longer than 227 bytes) and are renamed over it, so
//    readers see the old or the new content, never a mix. The temporary file (its bytes, mtime
//    and extended attributes) is fsync'ed before the rename and its folder after it, so that
//    after a power loss a file is either the old one or whole (LocalOptions::fsync = false,
//    `--no-fsync`, trades that for speed). A write with WriteSpec::defer_durability skips both
//    flushes: its file system is noted, and Sync makes every such write durable at once (one
//    syncfs per file system, docs/design/storage.md "Durability of a local folder"). A crash can leave a temporary file, which listings
//    skip and ListPendingUploads finds; a resumed chunked write reads back the parts it adopts
//    (AdoptPartChecked) since their bytes may not have reached the disk.
//  * Keys ending in '/' and the empty key can only be folders (features().folder_markers is
//    false): writing one is kInvalidArgument naming the key and its size.
//  * A listing entry that cannot be read (a dangling symbolic link, a failed stat, a folder that
//    cannot be opened, then with its key ending in '/') is listed with ObjectInfo::unreadable
//    set, so that a run fails for it rather than deleting its copy at the destination.
//  * A symbolic link to a file is listed as the file; a link to a folder is never followed (no
//    cycles, no walk out of the root) and is listed as one entry "link/" with
//    ObjectInfo::not_followed: what is under it is unknown, never taken for deleted.
//  * Content headers, user metadata and tags are kept in extended attributes ("user.ferry.*",
//    local_xattr.h); ferry's checksum and original mtime only count while the file's size and
//    mtime are still those it was written with. On a file system without user extended
//    attributes nothing but content and mtime is kept. No storage class. WriteSpec::mtime
//    (when not the epoch) becomes the file's mtime.
//  * ETags are always "": the `etag` argument of ReadAt/ReadObject is ignored.
//
// Thread-safety: all methods are thread-safe; concurrent writers of one key end with one of
// the contents (the last rename wins).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "storage/backend.h"

namespace ferry::storage {

namespace local_internal {
class DeferredSync;
}

struct LocalOptions {
  // fsync written files and their folders (see above). False: `--no-fsync`, for those who
  // accept that a power loss can leave files of the right size and mtime holding zeros.
  bool fsync = true;
  // Delete removes the folders it empties, deepest first, up to the root (never the root
  // itself; never a folder that still holds anything: rmdir). False: the file only, its folders
  // stay (the source of `ferry move` without --delete-empty-src-dirs, as rclone's move).
  bool remove_emptied_folders = true;
  // ServerTime's clock. Null: SystemClock::Default(), the clock file mtimes come from (a file
  // written without WriteSpec::mtime gets the system's time whatever this says).
  Clock* clock = nullptr;
};

class LocalBackend : public Backend {
 public:
  // `root` is used as given (trailing '/' removed); nothing is checked until Check or use.
  explicit LocalBackend(std::string root, LocalOptions options = {});

  // Opens the folder at `path` (made absolute), creating it with its parents when `create`.
  // kNotFound when it does not exist (and !create) or is not a folder; errors of mkdir as is.
  static Result<std::unique_ptr<LocalBackend>> Open(std::string_view path, bool create,
                                                    LocalOptions options = {});

  // Test seam: makes listings see the entry `rel` (a key, or a folder ending in '/') as if its
  // stat failed with the errno that `fault` returns (0: no fault); reads of it fail alike.
  // Process-wide; pass nullptr to clear.
  static void SetListFaultForTest(std::function<int(std::string_view rel)> fault);

  // The folder, absolute when made by Open.
  const std::string& root() const { return root_; }

  const Features& features() const override { return features_; }
  // The root followed by '/', so that Describe() + key names the file.
  std::string Describe() const override;
  // kNotFound "local folder not found: <root>" unless the root is a folder.
  Status Check(std::stop_token stop) override;
  // LocalOptions::clock's time (by default the system clock: the one file mtimes come from).
  Result<std::chrono::system_clock::time_point> ServerTime(std::stop_token stop) override;

  // Keys are relative paths with '/' separators. A prefix that no valid key can have (such as
  // "../") lists nothing. kNotFound when the root is missing; an unreadable folder is an error
  // naming it (returned by the cursor's Next). Entries have has_details = false and etag "".
  Result<std::unique_ptr<ListingCursor>> List(std::string_view prefix) override;
  // Skips on the file system: folders whose keys all come before `start_after` are not read.
  Result<std::unique_ptr<ListingCursor>> ListFrom(std::string_view prefix,
                                                  std::string_view start_after) override;
  // Size and mtime (ns precision) and the details kept in extended attributes; has_details =
  // true; tags (possibly empty) only when `with_tags`. kNotFound when absent or when the key
  // names a folder.
  Result<ObjectInfo> Stat(std::string_view key, bool with_tags, std::stop_token stop) override;
  // Replaces the tags (an extended attribute). kNotFound when absent; kNotSupported on a file
  // system without user extended attributes.
  Status PutTags(std::string_view key, const Tags& tags, std::stop_token stop) override;
  // pread of exactly out.size() bytes; a file too short for the range is kDataLoss.
  Status ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                std::string_view etag, std::stop_token stop) override;
  // Reads through one open file, so the returned size and mtime are those of the bytes read.
  Result<ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                std::string_view etag, std::stop_token stop) override;
  // Temporary file + rename; creates the folders of the key. Returns no ETag and no version id. A
  // folder where the file goes, or a file where a folder of the key goes, is kFailedPrecondition
  // naming it; a full disk kUnavailable ("No space left on device"); metadata larger than the file
  // system keeps per file kInvalidArgument naming the key, the entry and its size.
  Result<WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                          const WriteSpec& spec, std::stop_token stop) override;
  // A temporary file of spec.size bytes written with pwrite (parts may come in any order and
  // from many threads); Commit checks that the parts (written or adopted) covered every byte,
  // sets the mtime, flushes and renames. AdoptPartChecked reads the part's range back and
  // adopts it only when its CRC32C matches (a part whose bytes a power loss took is sent
  // again); AdoptPart trusts the caller. `part_size` must be non-zero; it places adopted parts. The
  // upload id is the temporary file's name (no folder: the key says which folder). The
  // writer's ListStoredParts is nullopt (a file cannot tell which ranges were written: the
  // caller's checkpoints are the truth); Detach closes the file and leaves it in place.
  Result<std::unique_ptr<ChunkWriter>> OpenChunkWriter(std::string_view key, const WriteSpec& spec,
                                                       uint64_t part_size,
                                                       std::stop_token stop) override;
  // Reopens the temporary file `upload_id` in the key's folder. kNotFound when it is absent,
  // when the id is not a temporary file's name or was written for another key (the id never
  // reaches the file system then), and when the file's size is not spec.size: it was for
  // another version of the object and is removed, since it can never be completed.
  Result<std::unique_ptr<ChunkWriter>> ResumeChunkWriter(std::string_view key,
                                                         std::string_view upload_id,
                                                         const WriteSpec& spec, uint64_t part_size,
                                                         std::stop_token stop) override;
  // The temporary files (of chunked writes and of Put) under the folders that `prefix` can
  // reach, sorted by key. key = folder + the name recorded in the file's name; when the name
  // was too long to record, key is the folder alone ("a/b/", or "" at the root) and the upload
  // is listed only when that folder starts with `prefix`. started = the file's mtime, i.e.
  // when its last part was written (files do not portably record their creation), so a
  // cleanup by age removes uploads idle that long. Symbolic links are not followed.
  Result<std::vector<PendingUpload>> ListPendingUploads(std::string_view prefix,
                                                        std::stop_token stop) override;
  // Removes the temporary file `upload.upload_id` in the folder of `upload.key`, then the
  // folders it leaves empty. An id that is not a temporary file's name or names another key's
  // upload is absent (OK); so is a missing file.
  Status AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) override;
  // Removes the file (absent is OK), then the folders it leaves empty, up to the root.
  Status Delete(std::string_view key, std::stop_token stop) override;
  void RemoveEmptiedFolders(std::span<const std::string> deleted) override;
  // syncfs of each file system that writes with WriteSpec::defer_durability went to since the
  // last Sync (none: nothing is done). Errors: the syncfs's (EIO: a file's write-back failed),
  // naming a folder; those file systems are flushed again by the next Sync.
  Status Sync(std::stop_token stop) override;

 private:
  Features features_;
  std::string root_;
  LocalOptions options_;
  // Shared with chunk writers, which may outlive the backend.
  std::shared_ptr<local_internal::DeferredSync> deferred_;
};

}  // namespace ferry::storage
