// LocalBackend::List: a depth-first walk that yields keys in ascending byte order while holding
// only one sorted folder level per depth.
//
// Why sorting each folder by name is not enough: the key of a file "a-c" must come before the
// keys under the folder "a" ("a/b"), because '-' (0x2D) < '/' (0x2F), but after them in a plain
// name sort ("a" < "a-c"). Sorting folder entries as name + "/" puts every folder exactly where
// its keys belong, so a plain depth-first walk of the sorted levels is in key order.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "storage/key.h"
#include "storage/local/local_backend.h"
#include "storage/local/posix_io.h"

namespace ferry::storage {

using local_internal::ErrnoStatus;
using local_internal::JoinPath;
using local_internal::MtimeOf;
using local_internal::OpenDirNoFollow;
using local_internal::UniqueFd;

namespace {

struct Entry {
  std::string sort_name;  // name, plus "/" for folders
  bool is_dir = false;
  std::string unreadable;  // not "": the entry exists but cannot be read; why
  bool link_to_folder = false;  // a symbolic link to a folder: listed as not followed
};

// One folder level: its path relative to the root ("" or ending in '/'), its entries sorted.
struct Level {
  std::string rel;
  std::vector<Entry> entries;
  size_t next = 0;
};

std::string Strerror(int err) { return std::generic_category().message(err); }

// What one directory entry is for the listing: a folder, a file, an unreadable entry (listed as
// such, so that it is not mistaken for an absent one), or skipped (nullopt: gone meanwhile, a
// special file).
std::optional<Entry> Classify(int dir_fd, const struct dirent& d) {
  const std::string name = d.d_name;
  unsigned char type = d.d_type;
  struct stat st;
  if (type == DT_UNKNOWN) {  // some file systems do not fill d_type: ask
    if (::fstatat(dir_fd, d.d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int err = errno;
      if (err == ENOENT) return std::nullopt;  // removed since the folder was read
      return Entry{name, false, "stat: " + Strerror(err)};
    }
    type = S_ISDIR(st.st_mode)   ? DT_DIR
           : S_ISREG(st.st_mode) ? DT_REG
           : S_ISLNK(st.st_mode) ? DT_LNK
                                 : DT_UNKNOWN;
  }
  if (type == DT_DIR) return Entry{name + "/", true, ""};
  if (type == DT_REG) return Entry{name, false, ""};
  if (type != DT_LNK) return std::nullopt;  // sockets, fifos, devices: not objects
  // A link to a file is listed (with its target's size and mtime); a link to a folder is not
  // followed (no cycles, no walking out of the root); a link that cannot be followed is
  // unreadable, not absent.
  if (::fstatat(dir_fd, d.d_name, &st, 0) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      if (::fstatat(dir_fd, d.d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
      return Entry{name, false, "a symbolic link whose target does not exist"};
    }
    return Entry{name, false, "symbolic link: " + Strerror(err)};
  }
  if (S_ISREG(st.st_mode)) return Entry{name, false, ""};
  if (S_ISDIR(st.st_mode)) return Entry{name + "/", false, "", true};
  return std::nullopt;
}

class LocalListingCursor : public ListingCursor {
 public:
  explicit LocalListingCursor(std::string root) : root_(std::move(root)) {}

  // Reads the level at `rel` keeping the names that start with `name_prefix` and the entries
  // that hold keys greater than `after` (a key relative to `rel`; "" = all). A missing folder
  // is an empty level; any other failure is an error naming the folder.
  //
  // Skipping to `after`: a file is kept when its name is greater; a folder "d/" holds only keys
  // that start with "d/", which are all greater than `after` when "d/" is, all smaller when
  // "d/" is smaller and not a prefix of `after`, and are otherwise split inside the folder: the
  // walk enters that folder at once, skipping to the rest of `after` there.
  Status Push(std::string rel, std::string_view name_prefix, std::string_view after = {}) {
    const int fault = rel.empty() ? 0 : local_internal::ListFault(rel);
    const int fd = fault != 0 ? -fault : OpenDirNoFollow(root_, rel);
    if (fd < 0) {
      // Gone, replaced by a file, or a link (ELOOP with O_NOFOLLOW): nothing to list there.
      if (-fd == ENOENT || -fd == ENOTDIR || -fd == ELOOP) return Status::Ok();
      return ErrnoStatus(-fd, "list folder", JoinPath(root_, rel));
    }
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "list folder", JoinPath(root_, rel));
    }
    Level level;
    level.rel = std::move(rel);
    int err = 0;
    for (;;) {
      errno = 0;
      const struct dirent* d = ::readdir(dir);
      if (d == nullptr) {
        err = errno;
        break;
      }
      const std::string_view name = d->d_name;
      if (name == "." || name == "..") continue;
      if (!name.starts_with(name_prefix) || name.starts_with(kLocalTempPrefix)) continue;
      std::optional<Entry> classified = Classify(::dirfd(dir), *d);
      if (!classified) continue;
      Entry entry = std::move(*classified);
      if (entry.sort_name <= after && !(entry.is_dir && after.starts_with(entry.sort_name))) {
        continue;  // every key of this entry is at or before `after`
      }
      level.entries.push_back(std::move(entry));
    }
    ::closedir(dir);
    if (err != 0) return ErrnoStatus(err, "list folder", JoinPath(root_, level.rel));
    if (level.entries.empty()) return Status::Ok();
    std::sort(level.entries.begin(), level.entries.end(),
              [](const Entry& a, const Entry& b) { return a.sort_name < b.sort_name; });
    stack_.push_back(std::move(level));
    // The folder that `after` runs into sorts first (every other entry is greater than after).
    Level& top = stack_.back();
    const Entry& first = top.entries.front();
    if (first.is_dir && first.sort_name <= after) {
      top.next = 1;
      std::string child = top.rel + first.sort_name;
      const std::string_view rest = after.substr(first.sort_name.size());
      return Push(std::move(child), "", rest);
    }
    return Status::Ok();
  }

  Result<const ObjectInfo*> Next() override {
    if (!error_.ok()) return error_;
    while (!stack_.empty()) {
      Level& top = stack_.back();
      if (top.next == top.entries.size()) {
        stack_.pop_back();
        continue;
      }
      Entry entry = std::move(top.entries[top.next++]);
      std::string rel = top.rel + entry.sort_name;  // folders keep their trailing '/'
      if (entry.is_dir) {
        // A subfolder that cannot be listed is one unreadable entry ("a/b/"): its keys are
        // unknown, not absent. (`top` may dangle once Push added a level.)
        if (Status s = Push(rel, ""); !s.ok()) return Unreadable(std::move(rel), s.message());
        continue;
      }
      if (entry.link_to_folder) {
        // Its keys are unknown here, not absent: listed once, as not followed.
        current_ = ObjectInfo();
        current_.key = std::move(rel);
        current_.not_followed = true;
        return &current_;
      }
      const std::string path = JoinPath(root_, rel);
      if (!entry.unreadable.empty()) {
        return Unreadable(std::move(rel), PrintableKey(path) + ": " + entry.unreadable);
      }
      struct stat st;
      int err = local_internal::ListFault(rel);
      if (err == 0 && ::stat(path.c_str(), &st) != 0) err = errno;
      if (err != 0) {
        struct stat lst;
        const bool link = ::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode);
        if ((err == ENOENT || err == ENOTDIR) && !link) continue;  // deleted since read
        return Unreadable(std::move(rel),
                          PrintableKey(path) + ": " +
                              ((err == ENOENT || err == ENOTDIR)
                                   ? std::string("a symbolic link whose target does not exist")
                                   : "stat: " + Strerror(err)));
      }
      if (!S_ISREG(st.st_mode)) continue;  // replaced since the folder was read
      current_ = ObjectInfo();
      current_.key = std::move(rel);
      current_.size = static_cast<uint64_t>(st.st_size);
      current_.mtime = MtimeOf(st);
      return &current_;
    }
    return static_cast<const ObjectInfo*>(nullptr);
  }

 private:
  // An entry that exists but cannot be read: size 0, no mtime, ObjectInfo::unreadable =
  // `why` (a message naming the path).
  const ObjectInfo* Unreadable(std::string key, std::string why) {
    current_ = ObjectInfo();
    current_.key = std::move(key);
    current_.unreadable = std::move(why);
    return &current_;
  }

  const std::string root_;
  std::vector<Level> stack_;  // the deepest level last
  ObjectInfo current_;
  Status error_;  // sticky: once Next failed it keeps failing
};

// True when no valid key can start with `dir` (a prefix part ending in '/').
bool ImpossibleFolder(std::string_view dir) {
  if (dir.empty()) return false;
  return !ValidateLocalKey(dir.substr(0, dir.size() - 1)).ok();
}

}  // namespace

Result<std::unique_ptr<ListingCursor>> LocalBackend::List(std::string_view prefix) {
  return ListFrom(prefix, {});
}

Result<std::unique_ptr<ListingCursor>> LocalBackend::ListFrom(std::string_view prefix,
                                                              std::string_view start_after) {
  FERRY_RETURN_IF_ERROR(Check({}));
  auto cursor = std::make_unique<LocalListingCursor>(root_);
  // Start in the deepest folder the prefix names whole ("a/b/" of "a/b/c"), keeping the names
  // there that start with the rest ("c"). Below it every key matches.
  const size_t slash = prefix.rfind('/');
  const std::string_view dir = slash == std::string_view::npos ? "" : prefix.substr(0, slash + 1);
  const std::string_view rest = prefix.substr(dir.size());
  // `start_after` relative to that folder: keys there all start with `dir`.
  std::string_view after;
  if (start_after.starts_with(dir)) {
    after = start_after.substr(dir.size());
  } else if (start_after > dir) {
    return std::unique_ptr<ListingCursor>(std::move(cursor));  // past every key under `dir`
  }
  if (!ImpossibleFolder(dir)) {
    FERRY_RETURN_IF_ERROR(cursor->Push(std::string(dir), rest, after));
  }
  return std::unique_ptr<ListingCursor>(std::move(cursor));
}

}  // namespace ferry::storage
