// LocalBackend behaviour beyond the shared conformance suite (tests/conformance/): file-system
// specifics such as symbolic links, temporary files, folder clean-up and file/folder clashes.
#include "storage/local/local_backend.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "testing/fake_clock.h"

namespace ferry::storage {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

class LocalBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ferry-local-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    root_ = dir_ / "root";
    auto b = LocalBackend::Open(root_.string(), /*create=*/true);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(b).value();
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_ / "locked", fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }

  void Write(const std::string& rel, const std::string& body) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << body;
  }
  Status Put(std::string_view key, const std::string& body, WriteSpec spec = {}) {
    spec.size = body.size();
    return backend_->Put(key, checksum::AsBytes(body), spec, {}).status();
  }
  std::vector<std::string> ListKeys(std::string_view prefix = "") {
    std::vector<std::string> keys;
    auto cursor = backend_->List(prefix);
    EXPECT_TRUE(cursor.ok()) << cursor.status().ToString();
    if (!cursor.ok()) return keys;
    for (;;) {
      auto next = (*cursor)->Next();
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || *next == nullptr) break;
      keys.push_back((*next)->key);
    }
    return keys;
  }
  // Every name under the test folder (outside the root too), hidden ones included.
  std::set<std::string> AllPaths() {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      out.insert(fs::relative(e.path(), dir_).string());
    }
    return out;
  }

  fs::path dir_;
  fs::path root_;
  std::unique_ptr<LocalBackend> backend_;
};

TEST_F(LocalBackendTest, OpenFindsOrCreatesTheFolder) {
  EXPECT_TRUE(backend_->Check({}).ok());
  EXPECT_EQ(backend_->Describe(), root_.string() + "/");
  auto missing = LocalBackend::Open((dir_ / "missing").string(), /*create=*/false);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("local folder not found"), std::string::npos);
  Write("file", "x");
  auto file = LocalBackend::Open((root_ / "file").string(), /*create=*/false);
  EXPECT_EQ(file.status().code(), ErrorCode::kNotFound);
  // A file given where a folder belongs: the error says how to copy just that file.
  EXPECT_NE(file.status().message().find("is a file, not a folder (to copy only it, give its folder " +
                                         root_.string() + " and --include 'file')"),
            std::string::npos)
      << file.status().message();
  auto nested = LocalBackend::Open((dir_ / "n1" / "n2").string(), /*create=*/true);
  EXPECT_TRUE(nested.ok());
  EXPECT_EQ(LocalBackend((dir_ / "nope").string()).Check({}).code(), ErrorCode::kNotFound);
}

TEST_F(LocalBackendTest, ListSortsFoldersAsNameSlash) {
  // Written in an order unrelated to the expected one; "a/b" is a folder (holding "c").
  for (const char* rel : {"a0", "a/b/c", "a-c", "a.txt", "a/b-c", "a/b0"}) Write(rel, rel);
  EXPECT_EQ(ListKeys(), (std::vector<std::string>{"a-c", "a.txt", "a/b-c", "a/b/c", "a/b0", "a0"}));
}

TEST_F(LocalBackendTest, ListSkipsTempFilesAndSpecialFilesAndDoesNotEnterLinkedFolders) {
  Write("real.txt", "12345");
  Write("d/inner", "i");
  Write(".ferry-tmp-deadbeef", "partial");
  Write("d/.ferry-tmp-0", "partial");
  fs::create_symlink(root_ / "real.txt", root_ / "link-to-file");
  fs::create_directory_symlink(root_ / "d", root_ / "link-to-dir");
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  // The link to a folder is one entry, not followed: its keys are unknown, not absent.
  EXPECT_EQ(ListKeys(), (std::vector<std::string>{"d/inner", "link-to-dir/", "link-to-file",
                                                  "real.txt"}));
  {
    auto all = backend_->List("");
    ASSERT_TRUE(all.ok());
    for (;;) {
      auto e = (*all)->Next();
      ASSERT_TRUE(e.ok() && *e != nullptr);
      if ((*e)->key != "link-to-dir/") continue;
      EXPECT_TRUE((*e)->not_followed);
      EXPECT_TRUE((*e)->unreadable.empty());
      break;
    }
  }

  auto cursor = backend_->List("link-to-file");
  ASSERT_TRUE(cursor.ok());
  auto entry = (*cursor)->Next();
  ASSERT_TRUE(entry.ok() && *entry != nullptr);
  EXPECT_EQ((*entry)->size, 5u) << "a link to a file is listed with its target's size";
  EXPECT_FALSE((*entry)->has_details);
  EXPECT_EQ((*entry)->etag, "");
  // Listing under the linked folder finds nothing either: links to folders are not followed.
  EXPECT_TRUE(ListKeys("link-to-dir/").empty());
}

TEST_F(LocalBackendTest, ListPrefixStartsInTheNamedFolder) {
  for (const char* rel : {"x/y/z1", "x/y/z2", "x/yy", "x/y-", "xa", "w"}) Write(rel, "-");
  EXPECT_EQ(ListKeys("x/y/"), (std::vector<std::string>{"x/y/z1", "x/y/z2"}));
  EXPECT_EQ(ListKeys("x/y"), (std::vector<std::string>{"x/y-", "x/y/z1", "x/y/z2", "x/yy"}));
  EXPECT_EQ(ListKeys("x/y/z2"), (std::vector<std::string>{"x/y/z2"}));
  EXPECT_EQ(ListKeys("x"), (std::vector<std::string>{"x/y-", "x/y/z1", "x/y/z2", "x/yy", "xa"}));
  EXPECT_TRUE(ListKeys("missing/").empty());
  EXPECT_TRUE(ListKeys("xa/").empty()) << "a file is not a folder";
  EXPECT_TRUE(ListKeys("../").empty());
  EXPECT_TRUE(ListKeys("x//").empty());
  EXPECT_TRUE(ListKeys("/").empty());
}

TEST_F(LocalBackendTest, ListOfMissingRootIsNotFound) {
  LocalBackend gone((dir_ / "gone").string());
  EXPECT_EQ(gone.List("").status().code(), ErrorCode::kNotFound);
}

// Runs `body` as an unprivileged user when the test runs as root (root reads any folder), in a
// child process so that the test process keeps its identity. Returns the child's verdict.
bool RunUnprivileged(const std::function<bool()>& body) {
  if (::geteuid() != 0) return body();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const bool ok = ::setegid(65534) == 0 && ::seteuid(65534) == 0 && body();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_F(LocalBackendTest, UnreadableFolderIsListedAsUnreadableNotLeftOut) {
  Write("a", "1");
  Write("locked/secret", "2");
  Write("z", "3");
  fs::permissions(dir_, fs::perms::all, fs::perm_options::add);  // let "nobody" in
  fs::permissions(root_, fs::perms::all, fs::perm_options::add);
  fs::permissions(root_ / "locked", fs::perms::none);
  const bool ok = RunUnprivileged([&] {
    auto cursor = backend_->List("");
    if (!cursor.ok()) return false;
    std::vector<std::string> seen;
    for (;;) {
      auto next = (*cursor)->Next();
      if (!next.ok()) return false;
      if (*next == nullptr) break;
      const ObjectInfo& o = **next;
      seen.push_back(o.key + (o.unreadable.empty() ? "" : "!"));
      if (o.key == "locked/" &&
          (o.unreadable.find(root_.string() + "/locked") == std::string::npos ||
           o.unreadable.find("Permission denied") == std::string::npos)) {
        return false;
      }
    }
    // The folder's keys are unknown, not absent: one unreadable entry, and the listing goes on.
    return seen == std::vector<std::string>{"a", "locked/!", "z"};
  });
  EXPECT_TRUE(ok);
}

// Entries the listing finds but cannot read are listed as unreadable: a dangling symbolic link,
// and (through the test seam, since root can stat anything) a failed stat and a folder that
// cannot be opened. Reads of them fail with the reason.
TEST_F(LocalBackendTest, UnreadableEntriesAreListedWithTheirReason) {
  Write("ok.txt", "fine");
  Write("broken.txt", "bytes");
  Write("sub/inner", "i");
  Write("sub2/inner", "i");
  fs::create_symlink(root_ / "nowhere", root_ / "dangling");
  LocalBackend::SetListFaultForTest([](std::string_view rel) {
    return rel == "broken.txt" ? EIO : rel == "sub/" ? EACCES : 0;
  });
  auto cursor = backend_->List("");
  ASSERT_TRUE(cursor.ok());
  std::vector<std::pair<std::string, std::string>> seen;
  for (;;) {
    auto next = (*cursor)->Next();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    if (*next == nullptr) break;
    seen.emplace_back((*next)->key, (*next)->unreadable);
  }
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].first, "broken.txt");
  EXPECT_NE(seen[0].second.find("Input/output error"), std::string::npos) << seen[0].second;
  EXPECT_EQ(seen[1].first, "dangling");
  EXPECT_NE(seen[1].second.find("symbolic link whose target does not exist"), std::string::npos);
  EXPECT_EQ(seen[2], (std::pair<std::string, std::string>{"ok.txt", ""}));
  EXPECT_EQ(seen[3].first, "sub/");
  EXPECT_NE(seen[3].second.find("Permission denied"), std::string::npos) << seen[3].second;
  EXPECT_EQ(seen[4], (std::pair<std::string, std::string>{"sub2/inner", ""}));

  std::string buf(5, '\0');
  auto read = backend_->ReadObject("broken.txt", std::as_writable_bytes(std::span(buf)), "", {});
  EXPECT_EQ(read.status().code(), ErrorCode::kInternal) << "EIO, injected";
  EXPECT_EQ(backend_->Stat("sub/", false, {}).status().code(), ErrorCode::kPermissionDenied);
  LocalBackend::SetListFaultForTest(nullptr);

  auto dangling = backend_->Stat("dangling", false, {});
  EXPECT_EQ(dangling.status().code(), ErrorCode::kFailedPrecondition)
      << "an entry that cannot be read is not an absent one";
  EXPECT_NE(dangling.status().message().find("symbolic link whose target does not exist"),
            std::string::npos)
      << dangling.status().ToString();
  EXPECT_EQ(backend_->Stat("sub/", false, {}).status().code(), ErrorCode::kFailedPrecondition)
      << "readable again: the run that listed it must be run again";
  // A fifo is not an object, and reading it must not wait for a writer.
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  std::string none;
  EXPECT_EQ(backend_->ReadObject("fifo", std::as_writable_bytes(std::span(none)), "", {})
                .status()
                .code(),
            ErrorCode::kNotFound);
}

// A key ending in '/' or the empty key can only be a folder here.
TEST_F(LocalBackendTest, FolderKeysCannotBeWrittenAndSayWhy) {
  EXPECT_FALSE(backend_->features().folder_markers);
  for (const std::string key : {"dir/", "a/b/", ""}) {
    SCOPED_TRACE(key);
    Status s = Put(key, "bytes");
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.message().find("5 bytes"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("names a folder"), std::string::npos) << s.ToString();
    WriteSpec spec;
    spec.size = 5;
    EXPECT_EQ(backend_->OpenChunkWriter(key, spec, 5, {}).status().code(),
              ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(AllPaths(), (std::set<std::string>{"root"}));
}

// Metadata larger than ext4 keeps per file (E2BIG for one value over 64 KiB, ENOSPC for values
// that do not fit in the attribute block) fails the write with one message naming the key, the
// entry and its size, and leaves no temporary file.
TEST_F(LocalBackendTest, MetadataTooLargeForExtendedAttributesFailsCleanly) {
  if (::setxattr(root_.c_str(), "user.ferry.probe", "1", 1, 0) != 0 && errno == ENOTSUP) {
    GTEST_SKIP() << "no user extended attributes on " << root_;
  }
  for (const size_t size : {70000u, 8000u}) {
    SCOPED_TRACE(size);
    WriteSpec spec;
    spec.metadata["big"] = std::string(size, 'm');
    Status s = Put("dir/key.bin", "content", spec);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find("\"dir/key.bin\""), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("meta.big (" + std::to_string(size) + " bytes)"),
              std::string::npos)
        << s.ToString();
    EXPECT_EQ(AllPaths(), (std::set<std::string>{"root", "root/dir"})) << "no temporary file";
  }
}

TEST_F(LocalBackendTest, FileAndFolderCannotShareAName) {
  ASSERT_TRUE(Put("a", "file").ok());
  Status s = Put("a/b", "child");
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("\"a\" exists and is not a folder"), std::string::npos) << s.message();
  ASSERT_TRUE(Put("d/e", "child").ok());
  s = Put("d", "file");
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("a folder with that name exists"), std::string::npos) << s.message();
  auto writer = backend_->OpenChunkWriter("a/c", WriteSpec{}, 1, {});
  EXPECT_EQ(writer.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(AllPaths(), (std::set<std::string>{"root", "root/a", "root/d", "root/d/e"}))
      << "no temporary file is left behind";
}

// A folder where a file goes that holds no object gives way: an empty one (a delete
// interrupted before it removed the folder it emptied), or one that only folders and a killed
// write's temporary files keep (the deletes that emptied it of objects leave those). One that
// holds objects does not (above), nor one that holds a symbolic link, and it is left whole.
TEST_F(LocalBackendTest, AFolderWithoutObjectsGivesWayToAFileOfItsName) {
  fs::create_directories(root_ / "x");
  ASSERT_TRUE(Put("x", "hi").ok());
  EXPECT_TRUE(fs::is_regular_file(root_ / "x"));
  fs::create_directories(root_ / "y" / "z" / "w");  // y holds folders, and no object
  ASSERT_TRUE(Put("y", "hi").ok());
  EXPECT_TRUE(fs::is_regular_file(root_ / "y"));
  Write("t/u/.ferry-tmp-0123456789abcdef-v", "partial");  // a killed write of "t/u/v"
  Write("t/.ferry-tmp-fedcba9876543210-w", "partial");
  ASSERT_TRUE(Put("t", "file").ok());
  EXPECT_TRUE(fs::is_regular_file(root_ / "t"));
  Write("k/.ferry-tmp-0123456789abcdef-v", "partial");
  Write("k/l/m", "an object");
  EXPECT_EQ(Put("k", "hi").code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(fs::exists(root_ / "k/.ferry-tmp-0123456789abcdef-v")) << "left as it was";
  EXPECT_TRUE(fs::exists(root_ / "k/l/m"));
  fs::create_directories(root_ / "s");
  fs::create_symlink(root_ / "x", root_ / "s" / "link");
  EXPECT_EQ(Put("s", "hi").code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(fs::is_symlink(root_ / "s" / "link"));
  WriteSpec two;
  two.size = 2;
  auto w = backend_->OpenChunkWriter("e", two, 1, {});
  ASSERT_TRUE(w.ok());
  fs::create_directories(root_ / "e");  // appears while the upload runs
  ASSERT_TRUE((*w)->WriteChunk(1, 0, checksum::AsBytes("h"), {}).ok());
  ASSERT_TRUE((*w)->WriteChunk(2, 1, checksum::AsBytes("i"), {}).ok());
  ASSERT_TRUE((*w)->Commit({}).ok());
  EXPECT_TRUE(fs::is_regular_file(root_ / "e"));
}

TEST_F(LocalBackendTest, StatOfAFolderIsNotFoundAndDeleteOfOneIsANoOp) {
  ASSERT_TRUE(Put("d/e", "x").ok());
  EXPECT_EQ(backend_->Stat("d", false, {}).status().code(), ErrorCode::kNotFound);
  std::string buf(1, '\0');
  EXPECT_EQ(backend_->ReadAt("d", 0, std::as_writable_bytes(std::span(buf)), "", {}).code(),
            ErrorCode::kNotFound);
  EXPECT_TRUE(backend_->Delete("d", {}).ok());
  EXPECT_TRUE(fs::exists(root_ / "d/e"));
}

TEST_F(LocalBackendTest, DeleteRemovesEmptiedFoldersUpToTheRoot) {
  ASSERT_TRUE(Put("x/y/z", "1").ok());
  ASSERT_TRUE(Put("x/w", "2").ok());
  ASSERT_TRUE(backend_->Delete("x/y/z", {}).ok());
  EXPECT_FALSE(fs::exists(root_ / "x/y"));
  EXPECT_TRUE(fs::exists(root_ / "x/w"));
  ASSERT_TRUE(backend_->Delete("x/w", {}).ok());
  EXPECT_FALSE(fs::exists(root_ / "x"));
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_TRUE(backend_->Delete("x/w", {}).ok()) << "absent is fine";
}

// remove_emptied_folders = false (`ferry move` without --delete-empty-src-dirs): the file goes,
// every folder stays, the emptied ones too.
TEST_F(LocalBackendTest, DeleteKeepsFoldersWhenToldTo) {
  ASSERT_TRUE(Put("x/y/z", "1").ok());
  ASSERT_TRUE(Put("x/w", "2").ok());
  auto keeping = LocalBackend::Open(root_.string(), false, {.remove_emptied_folders = false});
  ASSERT_TRUE(keeping.ok());
  ASSERT_TRUE((*keeping)->DeleteMany(std::vector<std::string>{"x/y/z", "x/w"}, {}).ok());
  EXPECT_FALSE(fs::exists(root_ / "x/y/z"));
  EXPECT_FALSE(fs::exists(root_ / "x/w"));
  EXPECT_TRUE(fs::is_directory(root_ / "x/y"));
  EXPECT_TRUE(fs::is_directory(root_ / "x"));
}

TEST_F(LocalBackendTest, PutSetsNanosecondMtimeAndLeavesNoTemporaryFile) {
  WriteSpec spec;
  spec.mtime = system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
      std::chrono::nanoseconds(1'600'000'000'123'456'789)));
  ASSERT_TRUE(Put("dir/k", "data", spec).ok());
  auto info = backend_->Stat("dir/k", true, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mtime, spec.mtime);
  EXPECT_TRUE(info->has_details);
  EXPECT_TRUE(info->metadata.empty());
  EXPECT_EQ(info->tags, Tags{}) << "asked for: fetched, and there are none";
  auto cursor = backend_->List("");
  ASSERT_TRUE(cursor.ok());
  auto entry = (*cursor)->Next();
  ASSERT_TRUE(entry.ok() && *entry != nullptr);
  EXPECT_EQ((*entry)->mtime, spec.mtime);
  EXPECT_EQ(AllPaths(), (std::set<std::string>{"root", "root/dir", "root/dir/k"}));

  // Without an mtime the file gets the time of the write.
  const auto before = system_clock::now() - std::chrono::seconds(5);
  ASSERT_TRUE(Put("now", "x").ok());
  EXPECT_GT(backend_->Stat("now", false, {})->mtime, before);
}

TEST_F(LocalBackendTest, ChunkWriterCommitNeedsEveryByte) {
  WriteSpec spec;
  spec.size = 10;
  auto writer = backend_->OpenChunkWriter("k", spec, 4, {});
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(AllPaths().size(), 2u) << "root and the temporary file";
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, checksum::AsBytes("0123"), {}).ok());
  ASSERT_TRUE((*writer)->WriteChunk(3, 8, checksum::AsBytes("89"), {}).ok());
  EXPECT_EQ((*writer)->WriteChunk(3, 8, checksum::AsBytes("89X"), {}).code(),
            ErrorCode::kInvalidArgument)
      << "beyond spec.size";
  auto commit = (*writer)->Commit({});
  EXPECT_EQ(commit.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(commit.status().message().find("byte 4"), std::string::npos);
  ASSERT_TRUE((*writer)->WriteChunk(2, 4, checksum::AsBytes("4567"), {}).ok());
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_TRUE((*writer)->Abort().ok()) << "Abort after Commit does nothing";
  std::string out(10, '\0');
  ASSERT_TRUE(backend_->ReadAt("k", 0, std::as_writable_bytes(std::span(out)), "", {}).ok());
  EXPECT_EQ(out, "0123456789");
  EXPECT_EQ((*writer)->WriteChunk(1, 0, checksum::AsBytes("0123"), {}).code(),
            ErrorCode::kFailedPrecondition);
}

TEST_F(LocalBackendTest, ChunkWriterDestroyedWithoutCommitLeavesNothing) {
  WriteSpec spec;
  spec.size = 3;
  {
    auto writer = backend_->OpenChunkWriter("sub/k", spec, 3, {});
    ASSERT_TRUE(writer.ok());
    EXPECT_NE((*writer)->upload_id().find(".ferry-tmp-"), std::string::npos);
    ASSERT_TRUE((*writer)->WriteChunk(1, 0, checksum::AsBytes("abc"), {}).ok());
  }
  EXPECT_EQ(AllPaths(), (std::set<std::string>{"root", "root/sub"}));
  EXPECT_TRUE(ListKeys().empty());
}

TEST_F(LocalBackendTest, ReadObjectChecksTheSize) {
  ASSERT_TRUE(Put("k", "hello").ok());
  std::string out(5, '\0');
  auto info = backend_->ReadObject("k", std::as_writable_bytes(std::span(out)), "ignored", {});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(info->size, 5u);
  std::string longer(6, '\0');
  EXPECT_EQ(
      backend_->ReadObject("k", std::as_writable_bytes(std::span(longer)), "", {}).status().code(),
      ErrorCode::kDataLoss);
}

TEST_F(LocalBackendTest, StoppedCallsAreCancelled) {
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(backend_->Put("k", checksum::AsBytes("x"), {}, stop.get_token()).status().code(),
            ErrorCode::kCancelled);
  EXPECT_FALSE(fs::exists(root_ / "k"));
}

// Details live in extended attributes. What describes the content (ferry's checksum and
// original mtime) stops counting once the file changed; the rest stays.
TEST_F(LocalBackendTest, ContentDetailsStopCountingWhenTheFileChanges) {
  WriteSpec spec;
  spec.mtime = system_clock::time_point(std::chrono::seconds(1'600'000'000));
  spec.metadata = {{"ferry-crc32c", "0a1b2c3d"}, {"ferry-mtime", "1600000000000000000"},
                   {"owner", "bob"}};
  spec.content.content_type = "text/plain";
  spec.tags = Tags{{"team", "data"}};
  ASSERT_TRUE(Put("a/k", "body", spec).ok());
  auto info = backend_->Stat("a/k", true, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->metadata, spec.metadata);
  EXPECT_EQ(info->crc32c(), 0x0a1b2c3du);
  EXPECT_EQ(info->tags, spec.tags);
  // Edited in place (same size, new mtime): no checksum or original mtime any more.
  Write("a/k", "BODY");
  info = backend_->Stat("a/k", true, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->metadata, (std::map<std::string, std::string>{{"owner", "bob"}}));
  EXPECT_EQ(info->crc32c(), std::nullopt);
  EXPECT_EQ(info->content.content_type, "text/plain");
  EXPECT_EQ(info->tags, spec.tags);
  EXPECT_EQ(info->source_mtime(), info->mtime);
  // A file ferry did not write has no details at all; tags read as none.
  Write("plain", "x");
  info = backend_->Stat("plain", true, {});
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->metadata.empty());
  EXPECT_EQ(info->tags, Tags{});
  ASSERT_TRUE(backend_->PutTags("plain", {{"k", "v"}}, {}).ok());
  EXPECT_EQ(backend_->Stat("plain", true, {})->tags, (Tags{{"k", "v"}}));
  ASSERT_TRUE(backend_->PutTags("plain", {}, {}).ok());
  EXPECT_EQ(backend_->Stat("plain", true, {})->tags, Tags{});
  EXPECT_EQ(backend_->PutTags("../x", {{"k", "v"}}, {}).code(), ErrorCode::kInvalidArgument);
}

// The details are one attribute ("user.ferry": one fsetxattr per file). Folders written by an
// older ferry (one "user.ferry.<entry>" attribute per entry) are still read, and their tags
// replaced in their own form; a damaged value claims nothing.
TEST_F(LocalBackendTest, DetailsAreOneAttributeAndTheOlderFormIsStillRead) {
  if (::setxattr(root_.c_str(), "user.ferry.probe", "1", 1, 0) != 0 && errno == ENOTSUP) {
    GTEST_SKIP() << "no user extended attributes on " << root_;
  }
  const auto names_of = [](const fs::path& p) {
    std::string list(4096, '\0');
    const ssize_t n = ::listxattr(p.c_str(), list.data(), list.size());
    std::set<std::string> names;
    for (size_t i = 0; n > 0 && i < static_cast<size_t>(n); i = list.find('\0', i) + 1) {
      names.insert(list.c_str() + i);
    }
    return names;
  };
  WriteSpec spec;
  spec.metadata = {{"owner", "bob"}, {"ferry-crc32c", "0a1b2c3d"}};
  spec.content.content_type = "text/plain";
  spec.tags = Tags{{"team", "data"}};
  ASSERT_TRUE(Put("new", "body", spec).ok());
  EXPECT_EQ(names_of(root_ / "new"), (std::set<std::string>{"user.ferry"}));

  Write("old", "body");
  struct stat st;
  ASSERT_EQ(::stat((root_ / "old").c_str(), &st), 0);
  const std::string guard =
      std::to_string(st.st_size) + " " +
      std::to_string(static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ull +
                     static_cast<uint64_t>(st.st_mtim.tv_nsec));
  const std::string tags("team\0data\0", 10);
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"user.ferry.content-type", "text/plain"},
                                                        {"user.ferry.meta.owner", "bob"},
                                                        {"user.ferry.meta.ferry-crc32c", "0a1b2c3d"},
                                                        {"user.ferry.tags", tags},
                                                        {"user.ferry.guard", guard}}) {
    ASSERT_EQ(::setxattr((root_ / "old").c_str(), name.c_str(), value.data(), value.size(), 0), 0);
  }
  for (const char* key : {"new", "old"}) {
    SCOPED_TRACE(key);
    auto info = backend_->Stat(key, true, {});
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->metadata, spec.metadata);
    EXPECT_EQ(info->crc32c(), 0x0a1b2c3du);
    EXPECT_EQ(info->content.content_type, "text/plain");
    EXPECT_EQ(info->tags, spec.tags);
    ASSERT_TRUE(backend_->PutTags(key, {{"k", "v"}}, {}).ok());
    info = backend_->Stat(key, true, {});
    EXPECT_EQ(info->tags, (Tags{{"k", "v"}}));
    EXPECT_EQ(info->metadata, spec.metadata) << "the other entries stay";
  }
  EXPECT_EQ(names_of(root_ / "old").count("user.ferry"), 0u) << "an older file keeps its form";

  Write("damaged", "body");
  const std::string damaged("1\0x\0999\0y", 9);  // an entry longer than what follows
  ASSERT_EQ(::setxattr((root_ / "damaged").c_str(), "user.ferry", damaged.data(), damaged.size(), 0),
            0);
  auto info = backend_->Stat("damaged", true, {});
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->metadata.empty());
}

TEST_F(LocalBackendTest, ServerTimeIsTheClocksTime) {
  const auto before = system_clock::now();
  auto t = backend_->ServerTime({});
  ASSERT_TRUE(t.ok());
  EXPECT_GE(*t, before);  // the system clock by default
  ferry::testing::FakeClock clock;
  LocalBackend faked(root_.string(), LocalOptions{.fsync = true, .clock = &clock});
  EXPECT_EQ(*faked.ServerTime({}), clock.Now());
  clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(*faked.ServerTime({}), clock.Now());
}

}  // namespace
}  // namespace ferry::storage
