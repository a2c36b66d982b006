// RestoreObject and the archive headers of HEAD replies, against FakeTransport.
#include <gtest/gtest.h>

#include <string>

#include "checksum/checksum.h"
#include "s3/client.h"
#include "s3/client_internal.h"
#include "s3/restore.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::s3 {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

FakeReply RestoreReplyWith(int status) {
  FakeReply r;
  r.status = status;
  return r;
}

class RestoreObjectTest : public ::testing::Test {
 protected:
  RestoreObjectTest() : creds_(Credentials{"AK", "SK", ""}) {
    S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "region-a";
    o.retry.max_attempts = 2;
    client_ = std::make_unique<S3Client>(o, transport_, creds_, clock_);
  }
  RestoreObjectRequest Request() {
    RestoreObjectRequest r;
    r.bucket = "b";
    r.key = "cold/k";
    r.days = 3;
    r.tier = "Bulk";
    return r;
  }

  FakeTransport transport_;
  FakeClock clock_;
  StaticCredentials creds_;
  std::unique_ptr<S3Client> client_;
};

TEST_F(RestoreObjectTest, PostsTheRestoreDocumentWithContentMd5) {
  transport_.Push(RestoreReplyWith(202));
  auto r = client_->RestoreObject(Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, RestoreReply::kStarted);
  ASSERT_EQ(transport_.request_count(), 1u);
  const auto sent = transport_.requests().front();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_NE(sent.url.find("/b/cold/k?restore"), std::string::npos) << sent.url;
  EXPECT_EQ(sent.url.find("versionId"), std::string::npos) << sent.url;
  const std::string body =
      "<RestoreRequest xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Days>3</Days>"
      "<GlacierJobParameters><Tier>Bulk</Tier></GlacierJobParameters></RestoreRequest>";
  EXPECT_EQ(sent.body, body);
  EXPECT_EQ(sent.headers.Get("Content-MD5"),
            checksum::Base64(checksum::Md5(checksum::AsBytes(body))));
}

TEST_F(RestoreObjectTest, NamesTheVersion) {
  transport_.Push(RestoreReplyWith(202));
  RestoreObjectRequest req = Request();
  req.version_id = "v 1";
  ASSERT_TRUE(client_->RestoreObject(req).ok());
  const std::string url = transport_.requests().front().url;
  EXPECT_NE(url.find("restore&versionId=v%201"), std::string::npos) << url;
}

TEST_F(RestoreObjectTest, OkMeansAlreadyRestored) {
  transport_.Push(RestoreReplyWith(200));
  auto r = client_->RestoreObject(Request());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, RestoreReply::kAlreadyRestored);
}

TEST_F(RestoreObjectTest, ConflictMeansAlreadyInProgress) {
  transport_.Push(FakeReply::S3Error(409, "RestoreAlreadyInProgress", "in progress"));
  auto r = client_->RestoreObject(Request());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, RestoreReply::kAlreadyInProgress);
  EXPECT_EQ(transport_.request_count(), 1u);  // not retried
}

TEST_F(RestoreObjectTest, ObjectNotArchivedIsFailedPrecondition) {
  transport_.Push(FakeReply::S3Error(403, "InvalidObjectState", "not archived"));
  auto r = client_->RestoreObject(Request());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("b/cold/k"), std::string::npos) << r.status().ToString();
}

TEST_F(RestoreObjectTest, MissingObjectIsNotFound) {
  transport_.Push(FakeReply::S3Error(404, "NoSuchKey"));
  auto r = client_->RestoreObject(Request());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
}

TEST_F(RestoreObjectTest, RefusesBadTierAndDaysWithoutARequest) {
  RestoreObjectRequest req = Request();
  req.tier = "standard";
  EXPECT_EQ(client_->RestoreObject(req).status().code(), ErrorCode::kInvalidArgument);
  req = Request();
  req.days = 0;
  EXPECT_EQ(client_->RestoreObject(req).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(transport_.request_count(), 0u);
}

TEST_F(RestoreObjectTest, GetOfAnArchivedObjectIsFailedPreconditionNotAccessDenied) {
  transport_.Push(FakeReply::S3Error(403, "InvalidObjectState", "The operation is not valid"));
  struct NullSink : http::BodySink {
    Status Begin(int, const http::Headers&) override { return Status::Ok(); }
    Status Write(std::span<const std::byte>) override { return Status::Ok(); }
  } sink;
  GetObjectRequest get;
  get.bucket = "b";
  get.key = "cold/k";
  auto r = client_->GetObject(get, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("archived"), std::string::npos) << r.status().ToString();
}

TEST_F(RestoreObjectTest, HeadParsesRestoreAndArchiveStatus) {
  http::Headers h;
  h.Add("Content-Length", "5");
  h.Add("x-amz-storage-class", "DEEP_ARCHIVE");
  h.Add("x-amz-restore", "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\"");
  transport_.Push(FakeReply::Ok("", h));
  auto head = client_->HeadObject("b", "cold/k");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_TRUE(head->restore.requested);
  EXPECT_FALSE(head->restore.ongoing);
  EXPECT_EQ(head->restore.expiry, std::chrono::system_clock::time_point(
                                      std::chrono::seconds(1356048000)));
  http::Headers it;
  it.Add("Content-Length", "5");
  it.Add("x-amz-storage-class", "INTELLIGENT_TIERING");
  it.Add("x-amz-archive-status", "DEEP_ARCHIVE_ACCESS");
  transport_.Push(FakeReply::Ok("", it));
  head = client_->HeadObject("b", "tiered");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->archive_status, "DEEP_ARCHIVE_ACCESS");
  EXPECT_FALSE(head->restore.requested);
}

TEST(ParseRestoreHeaderTest, Forms) {
  EXPECT_EQ(ParseRestoreHeader(""), RestoreState{});
  const RestoreState running = ParseRestoreHeader("ongoing-request=\"true\"");
  EXPECT_TRUE(running.requested);
  EXPECT_TRUE(running.ongoing);
  const RestoreState done = ParseRestoreHeader(
      "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\"");
  EXPECT_TRUE(done.requested);
  EXPECT_FALSE(done.ongoing);
  EXPECT_EQ(done.expiry,
            std::chrono::system_clock::time_point(std::chrono::seconds(1356048000)));
  // Other case and order, as other stores may send it.
  const RestoreState other = ParseRestoreHeader(
      "expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\", Ongoing-Request=\"false\"");
  EXPECT_FALSE(other.ongoing);
  EXPECT_EQ(other.expiry, done.expiry);
  // Unreadable: never taken for a finished restore.
  EXPECT_TRUE(ParseRestoreHeader("garbage").ongoing);
  EXPECT_TRUE(ParseRestoreHeader("ongoing-request=").ongoing);
  EXPECT_TRUE(ParseRestoreHeader("ongoing-request=\"false").ongoing);
}

TEST(RestoreTierTest, ExactNames) {
  EXPECT_TRUE(IsRestoreTier("Standard"));
  EXPECT_TRUE(IsRestoreTier("Bulk"));
  EXPECT_TRUE(IsRestoreTier("Expedited"));
  EXPECT_FALSE(IsRestoreTier("bulk"));
  EXPECT_FALSE(IsRestoreTier(""));
}

}  // namespace
}  // namespace ferry::s3
