// S3Backend and archived objects, against FakeTransport: listed archive classes, the restore
// state a HEAD gives, and RequestRestore's request and outcomes.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "storage/s3/s3_backend.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::storage {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

FakeReply ListingOfClasses() {
  std::string xml = "<ListBucketResult><IsTruncated>false</IsTruncated>";
  for (const char* c : {"DEEP_ARCHIVE", "GLACIER", "GLACIER_IR", "STANDARD"}) {
    xml += std::string("<Contents><Key>root/") + c + "</Key><Size>1</Size><ETag>\"e\"</ETag>" +
           "<LastModified>2026-01-01T00:00:00.000Z</LastModified><StorageClass>" + c +
           "</StorageClass></Contents>";
  }
  return FakeReply::Ok(xml + "</ListBucketResult>");
}

class S3ArchiveTest : public ::testing::Test {
 protected:
  S3ArchiveTest() : creds_(s3::Credentials{"AK", "SK", ""}) {
    s3::S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "us-east-1";
    o.retry.max_attempts = 1;
    client_ = std::make_unique<s3::S3Client>(o, transport_, creds_, clock_);
    backend_ = std::make_unique<S3Backend>(*client_, "bkt", "root/");
  }
  FakeTransport transport_;
  FakeClock clock_;
  s3::StaticCredentials creds_;
  std::unique_ptr<s3::S3Client> client_;
  std::unique_ptr<S3Backend> backend_;
};

TEST_F(S3ArchiveTest, ListingMarksArchiveClassesOnly) {
  transport_.Push(ListingOfClasses());
  auto cursor = backend_->List("");
  ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
  std::map<std::string, bool> archived;
  for (;;) {
    auto next = (*cursor)->Next();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    if (*next == nullptr) break;
    archived[(*next)->key] = (*next)->archive.archived;
    EXPECT_FALSE((*next)->archive.restore_requested);
  }
  EXPECT_EQ(archived, (std::map<std::string, bool>{
                          {"DEEP_ARCHIVE", true}, {"GLACIER", true}, {"GLACIER_IR", false},
                          {"STANDARD", false}}));
}

TEST_F(S3ArchiveTest, StatGivesTheRestoreState) {
  http::Headers running;
  running.Add("Content-Length", "1");
  running.Add("x-amz-storage-class", "GLACIER");
  running.Add("x-amz-restore", "ongoing-request=\"true\"");
  transport_.Push(FakeReply::Ok("", running));
  auto info = backend_->Stat("k", false, {});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->archive.archived);
  EXPECT_TRUE(info->archive.restore_requested);
  EXPECT_FALSE(info->archive.readable());

  http::Headers done = running;
  done.Set("x-amz-restore", "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\"");
  transport_.Push(FakeReply::Ok("", done));
  info = backend_->Stat("k", false, {});
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->archive.archived);
  EXPECT_TRUE(info->archive.readable());

  http::Headers tiered;
  tiered.Add("Content-Length", "1");
  tiered.Add("x-amz-storage-class", "INTELLIGENT_TIERING");
  tiered.Add("x-amz-archive-status", "ARCHIVE_ACCESS");
  transport_.Push(FakeReply::Ok("", tiered));
  info = backend_->Stat("t", false, {});
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->archive.archived);
  EXPECT_FALSE(info->archive.readable());

  http::Headers plain;
  plain.Add("Content-Length", "1");
  transport_.Push(FakeReply::Ok("", plain));
  info = backend_->Stat("p", false, {});
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->archive.archived);
  EXPECT_TRUE(info->archive.readable());
}

TEST_F(S3ArchiveTest, RequestRestoreOfAVersionAndItsOutcomes) {
  FakeReply accepted;
  accepted.status = 202;
  transport_.Push(accepted);
  transport_.Push(FakeReply::S3Error(409, "RestoreAlreadyInProgress"));
  transport_.Push(FakeReply::Ok());
  transport_.Push(FakeReply::S3Error(403, "InvalidObjectState"));
  ObjectInfo o;
  o.key = "cold";
  o.version_id = "v1";
  const RestoreSpec spec{.days = 2, .tier = "Expedited"};
  auto r = backend_->RequestRestore(o, spec, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, RestoreOutcome::kStarted);
  const auto sent = transport_.requests().front();
  EXPECT_NE(sent.url.find("/bkt/root/cold?restore&versionId=v1"), std::string::npos) << sent.url;
  EXPECT_NE(sent.body.find("<Days>2</Days>"), std::string::npos);
  EXPECT_NE(sent.body.find("<Tier>Expedited</Tier>"), std::string::npos);
  o.version_id = "null";  // an unversioned bucket's: not named
  r = backend_->RequestRestore(o, spec, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, RestoreOutcome::kInProgress);
  EXPECT_EQ(transport_.requests().at(1).url.find("versionId"), std::string::npos);
  r = backend_->RequestRestore(o, spec, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, RestoreOutcome::kAlreadyRestored);
  r = backend_->RequestRestore(o, spec, {});
  EXPECT_EQ(r.status().code(), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ferry::storage
