// Credentials of the GCS JSON API (docs/design/gcs.md §2): a service account's JSON key
// (GOOGLE_APPLICATION_CREDENTIALS, or a remote's credentials_file) exchanged for an OAuth2
// access token by an RS256-signed JWT (RFC 7523, OpenSSL), refreshed before it expires on the
// caller's Clock; or no token at all, only when asked for explicitly (the emulator).
//
// Thread-safety: GcsTokenSource::Token may be called from many threads at once; it owns no
// thread (a refresh is done by the caller that finds the token due).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "http/transport.h"

namespace ferry::storage::gcs {

// The GCS JSON API's own endpoint; an emulator's replaces it.
inline constexpr const char* kGcsDefaultEndpoint = "https://storage.googleapis.com";
// The scope of every token ferry asks for.
inline constexpr const char* kGcsScope = "https://www.googleapis.com/auth/devstorage.read_write";

// What a service account's JSON key file holds that the token exchange needs.
struct ServiceAccountKey {
  std::string client_email;
  std::string private_key;  // PEM (PKCS#8)
  std::string private_key_id;
  std::string token_uri;    // where the signed JWT is exchanged for a token
};

// Parses a key file's text; `source` names it in the one-line errors (not JSON, not a service
// account key, a field missing). Never puts the private key in a message.
Result<ServiceAccountKey> ParseServiceAccountKey(std::string_view json, std::string_view source);

// The JWT assertion "header.claims.signature" (base64url, RS256 over the first two) for
// `key`, issued at `now`, valid one hour, for `scope` and audience key.token_uri.
// kInvalidArgument when the private key cannot be read.
Result<std::string> SignJwtAssertion(const ServiceAccountKey& key, std::string_view scope,
                                     std::chrono::system_clock::time_point now);

// Where a GCS location's endpoint and credentials come from (a remote's keys, or none).
struct GcsCredentialSettings {
  std::string owner;             // "remote 'g'" or the location, for messages
  // a remote's; "" = STORAGE_EMULATOR_HOST, else FERRY_GCS_ENDPOINT, else Google's
  std::string endpoint;
  std::string credentials_file;  // a remote's; "" = GOOGLE_APPLICATION_CREDENTIALS
  bool anonymous = false;        // a remote's `anonymous = true`: no token (an emulator)
};

struct GcsCredentials {
  std::string endpoint;  // scheme://host[:port], no trailing '/'
  bool anonymous = false;
  std::optional<ServiceAccountKey> key;  // set unless anonymous
  std::string source;                    // the key's file, for messages
};

// Reads one environment variable ("" when unset); tests pass their own.
using GcsEnvLookup = std::function<std::string(const std::string&)>;
std::string GcsProcessEnv(const std::string& name);

// Resolves settings against the environment: STORAGE_EMULATOR_HOST (host:port or a URL, the
// convention of Google's client libraries) sets the endpoint and makes the location anonymous
// when no remote names a key; otherwise a key file must be found and read. Errors are one
// line before any request: no key, an unreadable or malformed file, a bad endpoint.
Result<GcsCredentials> ResolveGcsCredentials(const GcsCredentialSettings& settings,
                                             const GcsEnvLookup& env = GcsProcessEnv);

// Access tokens of one service account key: fetched from token_uri by a signed JWT, kept
// until 5 minutes before they expire (on `clock`), then fetched again by the next caller.
class GcsTokenSource {
 public:
  // `http` and `clock` outlive the source.
  GcsTokenSource(ServiceAccountKey key, http::HttpTransport& http, Clock& clock,
                 std::optional<http::TlsSettings> tls = std::nullopt);

  // "Bearer ..." for the Authorization header; a failed exchange is one line
  // (kUnauthenticated for a refused key, kUnavailable for a token endpoint that failed).
  Result<std::string> Authorization(std::stop_token stop);
  // Forgets the token (a 401 from the store: it was revoked or the clock is off).
  void Invalidate();
  uint64_t exchanges() const;

 private:
  Result<std::string> Exchange(std::stop_token stop);

  const ServiceAccountKey key_;
  http::HttpTransport& http_;
  Clock& clock_;
  std::optional<http::TlsSettings> tls_;
  mutable std::mutex mu_;
  std::string token_;                              // GUARDED_BY(mu_)
  std::chrono::system_clock::time_point refresh_;  // GUARDED_BY(mu_): when to fetch again
  uint64_t exchanges_ = 0;                         // GUARDED_BY(mu_)
};

}  // namespace ferry::storage::gcs
