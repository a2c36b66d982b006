// The requests of a staged archive (staging_requests.h).
#include "transport/staging_requests.h"

#include <gtest/gtest.h>

namespace ferry::transport {
namespace {

TEST(StagingRequestsTest, ArchiveRequests) {
  // A small archive: create, one part, complete; read: HEAD, three opening reads, one read.
  EXPECT_EQ(ArchiveWriteRequests(1000).put, 3u);
  EXPECT_EQ(ArchiveReadRequests(1000).get, 5u);
  EXPECT_EQ(ArchiveWriteRequests(0).put, 3u);  // an empty archive is still one part
  EXPECT_EQ(ArchiveWriteRequests((32ull << 20) + 1).put, 5u);
  // A batch expected to fit one part: one PUT when it does, a multipart upload when not.
  EXPECT_EQ(ArchiveWriteRequests(1000, 16ull << 20, true).put, 1u);
  EXPECT_EQ(ArchiveWriteRequests(16ull << 20, 16ull << 20, true).put, 3u);
  EXPECT_EQ(ArchiveReadRequests(16ull << 20).get, 6u);
  Requests r = ArchiveWriteRequests(1000);
  r += ArchiveReadRequests(1000);
  EXPECT_EQ(r.put, 3u);
  EXPECT_EQ(r.get, 5u);
}

}  // namespace
}  // namespace ferry::transport
