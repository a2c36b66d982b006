// copy_bytes.h: reads pinned to the object decided on, and the whole-read check with the
// layout the store tells.
#include "transfer/copy_bytes.h"

#include <gtest/gtest.h>

#include <string>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "transfer/memory_fixture.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using storage::ObjectInfo;
using testing::Put;
using testing::PutMultipart;

// A MemoryBackend that tells the size of part 1 of multipart objects, as AWS does.
class TellingBackend : public MemoryBackend {
 public:
  using MemoryBackend::MemoryBackend;
  Result<std::optional<uint64_t>> FirstPartSize(const ObjectInfo&, std::stop_token) override {
    return told;
  }
  std::optional<uint64_t> told;
};

std::string Read(MemoryBackend& b, const ObjectInfo& object) {
  std::string out(object.size, '\0');
  std::span<std::byte> bytes(reinterpret_cast<std::byte*>(out.data()), out.size());
  Status s = ReadPinned(b, object, 0, bytes, {});
  return s.ok() ? out : "error: " + s.ToString();
}

class CopyBytesTest : public ::testing::Test {
 protected:
  ferry::testing::FakeClock clock_;
};

// A versioned source's object is read by its version id: an overwrite after the decision does
// not change the bytes copied. An unversioned one is pinned to its ETag: the read fails
// (kFailedPrecondition, the caller decides again) instead of mixing in the new bytes.
TEST_F(CopyBytesTest, ReadsArePinnedToTheObjectDecidedOn) {
  MemoryBackend versioned({.clock = &clock_, .versioned = true});
  Put(versioned, "k", "first bytes");
  Result<ObjectInfo> first = versioned.Stat("k", false, {});
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->version_id.empty());
  Put(versioned, "k", "second bytes");
  EXPECT_EQ(Read(versioned, *first), "first bytes");

  MemoryBackend plain({.clock = &clock_});
  Put(plain, "k", "first bytes");
  Result<ObjectInfo> listed = plain.Stat("k", false, {});
  ASSERT_TRUE(listed.ok());
  Put(plain, "k", "other bytes");
  std::string out(listed->size, '\0');
  Status s = ReadPinned(plain, *listed, 0,
                        std::span(reinterpret_cast<std::byte*>(out.data()), out.size()), {});
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition) << s.ToString();
}

// A multipart ETag that no common part size reproduces: the layout the store tells decides.
// Its uniform parts account for every part, so bytes that do not make the ETag are refused
// (not counted "unverified" and written); a told size whose uniform parts do not account for
// the ETag's part count proves nothing either way.
TEST_F(CopyBytesTest, TheStoresLayoutDecidesAWholeRead) {
  MemoryBackend::Options o{.clock = &clock_};
  o.features.min_part_size = 1024;
  TellingBackend src(o);
  std::string body(12345, 'b');
  for (size_t i = 0; i < body.size(); i += 97) body[i] = static_cast<char>('A' + i % 23);
  PutMultipart(src, "mp", body, 3000);  // 5 parts: no common tool's part size
  Result<ObjectInfo> object = src.Stat("mp", false, {});
  ASSERT_TRUE(object.ok());
  ASSERT_NE(object->etag.find("-5"), std::string::npos) << object->etag;
  std::string bad = body;
  bad[4000] ^= 0x20;
  auto check = [&](const std::string& data) {
    const std::span<const std::byte> bytes = checksum::AsBytes(data);
    return CheckRead(src, *object, bytes, checksum::Crc32c(bytes), false, {});
  };
  // Nothing told: nothing can check it.
  EXPECT_EQ(check(body), WholeCheck::kUnverified);
  EXPECT_EQ(check(bad), WholeCheck::kUnverified);
  src.told = 3000;
  EXPECT_EQ(check(body), WholeCheck::kVerified);
  EXPECT_EQ(check(bad), WholeCheck::kMismatch);
  src.told = 5000;  // 3 uniform parts, the ETag counts 5: parts of mixed sizes
  EXPECT_EQ(check(body), WholeCheck::kUnverified);
}

}  // namespace
}  // namespace ferry::transfer
