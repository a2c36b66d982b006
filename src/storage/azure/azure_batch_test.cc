// AzureBackend::DeleteMany over a scripted transport: Blob Batch requests of at most 256
// deletes, each subrequest signed; absent blobs fine; a transient subrequest failure sent again
// alone; a service that refuses batches gets one Delete Blob per key from then on.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "storage/azure/azure_backend.h"
#include "storage/azure/azure_format.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::storage::azure {
namespace {

using testing::FakeReply;

struct AzureBatchFixture {
  testing::FakeTransport http;
  testing::FakeClock clock;
  AzureClient client;
  AzureBackend backend;
  AzureBatchFixture() : client(Options(clock), http), backend(client, "c", "p/") {}
  static AzureOptions Options(Clock& clock) {
    AzureCredentials c;
    c.account = "acct";
    c.key = "key";
    c.endpoint = "http://127.0.0.1:1/acct";
    AzureOptions o{c, {}, &clock, std::nullopt};
    o.retry.max_attempts = 2;
    return o;
  }
};

// A Blob Batch reply: one part per Content-ID of the request, `status_of(i)` its status.
FakeReply BatchReplyTo(const http::HttpRequest& req, int (*status_of)(int)) {
  const std::string body(reinterpret_cast<const char*>(req.body.data()), req.body.size());
  std::string reply;
  int n = 0;
  for (size_t at = body.find("Content-ID: "); at != std::string::npos;
       at = body.find("Content-ID: ", at + 1), ++n) {
    const int status = status_of(n);
    reply += "--batchresponse_1\r\nContent-Type: application/http\r\nContent-ID: " +
             std::to_string(n) + "\r\n\r\nHTTP/1.1 " + std::to_string(status) + " X\r\n" +
             (status == 404 ? "x-ms-error-code: BlobNotFound\r\n" : "") + "\r\n";
  }
  reply += "--batchresponse_1--\r\n";
  http::Headers h;
  h.Set("Content-Type", "multipart/mixed; boundary=batchresponse_1");
  FakeReply r = FakeReply::Ok(reply, h);
  r.status = 202;
  return r;
}

std::vector<std::string> KeysUpTo(int n) {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) keys.push_back("k" + std::to_string(i));
  return keys;
}

TEST(AzureBatch, DeletesGoIn256sSignedAndATransientOneIsSentAlone) {
  AzureBatchFixture f;
  f.http.SetHandler([](const http::HttpRequest& req) {
    if (req.method == "DELETE") {
      FakeReply r;
      r.status = 202;
      return r;
    }
    // k3 absent, k7 busy (503): sent again alone
    return BatchReplyTo(req, [](int i) { return i == 3 ? 404 : i == 7 ? 503 : 202; });
  });
  ASSERT_TRUE(f.backend.DeleteMany(KeysUpTo(300), {}).ok());
  const auto sent = f.http.requests();
  std::vector<std::string> lines;
  for (const auto& r : sent) lines.push_back(r.method + " " + r.url);
  ASSERT_EQ(sent.size(), 4u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[0], "POST http://127.0.0.1:1/acct/c?restype=container&comp=batch");
  EXPECT_EQ(lines[1], "DELETE http://127.0.0.1:1/acct/c/p/k7");
  EXPECT_EQ(lines[2], "POST http://127.0.0.1:1/acct/c?restype=container&comp=batch");
  EXPECT_EQ(lines[3], "DELETE http://127.0.0.1:1/acct/c/p/k263") << "the second batch's 8th";
  const std::string& first = sent[0].body;
  EXPECT_NE(first.find("Content-ID: 255\r\n"), std::string::npos);
  EXPECT_EQ(first.find("Content-ID: 256\r\n"), std::string::npos) << "at most 256 a batch";
  EXPECT_NE(first.find("DELETE /acct/c/p/k0 HTTP/1.1\r\n"), std::string::npos);
  EXPECT_NE(first.find("Authorization: SharedKey acct:"), std::string::npos);
  EXPECT_NE(first.find("x-ms-delete-snapshots: include\r\n"), std::string::npos);
  EXPECT_NE(sent[0].headers.Get("Content-Type").find("multipart/mixed; boundary=batch_"),
            std::string::npos);
}

TEST(AzureBatch, AServiceThatRefusesBatchesGetsOneDeletePerKeyFromThenOn) {
  AzureBatchFixture f;
  f.http.SetHandler([](const http::HttpRequest& req) {
    FakeReply r;
    r.status = req.method == "POST" ? 400 : 202;
    if (req.method == "POST") {
      r.body = "<?xml version=\"1.0\"?><Error><Code>InvalidQueryParameterValue</Code>"
               "<Message>comp</Message></Error>";
    }
    return r;
  });
  ASSERT_TRUE(f.backend.DeleteMany(KeysUpTo(3), {}).ok());
  ASSERT_TRUE(f.backend.DeleteMany(KeysUpTo(2), {}).ok());
  std::vector<std::string> methods;
  for (const auto& r : f.http.requests()) methods.push_back(r.method);
  EXPECT_EQ(methods, (std::vector<std::string>{"POST", "DELETE", "DELETE", "DELETE", "DELETE",
                                               "DELETE"}))
      << "asked once";
}

TEST(AzureBatch, ReplyPartsParsedByContentId) {
  const std::string body =
      "--b\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 404 Gone\r\n"
      "x-ms-error-code: ContainerNotFound\r\n\r\n--b\r\nContent-ID: 0\r\n\r\n"
      "HTTP/1.1 202 Accepted\r\n\r\n--b\r\nno id\r\n--b--\r\n";
  auto answers = ParseAzureBatchReply("multipart/mixed; boundary=\"b\"", body);
  ASSERT_TRUE(answers.ok()) << answers.status().ToString();
  ASSERT_EQ(answers->size(), 2u);
  EXPECT_EQ(answers->at(0).status, 202);
  EXPECT_EQ(answers->at(1).status, 404);
  EXPECT_EQ(answers->at(1).error_code, "ContainerNotFound");
  EXPECT_FALSE(ParseAzureBatchReply("multipart/mixed", body).ok());
}

}  // namespace
}  // namespace ferry::storage::azure
