// The HTTPS listener exports its certificate's expiry (ferry_tls_cert_expiry_timestamp_seconds
// {listener}) for the expiry alert (deploy/prometheus/ferry-alerts.yml:
// FerryTlsCertificateExpiresSoon). An executable of its own: with this test in
// server_tls_test.cc, LeakSanitizer's exit check (clang 14, Debian 12's glibc) read a bogus
// dynamic-TLS range of that binary and crashed after every test had passed.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "http/server.h"
#include "http/server_tls.h"
#include "http/test_tls_files.h"
#include "obs/metrics.h"

namespace ferry::http {
namespace {

class HttpServerTlsExpiryTest : public test_tls::HttpServerTlsTest {};

TEST_F(HttpServerTlsExpiryTest, TheCertificatesExpiryIsExportedWithTheListenersName) {
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

}  // namespace
}  // namespace ferry::http
