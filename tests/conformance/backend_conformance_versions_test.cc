// The Backend conformance suite, part 4: versions. Stores without version listings (files)
// refuse every version call; stores that list versions but keep none (an unversioned S3
// bucket or memory backend) list each object once as version "null"; versioned stores keep
// every write, add delete markers, and list, read and delete versions by id.
#include <algorithm>

#include "checksum/checksum.h"
#include "conformance/backend_factory.h"

namespace ferry::conformance {
namespace {

using storage::ObjectInfo;
using storage::WriteResult;
using storage::WriteSpec;

std::string Md5Hex(std::string_view s) {
  return checksum::Hex(checksum::Md5(checksum::AsBytes(s)));
}

// "key@version" of each entry, "key@version*" for delete markers: compact to compare.
std::vector<std::string> Ids(const std::vector<ObjectInfo>& entries) {
  std::vector<std::string> out;
  for (const ObjectInfo& e : entries) {
    out.push_back(e.key + "@" + e.version_id + (e.delete_marker ? "*" : ""));
  }
  return out;
}

}  // namespace

TEST_P(BackendConformanceTest, VersionCallsMatchFeatures) {
  ASSERT_TRUE(PutString("a", "one").ok());
  if (!GetParam().lists_versions) {
    EXPECT_FALSE(features().versions);
    EXPECT_EQ(backend().ListVersions("", "", "").status().code(), ErrorCode::kNotSupported);
    EXPECT_EQ(backend().StatVersion("a", "null", false, {}).status().code(),
              ErrorCode::kNotSupported);
    std::string out(3, '\0');
    EXPECT_EQ(
        backend().ReadVersionAt("a", "null", 0, std::as_writable_bytes(std::span(out)), {}).code(),
        ErrorCode::kNotSupported);
    EXPECT_EQ(backend().DeleteVersion("a", "null", {}).code(), ErrorCode::kNotSupported);
    EXPECT_EQ(backend().AddDeleteMarker("a", {}).status().code(), ErrorCode::kFailedPrecondition);
    EXPECT_TRUE(backend().Stat("a", false, {}).ok()) << "nothing was deleted";
    return;
  }
  if (features().versions) return;  // versioned stores: the tests below
  // Listed, but not kept: one "null" version per object; writes report no version.
  auto written = PutString("b", "two");
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->version_id, "");
  auto versions = ListAllVersions("");
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  EXPECT_EQ(Ids(*versions), (std::vector<std::string>{"a@null", "b@null"}));
  EXPECT_TRUE(versions->at(0).is_latest);
  EXPECT_EQ(versions->at(1).etag, Md5Hex("two"));
  EXPECT_EQ(versions->at(1).size, 3u);
  auto stat = backend().StatVersion("b", "null", false, {});
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_EQ(stat->etag, Md5Hex("two"));
  EXPECT_EQ(backend().AddDeleteMarker("a", {}).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(backend().Stat("a", false, {}).ok()) << "nothing was deleted";
}

TEST_P(BackendConformanceTest, VersionsKeepEveryWriteAndDeleteMarkers) {
  if (!features().versions) return;  // covered by VersionCallsMatchFeatures
  auto v1 = PutString("doc", "one");
  auto v2 = PutString("doc", "two!");
  ASSERT_TRUE(v1.ok() && v2.ok());
  EXPECT_FALSE(v1->version_id.empty());
  EXPECT_FALSE(v2->version_id.empty());
  EXPECT_NE(v1->version_id, v2->version_id);
  ASSERT_TRUE(PutString("other", "x").ok());
  ASSERT_TRUE(backend().Delete("doc", {}).ok());

  // The current version is the delete marker: the plain calls see no object.
  EXPECT_EQ(backend().Stat("doc", false, {}).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ListKeys("").value(), std::vector<std::string>{"other"});
  auto versions = ListAllVersions("doc");
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_EQ(versions->size(), 3u);
  const ObjectInfo marker = versions->at(0);
  EXPECT_TRUE(marker.delete_marker);
  EXPECT_TRUE(marker.is_latest);
  EXPECT_EQ(Ids(*versions),
            (std::vector<std::string>{"doc@" + marker.version_id + "*", "doc@" + v2->version_id,
                                      "doc@" + v1->version_id}));
  EXPECT_FALSE(versions->at(1).is_latest);
  EXPECT_EQ(versions->at(1).etag, Md5Hex("two!"));
  EXPECT_EQ(versions->at(2).size, 3u);

  // A delete marker has no content to stat (AWS would answer 405 instead).
  EXPECT_EQ(backend().StatVersion("doc", marker.version_id, false, {}).status().code(),
            ErrorCode::kNotFound);
  // Each version stays readable by id.
  for (const auto& [id, body] : {std::pair{v1->version_id, std::string("one")},
                                 std::pair{v2->version_id, std::string("two!")}}) {
    auto info = backend().StatVersion("doc", id, false, {});
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->version_id, id);
    EXPECT_EQ(info->etag, Md5Hex(body));
    EXPECT_EQ(info->size, body.size());
    std::string out(body.size() - 1, '\0');
    ASSERT_TRUE(
        backend().ReadVersionAt("doc", id, 1, std::as_writable_bytes(std::span(out)), {}).ok());
    EXPECT_EQ(out, body.substr(1));
  }

  // Removing the marker brings the newest version back; removing that, the one before.
  ASSERT_TRUE(backend().DeleteVersion("doc", marker.version_id, {}).ok());
  auto current = backend().Stat("doc", false, {});
  ASSERT_TRUE(current.ok()) << current.status().ToString();
  EXPECT_EQ(current->etag, Md5Hex("two!"));
  EXPECT_EQ(current->version_id, v2->version_id);
  ASSERT_TRUE(backend().DeleteVersion("doc", v2->version_id, {}).ok());
  EXPECT_EQ(ReadString("doc").value(), "one");
  versions = ListAllVersions("doc");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(Ids(*versions), (std::vector<std::string>{"doc@" + v1->version_id}));
  EXPECT_TRUE(versions->at(0).is_latest);
  EXPECT_EQ(backend().StatVersion("doc", v2->version_id, false, {}).status().code(),
            ErrorCode::kNotFound);
  EXPECT_TRUE(backend().DeleteVersion("doc", v2->version_id, {}).ok()) << "absent is OK";

  // AddDeleteMarker returns the marker's id, which the listing shows as current.
  auto added = backend().AddDeleteMarker("doc", {});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_FALSE(added->version_id.empty());
  EXPECT_EQ(added->etag, "");
  versions = ListAllVersions("doc");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(Ids(*versions),
            (std::vector<std::string>{"doc@" + added->version_id + "*", "doc@" + v1->version_id}));
  EXPECT_EQ(backend().Stat("doc", false, {}).status().code(), ErrorCode::kNotFound);
}

TEST_P(BackendConformanceTest, VersionListingsResumeAtEveryEntry) {
  if (!features().versions) return;  // covered by VersionCallsMatchFeatures
  // Versions written per key: "a" 1, "b" 5, "c" 2 then a delete marker; "d/x" 1.
  std::map<std::string, std::vector<std::string>> written;  // key -> ids, oldest first
  for (const auto& [key, count] :
       std::vector<std::pair<std::string, int>>{{"a", 1}, {"b", 5}, {"c", 2}, {"d/x", 1}}) {
    for (int i = 0; i < count; ++i) {
      auto w = PutString(key, key + std::to_string(i));
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      written[key].push_back(w->version_id);
    }
  }
  auto marker = backend().AddDeleteMarker("c", {});
  ASSERT_TRUE(marker.ok()) << marker.status().ToString();
  written["c"].push_back(marker->version_id);

  std::vector<std::string> expected;  // keys ascending, newest first
  for (const auto& [key, ids] : written) {
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
      expected.push_back(key + "@" + *it + (key == "c" && *it == marker->version_id ? "*" : ""));
    }
  }
  auto all = ListAllVersions("");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(Ids(*all), expected);
  for (const ObjectInfo& e : *all) {
    const bool newest = e.version_id == written[e.key].back();
    EXPECT_EQ(e.is_latest, newest) << e.key << "@" << e.version_id;
  }
  // Resuming after any entry gives exactly the rest.
  for (size_t i = 0; i < all->size(); ++i) {
    auto rest = ListAllVersions("", all->at(i).key, all->at(i).version_id);
    ASSERT_TRUE(rest.ok()) << rest.status().ToString();
    EXPECT_EQ(Ids(*rest), std::vector<std::string>(expected.begin() + i + 1, expected.end()))
        << "after entry " << i;
  }
  // A key marker alone skips every version of that key; a prefix limits the keys.
  auto after_b = ListAllVersions("", "b", "");
  ASSERT_TRUE(after_b.ok());
  EXPECT_EQ(Ids(*after_b), std::vector<std::string>(expected.begin() + 6, expected.end()));
  auto only_b = ListAllVersions("b");
  ASSERT_TRUE(only_b.ok());
  EXPECT_EQ(Ids(*only_b), std::vector<std::string>(expected.begin() + 1, expected.begin() + 6));
  auto under_d = ListAllVersions("d/", "a", "");
  ASSERT_TRUE(under_d.ok());
  EXPECT_EQ(Ids(*under_d), std::vector<std::string>{expected.back()});
}

TEST_P(BackendConformanceTest, EveryKindOfWriteReturnsTheVersionItMade) {
  if (!features().versions || !features().chunked_write) return;  // see the tests above
  const uint64_t part = std::max<uint64_t>(features().min_part_size, 1000);
  std::string body(part + 10, 'z');
  WriteSpec spec;
  spec.size = body.size();
  auto writer = backend().OpenChunkWriter("big", spec, part, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, checksum::AsBytes(body).subspan(0, part), {}).ok());
  ASSERT_TRUE((*writer)->WriteChunk(2, part, checksum::AsBytes(body).subspan(part), {}).ok());
  // Metadata added at commit leaves one version (S3 records none of it: no copy onto itself).
  (*writer)->AddMetadataOnCommit({{"ferry-crc32c", "0a1b2c3d"}});
  auto committed = (*writer)->Commit({});
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_FALSE(committed->version_id.empty());
  auto versions = ListAllVersions("big");
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  EXPECT_EQ(Ids(*versions), (std::vector<std::string>{"big@" + committed->version_id}));
  EXPECT_EQ(backend()
                .StatVersion("big", committed->version_id, false, {})
                ->metadata.count("ferry-crc32c"),
            features().metadata && GetParam().records_metadata_on_commit ? 1u : 0u);

  if (!features().server_side_copy) return;
  auto old = PutString("src", "old");
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(PutString("src", "new").ok());
  // Copying a listed older version copies that version.
  ObjectInfo source;
  source.key = "src";
  source.version_id = old->version_id;
  auto copied = backend().CopyFrom(backend(), source, "dst", "", {});
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_FALSE(copied->version_id.empty());
  EXPECT_EQ(ReadString("dst").value(), "old");
  versions = ListAllVersions("dst");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(Ids(*versions), (std::vector<std::string>{"dst@" + copied->version_id}));
}

}  // namespace ferry::conformance
