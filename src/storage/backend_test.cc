// The default implementations in Backend (backend.cc), exercised through MemoryBackend.
#include "storage/backend.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"

namespace ferry::storage {
namespace {

// MemoryBackend with Backend's own ReadObject instead of its atomic override.
class DefaultReadObjectBackend : public MemoryBackend {
 public:
  Result<ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                std::string_view etag, std::stop_token stop) override {
    return Backend::ReadObject(key, out, etag, stop);
  }
};

void Put(Backend& b, const std::string& key, const std::string& body, Tags tags = {}) {
  WriteSpec spec;
  spec.size = body.size();
  spec.metadata["color"] = "blue";
  if (!tags.empty()) spec.tags = tags;
  ASSERT_TRUE(b.Put(key, checksum::AsBytes(body), spec, {}).ok());
}

TEST(BackendTest, DefaultDeleteManyDeletesEveryKeyAndIgnoresAbsentOnes) {
  MemoryBackend b;
  Put(b, "a", "1");
  Put(b, "b", "2");
  Put(b, "c", "3");
  const std::vector<std::string> keys = {"a", "missing", "c"};
  ASSERT_TRUE(b.DeleteMany(keys, {}).ok());
  EXPECT_EQ(b.Keys(), std::vector<std::string>{"b"});
  EXPECT_EQ(b.counts().deletes, 3);
}

TEST(BackendTest, DefaultDeleteManyStopsAtFirstFailureNamingTheKey) {
  MemoryBackend b;
  Put(b, "a", "1");
  Put(b, "b", "2");
  Put(b, "c", "3");
  b.FailNext(MemoryBackend::kDelete, 1, Status::PermissionDenied("denied"));
  const std::vector<std::string> keys = {"a", "b", "c"};
  Status s = b.DeleteMany(keys, {});
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "delete a: denied");
  EXPECT_EQ(b.Keys().size(), 3u) << "nothing after the failure was attempted";
  EXPECT_EQ(b.counts().deletes, 1);
}

TEST(BackendTest, DefaultDeleteManyHonoursStop) {
  MemoryBackend b;
  Put(b, "a", "1");
  std::stop_source stop;
  stop.request_stop();
  const std::vector<std::string> keys = {"a"};
  EXPECT_EQ(b.DeleteMany(keys, stop.get_token()).code(), ErrorCode::kCancelled);
  EXPECT_EQ(b.Keys().size(), 1u);
}

TEST(BackendTest, DefaultReadObjectReturnsBytesAndDetails) {
  DefaultReadObjectBackend b;
  Put(b, "k", "hello", {{"t", "v"}});
  Put(b, "untagged", "x");
  std::string out(5, '\0');
  auto info = b.ReadObject("k", std::as_writable_bytes(std::span(out)), "", {});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(out, "hello");
  EXPECT_TRUE(info->has_details);
  EXPECT_EQ(info->metadata.at("color"), "blue");
  ASSERT_TRUE(info->tags.has_value());
  EXPECT_EQ(*info->tags, (Tags{{"t", "v"}}));
  std::string one(1, '\0');
  info = b.ReadObject("untagged", std::as_writable_bytes(std::span(one)), "", {});
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->tags.has_value()) << "tags only when the object has some";
}

TEST(BackendTest, DefaultReadObjectChecksEtagAndSize) {
  DefaultReadObjectBackend b;
  Put(b, "k", "hello");
  std::string out(5, '\0');
  auto bytes = std::as_writable_bytes(std::span(out));
  EXPECT_EQ(b.ReadObject("k", bytes, "0123456789abcdef0123456789abcdef", {}).status().code(),
            ErrorCode::kFailedPrecondition);
  std::string small(4, '\0');
  EXPECT_EQ(b.ReadObject("k", std::as_writable_bytes(std::span(small)), "", {}).status().code(),
            ErrorCode::kDataLoss);
  EXPECT_EQ(b.ReadObject("absent", bytes, "", {}).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ferry::storage
