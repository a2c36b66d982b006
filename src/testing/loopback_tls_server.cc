#include "testing/loopback_tls_server.h"

#include "testing/wait_readable.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace ferry::testing {
namespace {

[[noreturn]] void Broken(const char* what) {
  std::fprintf(stderr, "LoopbackTlsServer: %s\n", what);
  ERR_print_errors_fp(stderr);
  std::abort();  // a fixture that cannot make its certificates or listen is a broken test host
}

struct Freer {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(X509* x) const { X509_free(x); }
};
using Key = std::unique_ptr<EVP_PKEY, Freer>;
using Cert = std::unique_ptr<X509, Freer>;

Key NewKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) Broken("EC key generation failed");
  return key;
}

void AddExtension(X509* cert, X509V3_CTX& ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) Broken("certificate extension");
  X509_EXTENSION_free(ext);
}

// A certificate of `key` named `cn`, issued by `issuer` with `issuer_key` (self-signed when
// `issuer` is null): a CA, or a server certificate for 127.0.0.1 and localhost.
Cert NewCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  static std::atomic<long> serial{1};
  Cert cert(X509_new());
  X509* x = cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
  if (ca) {
    AddExtension(x, ctx, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(x, ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(x, ctx, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(x, ctx, NID_key_usage, "critical,digitalSignature");
    AddExtension(x, ctx, NID_ext_key_usage, "serverAuth");
    AddExtension(x, ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  }
  if (X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) <= 0) {
    Broken("signing a certificate");
  }
  return cert;
}

void WritePem(X509* cert, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr || PEM_write_X509(f, cert) != 1) Broken("writing a CA file");
  std::fclose(f);
}

}  // namespace

LoopbackTlsServer::LoopbackTlsServer(const std::string& dir)
    : ca_file_(dir + "/ca.pem"), other_ca_file_(dir + "/other-ca.pem") {
  // OpenSSL writes to the socket with write(2): a client that hung up must not kill the test
  std::signal(SIGPIPE, SIG_IGN);
  const Key ca_key = NewKey();
  const Cert ca = NewCert(ca_key.get(), "ferry test CA", nullptr, nullptr, true);
  const Key server_key = NewKey();
  const Cert server = NewCert(server_key.get(), "127.0.0.1", ca.get(), ca_key.get(), false);
  const Key other_key = NewKey();
  const Cert other = NewCert(other_key.get(), "ferry other test CA", nullptr, nullptr, true);
  WritePem(ca.get(), ca_file_);
  WritePem(other.get(), other_ca_file_);

  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr || SSL_CTX_use_certificate(ctx, server.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, server_key.get()) != 1) {
    Broken("TLS context");
  }
  ctx_ = ctx;

  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 16) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Broken("cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

LoopbackTlsServer::~LoopbackTlsServer() {
  done_ = true;
  thread_.join();
  close(listen_fd_);
  SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

std::string LoopbackTlsServer::Url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(port_) + path;
}

bool LoopbackTlsServer::WaitReadable(int fd) { return ferry::testing::WaitReadable(fd, done_); }

void LoopbackTlsServer::Run() {
  std::vector<std::thread> connections;  // a kept-alive connection must not hold up the next
  while (WaitReadable(listen_fd_)) {
    const int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    timeval timeout{5, 0};  // a client that stops mid-handshake does not hold the thread
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    connections.emplace_back([this, fd] {
      Serve(fd);
      close(fd);
    });
  }
  for (std::thread& t : connections) t.join();
}

void LoopbackTlsServer::Serve(int fd) {
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {  // the client did not trust the certificate
    ERR_clear_error();
    SSL_free(ssl);
    return;
  }
  ++handshakes_;
  std::string buffer;
  char chunk[16384];
  for (;;) {
    size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (SSL_pending(ssl) == 0 && !WaitReadable(fd)) break;
      const int n = SSL_read(ssl, chunk, sizeof chunk);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
    }
    if (end == std::string::npos) break;
    buffer.erase(0, end + 4);
    ++requests_;
    static constexpr char kReply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    if (SSL_write(ssl, kReply, sizeof kReply - 1) <= 0) break;
  }
  ERR_clear_error();
  SSL_shutdown(ssl);
  SSL_free(ssl);
}

}  // namespace ferry::testing
