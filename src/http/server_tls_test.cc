// HttpServer over HTTPS with a throwaway self-signed certificate (made here with OpenSSL): a
// client that trusts it is answered; a client that never finishes its handshake is cut at the
// head deadline; and each mistake with the files is one error naming the option: one file
// without the other, a missing file, no certificate in it, an encrypted key, a key that is not
// the certificate's.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "http/server.h"
#include "http/test_sockets.h"
#include "http/test_tls_files.h"

namespace ferry::http {
namespace {

using test_sockets::Connect;

using test_tls::Files;
using test_tls::HttpServerTlsTest;

// GET over TLS by a client that trusts only the test's certificate; the answer's text.
std::string GetOverTls(int port, const std::string& trusted) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                         &SSL_CTX_free);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx.get(), trusted.c_str(), nullptr) != 1) return "no CA";
  const int fd = Connect(port);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  SSL_set_fd(ssl.get(), fd);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), "127.0.0.1");
  std::string reply;
  if (SSL_connect(ssl.get()) == 1) {
    const std::string get = "GET /tls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    SSL_write(ssl.get(), get.data(), static_cast<int>(get.size()));
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl.get(), buf, sizeof buf)) > 0) reply.append(buf, n);
  } else {
    reply = "handshake failed";
  }
  ERR_clear_error();
  ::close(fd);
  return reply;
}

TEST_F(HttpServerTlsTest, AClientThatTrustsTheCertificateIsAnsweredOverTls) {
  auto server = HttpServer::Start(Options(files_.cert, files_.key), [](const ServerRequest& r) {
    return ServerResponse::Text(200, "secure " + r.path + "\n");
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ((*server)->url(), "https://127.0.0.1:" + std::to_string((*server)->port()));
  const std::string reply = GetOverTls((*server)->port(), files_.cert);
  EXPECT_NE(reply.find("200 OK"), std::string::npos) << reply;
  EXPECT_NE(reply.find("secure /tls"), std::string::npos) << reply;
}

TEST_F(HttpServerTlsTest, AHandshakeNeverFinishedIsCutAtTheHeadDeadline) {
  auto server = HttpServer::Start(Options(files_.cert, files_.key), [](const ServerRequest&) {
    return ServerResponse::Text(200, "ok\n");
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int fd = Connect((*server)->port(), 6);
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  char c;
  const ssize_t n = ::recv(fd, &c, 1, 0);  // the client says nothing: no ClientHello
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  EXPECT_LE(n, 0);
  EXPECT_GT(waited, 0.9);
  EXPECT_LT(waited, 2.5) << "a silent TLS client held its connection " << waited << " s";
  EXPECT_NE(GetOverTls((*server)->port(), files_.cert).find("200 OK"), std::string::npos);
}

TEST_F(HttpServerTlsTest, EachMistakeWithTheFilesIsOneErrorNamingTheOption) {
  struct Case {
    std::string cert, key, says;
  };
  const Case cases[] = {
      {files_.cert, "", "--tls-cert needs --tls-key"},
      {"", files_.key, "--tls-key needs --tls-cert"},
      {files_.dir + "/missing.pem", files_.key, "--tls-cert: cannot read " + files_.dir},
      {files_.garbage, files_.key, "--tls-cert: " + files_.garbage + " holds no PEM certificate"},
      {files_.cert, files_.garbage, "--tls-key: " + files_.garbage + " holds no PEM private key"},
      {files_.cert, files_.encrypted_key, "an encrypted key is not supported"},
      {files_.cert, files_.other_key,
       "--tls-key: " + files_.other_key + " is not the key of the certificate in " + files_.cert},
  };
  for (const Case& c : cases) {
    const Status s = StartError(c.cert, c.key);
    ASSERT_FALSE(s.ok()) << c.says;
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace ferry::http
