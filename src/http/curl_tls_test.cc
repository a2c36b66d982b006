// CurlTransport's TLS settings per request, against testing::LoopbackTlsServer (HTTPS on
// 127.0.0.1 with a throwaway CA): a certificate of an unknown CA refused as kUnauthenticated with
// one line (and the caller's hint), a request's CA bundle trusted, another CA's bundle refused,
// the checks turned off by name only, and one pooled handle following each request's settings
// without carrying a connection made without checks over to a request that wants them.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "http/curl_transport.h"
#include "testing/loopback_tls_server.h"

namespace ferry::http {
namespace {

using TlsServer = ferry::testing::LoopbackTlsServer;

TlsSettings Tls(std::string ca_bundle, bool verify = true, std::string hint = "") {
  TlsSettings tls;
  tls.ca_bundle = std::move(ca_bundle);
  tls.verify = verify;
  tls.untrusted_hint = std::move(hint);
  return tls;
}

CurlOptions Options(std::string ca_bundle, std::string connect_to = "") {
  CurlOptions options;
  options.ca_bundle = std::move(ca_bundle);
  options.connect_to = std::move(connect_to);
  return options;
}

class CurlTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("AWS_CA_BUNDLE");  // the transport's default must be the system's CAs
    char dir[] = "/tmp/ferry-tls-test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    server_ = std::make_unique<TlsServer>(dir_);
  }
  void TearDown() override {
    server_.reset();
    std::remove((dir_ + "/ca.pem").c_str());
    std::remove((dir_ + "/other-ca.pem").c_str());
    ::rmdir(dir_.c_str());
  }
  // GET / with `tls` (null: the transport's settings); the body on success.
  Result<std::string> Get(CurlTransport& transport, const TlsSettings* tls,
                          const std::string& url = "") {
    HttpRequest request;
    request.url = url.empty() ? server_->Url("/bucket/key?list-type=2") : url;
    request.tls = tls;
    StringSink sink;
    Result<HttpResponse> response = transport.Send(request, sink, {});
    if (!response.ok()) return response.status();
    return sink.body();
  }

  std::string dir_;
  std::unique_ptr<TlsServer> server_;
};

TEST_F(CurlTlsTest, UnknownCaIsRefusedWithOneLineNamingTheServerAndTheHint) {
  CurlTransport transport;
  Result<std::string> plain = Get(transport, nullptr);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().code(), ErrorCode::kUnauthenticated);  // final: never retried
  const std::string origin = "https://127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(plain.status().message().rfind("TLS certificate of " + origin + " not trusted: ", 0),
            0u)
      << plain.status().message();
  EXPECT_NE(plain.status().message().find("(curl 60)"), std::string::npos);
  EXPECT_EQ(plain.status().message().find("list-type"), std::string::npos);  // no query
  EXPECT_EQ(plain.status().message().find('\n'), std::string::npos);

  const TlsSettings hinted = Tls("", true, "set ca_bundle for remote 'lab'");
  Result<std::string> with_hint = Get(transport, &hinted);
  ASSERT_FALSE(with_hint.ok());
  const std::string& message = with_hint.status().message();
  EXPECT_EQ(message.substr(message.size() - 32), "; set ca_bundle for remote 'lab'") << message;
  EXPECT_EQ(server_->requests(), 0);
}

TEST_F(CurlTlsTest, RequestCaBundleIsTrustedAndAnotherCaIsNot) {
  CurlTransport transport;
  const TlsSettings right = Tls(server_->ca_file());
  Result<std::string> body = Get(transport, &right);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "ok");
  // "localhost" is in the certificate too
  body = Get(transport, &right, "https://localhost:" + std::to_string(server_->port()) + "/");
  ASSERT_TRUE(body.ok()) << body.status().ToString();

  const TlsSettings other = Tls(server_->other_ca_file());
  Result<std::string> refused = Get(transport, &other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnauthenticated) << refused.status().ToString();
  EXPECT_EQ(server_->requests(), 2);
}

TEST_F(CurlTlsTest, TransportCaBundleIsTheDefaultOfRequestsWithoutTheirOwn) {
  CurlTransport trusting(Options(server_->ca_file()));
  ASSERT_TRUE(Get(trusting, nullptr).ok());
  const TlsSettings no_bundle = Tls("", true, "x");  // checks on, the transport's bundle
  ASSERT_TRUE(Get(trusting, &no_bundle).ok());
  const TlsSettings other = Tls(server_->other_ca_file());
  EXPECT_EQ(Get(trusting, &other).status().code(), ErrorCode::kUnauthenticated);
}

TEST_F(CurlTlsTest, MissingCaFileIsThisSidesMistake) {
  CurlTransport transport;
  const TlsSettings missing = Tls(dir_ + "/no-such-ca.pem");
  Result<std::string> refused = Get(transport, &missing);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("(curl 77)"), std::string::npos)
      << refused.status().message();
}

TEST_F(CurlTlsTest, VerifyOffSkipsTheChainAndTheHostName) {
  CurlTransport transport;
  const TlsSettings off = Tls("", false);
  ASSERT_TRUE(Get(transport, &off).ok());
  // a name the certificate does not hold, reached on the server's address
  CurlTransport elsewhere(Options("", "127.0.0.1:" + std::to_string(server_->port())));
  const std::string url = "https://store.invalid:" + std::to_string(server_->port()) + "/";
  const TlsSettings right = Tls(server_->ca_file());
  Result<std::string> wrong_name = Get(elsewhere, &right, url);
  ASSERT_FALSE(wrong_name.ok());
  EXPECT_EQ(wrong_name.status().code(), ErrorCode::kUnauthenticated);
  EXPECT_TRUE(Get(elsewhere, &off, url).ok());
}

// One thread, one transport: requests of three "remotes" in turn go through one pooled handle,
// each with its own settings, and a kept connection serves only requests with the same ones.
TEST_F(CurlTlsTest, OneHandleFollowsEachRequestsSettings) {
  CurlTransport transport;
  const TlsSettings trusted = Tls(server_->ca_file());
  const TlsSettings unchecked = Tls("", false);
  ASSERT_TRUE(Get(transport, &trusted).ok());
  ASSERT_TRUE(Get(transport, &trusted).ok());
  EXPECT_EQ(server_->handshakes(), 1);  // the second request reused the connection
  // back to the system's CAs on the same handle: refused
  EXPECT_EQ(Get(transport, nullptr).status().code(), ErrorCode::kUnauthenticated);
  ASSERT_TRUE(Get(transport, &unchecked).ok());
  // the connection made without checks is not reused by a request that wants them
  EXPECT_EQ(Get(transport, nullptr).status().code(), ErrorCode::kUnauthenticated);
  const TlsSettings other = Tls(server_->other_ca_file());
  EXPECT_EQ(Get(transport, &other).status().code(), ErrorCode::kUnauthenticated);
  ASSERT_TRUE(Get(transport, &unchecked).ok());
  ASSERT_TRUE(Get(transport, &trusted).ok());
  EXPECT_EQ(transport.handles_created(), 1u);
  EXPECT_EQ(server_->requests(), 5);
}

}  // namespace
}  // namespace ferry::http
