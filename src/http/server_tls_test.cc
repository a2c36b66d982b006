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
#include "http/server_tls.h"
#include "http/test_sockets.h"
#include "obs/metrics.h"

namespace ferry::http {
namespace {

using test_sockets::Connect;

struct Files {
  std::string dir, cert, key, other_key, encrypted_key, garbage;
};

void WriteKey(EVP_PKEY* key, const std::string& path, bool encrypted) {
  BIO* out = BIO_new_file(path.c_str(), "w");
  ASSERT_NE(out, nullptr);
  static char pass[] = "secret";
  ASSERT_EQ(PEM_write_bio_PrivateKey(out, key, encrypted ? EVP_aes_128_cbc() : nullptr,
                                     encrypted ? reinterpret_cast<unsigned char*>(pass) : nullptr,
                                     encrypted ? 6 : 0, nullptr, nullptr),
            1);
  BIO_free(out);
}

// A self-signed certificate for 127.0.0.1 (valid from an hour ago for a day) and its key,
// another key, the key encrypted, and a file that is no PEM at all, in a new directory.
Files MakeFiles() {
  Files f;
  char dir[] = "/tmp/ferry-server-tls-XXXXXX";
  f.dir = ::mkdtemp(dir);
  f.cert = f.dir + "/cert.pem";
  f.key = f.dir + "/key.pem";
  f.other_key = f.dir + "/other-key.pem";
  f.encrypted_key = f.dir + "/encrypted-key.pem";
  f.garbage = f.dir + "/garbage.pem";
  EVP_PKEY* key = EVP_EC_gen("P-256");
  EVP_PKEY* other = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ferry test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(x, key, EVP_sha256());
  BIO* out = BIO_new_file(f.cert.c_str(), "w");
  PEM_write_bio_X509(out, x);
  BIO_free(out);
  WriteKey(key, f.key, false);
  WriteKey(other, f.other_key, false);
  WriteKey(key, f.encrypted_key, true);
  std::FILE* g = std::fopen(f.garbage.c_str(), "w");
  std::fputs("not a certificate\n", g);
  std::fclose(g);
  X509_free(x);
  EVP_PKEY_free(key);
  EVP_PKEY_free(other);
  return f;
}

class HttpServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { files_ = MakeFiles(); }
  void TearDown() override {
    for (const std::string& p :
         {files_.cert, files_.key, files_.other_key, files_.encrypted_key, files_.garbage}) {
      ::unlink(p.c_str());
    }
    ::rmdir(files_.dir.c_str());
  }
  ServerOptions Options(const std::string& cert, const std::string& key) const {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.tls = {.cert_file = cert, .key_file = key};
    o.idle_seconds = 30;
    o.header_seconds = 1;
    return o;
  }
  Status StartError(const std::string& cert, const std::string& key) const {
    auto s = HttpServer::Start(Options(cert, key),
                               [](const ServerRequest&) { return ServerResponse{}; });
    return s.ok() ? Status::Ok() : s.status();
  }
  Files files_;
};

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

// The certificate's expiry, read with the files, is exported for the expiry alert
// (deploy/prometheus/ferry-alerts.yml: FerryTlsCertificateExpiresSoon).
TEST_F(HttpServerTlsTest, TheCertificatesExpiryIsExportedWithTheListenersName) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto pem = ReadServerTls({.cert_file = files_.cert, .key_file = files_.key});
  ASSERT_TRUE(pem.ok()) << pem.status().ToString();
  EXPECT_NEAR(static_cast<double>(pem->not_after), static_cast<double>(now + 86400), 60);
  obs::Registry registry;
  ServerOptions o = Options(files_.cert, files_.key);
  o.registry = &registry;
  o.name = "metrics";
  {
    auto server = HttpServer::Start(o, [](const ServerRequest&) { return ServerResponse{}; });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    EXPECT_EQ(registry.Total("ferry_tls_cert_expiry_timestamp_seconds", "listener", "metrics"),
              static_cast<double>(pem->not_after));
  }
  EXPECT_EQ(registry.Total("ferry_tls_cert_expiry_timestamp_seconds"), 0);  // gone with it
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
