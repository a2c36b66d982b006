// Test code only: a throwaway self-signed certificate for 127.0.0.1 and its key files (made with
// OpenSSL), and the fixture of the HTTPS server's tests that writes and removes them
// (server_tls_test.cc, server_tls_expiry_test.cc).
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "http/server.h"

namespace ferry::http::test_tls {

struct Files {
  std::string dir, cert, key, other_key, encrypted_key, garbage;
};

inline void WriteKey(EVP_PKEY* key, const std::string& path, bool encrypted) {
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
inline Files MakeFiles() {
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

}  // namespace ferry::http::test_tls
