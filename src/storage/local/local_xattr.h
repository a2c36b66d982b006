// Details of local files: content headers, user metadata and tags kept in ONE extended
// attribute, "user.ferry", so that S3 -> folder -> S3 keeps what S3 -> S3 keeps, at one
// fsetxattr per file. Its value holds named entries (the encoding: local_xattr.cc):
//
//   content-type, content-encoding, content-language, content-disposition, cache-control,
//   expires              the content headers (absent when empty)
//   meta.<name>          one user metadata entry (x-amz-meta-<name>)
//   tags                 the tags: key NUL value NUL ... (absent: no tags)
//   guard                "<size> <mtime ns>" of the file as written
//
// Files written by ferry before this form keep one attribute per entry, "user.ferry.<entry>"
// (e.g. user.ferry.meta.ferry-crc32c): reads take those when a file has no "user.ferry", and
// WriteTags keeps such a file in its form, so folders written by an older ferry keep working.
//
// A file can change after ferry wrote it, and its attributes stay. Metadata that describes the
// content, ferry's checksum (ferry-crc32c) and original mtime (ferry-mtime), is therefore read
// back only while the file's size and mtime still equal the guard; an edited file no longer
// claims a checksum or a time it does not have. Other metadata and headers are read always.
//
// A file system without user extended attributes (ENOTSUP) keeps no details: writes succeed
// and reads find none. Any other failure to record them fails the write.
//
// Thread-safety: functions of one call; attributes of one file are written before the file is
// renamed into place, so readers see all of them or none.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/backend.h"
#include "storage/object_info.h"

namespace ferry::storage::local_internal {

// Records `spec`'s content headers, metadata and tags on the open file `fd` (at `path`, the
// temporary file of `key`). Call after the file's mtime was set: the guard records the final
// size and mtime. An entry larger than the file system keeps per file (E2BIG, ERANGE, or
// ENOSPC on a disk that still has room) is kInvalidArgument naming the key, the entry and its
// size; a full disk is kUnavailable.
// `st`: the file's stat after its mtime was set.
Status WriteDetails(int fd, const WriteSpec& spec, const struct stat& st, const std::string& path,
                    std::string_view key);

// Fills info.content, info.metadata and, when `with_tags`, info.tags (empty when none) from
// the attributes of the file at `path`, whose stat (as read) is `st`. Attributes that cannot
// be read are skipped.
void ReadDetails(const std::string& path, const struct stat& st, bool with_tags,
                 ObjectInfo& info);

// Replaces the tags of the file at `path` (an empty list removes them).
Status WriteTags(const std::string& path, const Tags& tags);

}  // namespace ferry::storage::local_internal
