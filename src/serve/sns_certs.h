// SnsCertCache: the signing certificates of SNS envelopes, fetched over HTTPS and kept by URL
// once a signature has verified with them.
//
// Cached(url) answers the PEM kept for `url` while it is valid (its notAfter is after the
// Clock's Now). Fetch(url) GETs it through the transport — the production transport verifies
// the TLS peer against the system CA store or the configured bundle, and follows no redirect —
// with a timeout and a cap on the body, and answers it once it is one X.509 certificate with an
// RSA key valid now (events::SnsCertificateNotAfter); it keeps nothing. Keep(url, pem) keeps it,
// which the caller does only after a signature verified with it (SnsGate): whoever posts
// envelopes naming other certificate URLs (AWS serves many real ones) with signatures that do
// not verify can neither fill the cache nor displace the certificate genuine deliveries use.
// The URL must pass events::CheckSigningCertUrl first: no other host is ever asked.
//
// Bounds, so that whoever posts envelopes naming certificate URLs cannot make the process fetch
// without end nor keep without end: at most `capacity` certificates (a new one displaces the
// expired ones, else the least recently used: all of them verified a signature), at most
// `max_fetches_per_minute` fetches (a window on the Clock's monotonic time). AWS signs with one
// certificate per region at a time, so in steady state nothing is fetched; a flood of forged
// envelopes can spend the fetch budget, which delays only a certificate not kept yet (a new
// one: SNS retries a 503).
//
// Errors of Fetch:
//   kUnauthenticated  the message starts with a reason word of events/errors.h: bad_cert_url
//                     (the URL fails the rule) or bad_certificate (the host answered a status
//                     other than 200 and not 5xx/429, a body above max_bytes, or not a
//                     certificate valid now)
//   kUnavailable      the fetch failed on the way (network, TLS, timeout), the host answered
//                     5xx or 429, or the fetch budget of the minute is spent: worth a retry
//   kCancelled        `stop` was requested
//
// Thread-safety: every method may be called from any thread; a fetch runs outside the lock (two
// concurrent misses of one URL may both fetch it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "http/transport.h"

namespace ferry::serve {

struct SnsCertCacheOptions {
  size_t capacity = 16;                // certificates kept
  size_t max_bytes = 16 * 1024;        // a certificate is under 4 KiB
  int timeout_ms = 5000;               // per fetch, all included
  size_t max_fetches_per_minute = 20;  // misses beyond it: kUnavailable
};

class SnsCertCache {
 public:
  SnsCertCache(http::HttpTransport& transport, Clock& clock, SnsCertCacheOptions options = {});

  // The certificate kept for `url` and valid now, or nullopt.
  std::optional<std::string> Cached(const std::string& url);
  // The certificate at `url`, fetched now (one of the minute's budget); not kept.
  Result<std::string> Fetch(const std::string& url, std::stop_token stop = {});
  // Keeps `pem` for `url`: call only once a signature verified with it. A PEM that is not a
  // certificate valid now is not kept.
  void Keep(const std::string& url, const std::string& pem);

  uint64_t fetches() const;  // GETs sent so far (for tests and logs)
  size_t size() const;       // certificates kept

 private:
  struct Entry {
    std::string pem;
    std::chrono::system_clock::time_point not_after;
    uint64_t last_used = 0;
  };
  Status TakeFetchBudget();                      // counts a fetch, or kUnavailable
  Result<std::string> Download(const std::string& url, std::stop_token stop);  // the GET
  void KeepLocked(const std::string& url, Entry entry);  // mu_ held

  http::HttpTransport& transport_;
  Clock& clock_;
  const SnsCertCacheOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;      // GUARDED_BY(mu_)
  std::deque<Clock::MonoTime> recent_fetches_;  // GUARDED_BY(mu_): within the last minute
  uint64_t uses_ = 0;                         // GUARDED_BY(mu_): the LRU clock
  uint64_t fetches_ = 0;                      // GUARDED_BY(mu_)
};

}  // namespace ferry::serve
