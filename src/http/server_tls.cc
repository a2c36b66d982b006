// ReadServerTls (server_tls.h), with OpenSSL's PEM readers.
#include "http/server_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

namespace ferry::http {
namespace {

constexpr size_t kMaxFile = 1 << 20;

Result<std::string> ReadSmallFile(const std::string& path, const std::string& option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(option + ": cannot read " + path + ": " +
                                   std::strerror(errno));
  }
  std::string text(kMaxFile + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Status::InvalidArgument(option + ": cannot read " + path);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFile) {
    return Status::InvalidArgument(option + ": " + path + " is larger than 1 MiB");
  }
  return text;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioFree> MemoryOf(const std::string& text) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// OpenSSL's passphrase callback: none is ever given, so an encrypted key fails to read.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

}  // namespace

Result<TlsPem> ReadServerTls(const TlsFiles& files) {
  if (files.cert_file.empty() && files.key_file.empty()) return TlsPem{};
  if (files.key_file.empty()) {
    return Status::InvalidArgument(files.cert_option + " needs " + files.key_option);
  }
  if (files.cert_file.empty()) {
    return Status::InvalidArgument(files.key_option + " needs " + files.cert_option);
  }
  TlsPem pem;
  FERRY_ASSIGN_OR_RETURN(pem.cert, ReadSmallFile(files.cert_file, files.cert_option));
  FERRY_ASSIGN_OR_RETURN(pem.key, ReadSmallFile(files.key_file, files.key_option));
  auto cert_bio = MemoryOf(pem.cert);
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, &NoPassphrase, nullptr));
  auto key_bio = MemoryOf(pem.key);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, &NoPassphrase, nullptr));
  ERR_clear_error();
  if (cert == nullptr) {
    return Status::InvalidArgument(files.cert_option + ": " + files.cert_file +
                                   " holds no PEM certificate");
  }
  if (key == nullptr) {
    return Status::InvalidArgument(files.key_option + ": " + files.key_file +
                                   " holds no PEM private key (an encrypted key is not "
                                   "supported)");
  }
  // notAfter as unix seconds: its distance from the epoch (ASN1_TIME_diff is exact, any zone)
  int days = 0, seconds = 0;
  std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> epoch(ASN1_TIME_set(nullptr, 0),
                                                             &ASN1_TIME_free);
  if (epoch != nullptr &&
      ASN1_TIME_diff(&days, &seconds, epoch.get(), X509_get0_notAfter(cert.get())) == 1) {
    pem.not_after = int64_t{days} * 86400 + seconds;
  }
  const bool matches = X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  if (!matches) {
    return Status::InvalidArgument(files.key_option + ": " + files.key_file +
                                   " is not the key of the certificate in " + files.cert_file);
  }
  return pem;
}

}  // namespace ferry::http
