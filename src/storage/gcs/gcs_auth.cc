// GCS credentials (gcs_auth.h): key files, the signed JWT, the token exchange and its refresh.
#include "storage/gcs/gcs_auth.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "checksum/checksum.h"
#include "s3/uri.h"

namespace ferry::storage::gcs {
namespace {

using Json = nlohmann::json;

// Tokens are fetched again this long before Google says they expire (clock skew, requests
// in flight when it ends).
constexpr std::chrono::minutes kGcsRefreshMargin{5};

std::string Base64UrlOf(std::string_view bytes) {
  std::string b64 = checksum::Base64(
      {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

struct GcsPkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct GcsBioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct GcsMdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// RS256: RSASSA-PKCS1-v1_5 with SHA-256 over `data`.
Result<std::string> SignRs256(const std::string& pem, std::string_view data) {
  std::unique_ptr<BIO, GcsBioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::unique_ptr<EVP_PKEY, GcsPkeyFree> pkey(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!pkey || EVP_PKEY_base_id(pkey.get()) != EVP_PKEY_RSA) {
    return Status::InvalidArgument("the key's private_key is not a PEM RSA private key");
  }
  std::unique_ptr<EVP_MD_CTX, GcsMdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Status::Internal("RS256 signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Status::Internal("RS256 signing failed");
  }
  sig.resize(len);
  return sig;
}

Result<std::string> ReadKeyFile(const std::string& path, const std::string& owner) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(owner + ": cannot read the service account key file '" +
                                   path + "'");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// STORAGE_EMULATOR_HOST is "host:port" or a URL (Google's libraries take both).
std::string EndpointOfEmulatorHost(std::string v) {
  while (!v.empty() && v.back() == '/') v.pop_back();
  if (v.empty() || v.find("://") != std::string::npos) return v;
  return "http://" + v;
}

int64_t SecondsOf(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string GcsProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? std::string() : std::string(v);
}

Result<ServiceAccountKey> ParseServiceAccountKey(std::string_view json, std::string_view source) {
  const std::string where = "service account key " + std::string(source);
  Json doc = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return Status::InvalidArgument(where + ": not a JSON object");
  if (doc.value("type", "") != "service_account") {
    return Status::InvalidArgument(where + ": \"type\" is not \"service_account\" (only "
                                           "service account keys are supported)");
  }
  ServiceAccountKey key;
  for (auto [name, out] : {std::pair{"client_email", &key.client_email},
                           std::pair{"private_key", &key.private_key},
                           std::pair{"token_uri", &key.token_uri}}) {
    const auto it = doc.find(name);
    if (it == doc.end() || !it->is_string() || it->get<std::string>().empty()) {
      return Status::InvalidArgument(where + ": \"" + name + "\" is missing");
    }
    *out = it->get<std::string>();
  }
  key.private_key_id = doc.value("private_key_id", "");
  if (!key.token_uri.starts_with("https://") && !key.token_uri.starts_with("http://")) {
    return Status::InvalidArgument(where + ": \"token_uri\" is not an http(s) URL");
  }
  return key;
}

Result<std::string> SignJwtAssertion(const ServiceAccountKey& key, std::string_view scope,
                                     std::chrono::system_clock::time_point now) {
  Json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) header["kid"] = key.private_key_id;
  const int64_t iat = SecondsOf(now);
  const Json claims = {{"iss", key.client_email}, {"scope", std::string(scope)},
                       {"aud", key.token_uri},    {"iat", iat},
                       {"exp", iat + 3600}};
  const std::string signed_part = Base64UrlOf(header.dump()) + "." + Base64UrlOf(claims.dump());
  Result<std::string> sig = SignRs256(key.private_key, signed_part);
  if (!sig.ok()) return sig.status().WithContext("service account " + key.client_email);
  return signed_part + "." + Base64UrlOf(*sig);
}

Result<GcsCredentials> ResolveGcsCredentials(const GcsCredentialSettings& s,
                                             const GcsEnvLookup& env) {
  GcsCredentials c;
  const std::string emulator = EndpointOfEmulatorHost(env("STORAGE_EMULATOR_HOST"));
  c.endpoint = !s.endpoint.empty()        ? s.endpoint
               : !emulator.empty()        ? emulator
               : !env("FERRY_GCS_ENDPOINT").empty() ? env("FERRY_GCS_ENDPOINT")
                                          : std::string(kGcsDefaultEndpoint);
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  if (!c.endpoint.starts_with("http://") && !c.endpoint.starts_with("https://")) {
    return Status::InvalidArgument(s.owner + ": the GCS endpoint '" + c.endpoint +
                                   "' must start with http:// or https://");
  }
  // an emulator named by STORAGE_EMULATOR_HOST takes no token, as Google's libraries do there
  const bool emulator_chosen = s.endpoint.empty() && !emulator.empty();
  if (s.anonymous || (emulator_chosen && s.credentials_file.empty())) {
    c.anonymous = true;
    return c;
  }
  c.source = !s.credentials_file.empty() ? s.credentials_file
                                         : env("GOOGLE_APPLICATION_CREDENTIALS");
  if (c.source.empty()) {
    return Status::InvalidArgument(
        s.owner + ": no GCS credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service "
                  "account's JSON key file (or a remote's credentials_file; anonymous = true "
                  "for an emulator)");
  }
  FERRY_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(c.source, s.owner));
  Result<ServiceAccountKey> key = ParseServiceAccountKey(text, c.source);
  if (!key.ok()) return key.status().WithContext(s.owner);
  // the key must sign: a bad PEM is found now, not at the first request
  Result<std::string> probe = SignJwtAssertion(*key, kGcsScope, {});
  if (!probe.ok()) return probe.status().WithContext(s.owner + ": " + c.source);
  c.key = std::move(*key);
  return c;
}

GcsTokenSource::GcsTokenSource(ServiceAccountKey key, http::HttpTransport& http, Clock& clock,
                               std::optional<http::TlsSettings> tls)
    : key_(std::move(key)), http_(http), clock_(clock), tls_(std::move(tls)) {}

Result<std::string> GcsTokenSource::Authorization(std::stop_token stop) {
  // one refresh at a time: the others wait for its token rather than asking again
  std::lock_guard lock(mu_);
  if (token_.empty() || clock_.Now() >= refresh_) {
    FERRY_ASSIGN_OR_RETURN(token_, Exchange(stop));
  }
  return "Bearer " + token_;
}

void GcsTokenSource::Invalidate() {
  std::lock_guard lock(mu_);
  token_.clear();
}

uint64_t GcsTokenSource::exchanges() const {
  std::lock_guard lock(mu_);
  return exchanges_;
}

// Called with mu_ held.
Result<std::string> GcsTokenSource::Exchange(std::stop_token stop) {
  const auto now = clock_.Now();
  FERRY_ASSIGN_OR_RETURN(std::string assertion, SignJwtAssertion(key_, kGcsScope, now));
  const std::string body = "grant_type=" +
                           s3::UriEncode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
                           "&assertion=" + s3::UriEncode(assertion);
  http::HttpRequest req;
  req.method = "POST";
  req.url = key_.token_uri;
  req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  req.body = checksum::AsBytes(body);
  if (tls_) req.tls = &*tls_;
  http::StringSink sink;
  const std::string what = "token exchange of service account " + key_.client_email + " at " +
                           key_.token_uri;
  Result<http::HttpResponse> sent = http_.Send(req, sink, stop);
  if (!sent.ok()) return sent.status().WithContext(what);
  ++exchanges_;
  Json reply = Json::parse(sink.body(), nullptr, false);
  if (sent->status_code != 200) {
    std::string why = reply.is_object() ? reply.value("error_description", reply.value("error", ""))
                                        : std::string();
    const std::string line = what + ": HTTP " + std::to_string(sent->status_code) +
                             (why.empty() ? "" : ": " + why);
    if (sent->status_code >= 500 || sent->status_code == 429) return Status::Unavailable(line);
    return Status::Unauthenticated(line);
  }
  if (!reply.is_object() || !reply.contains("access_token") ||
      !reply["access_token"].is_string()) {
    return Status::Unauthenticated(what + ": the reply has no access_token");
  }
  const int64_t expires_in =
      reply.contains("expires_in") && reply["expires_in"].is_number_integer()
          ? reply["expires_in"].get<int64_t>()
          : 3600;
  refresh_ = now + std::chrono::seconds(expires_in) - kGcsRefreshMargin;
  return reply["access_token"].get<std::string>();
}

}  // namespace ferry::storage::gcs
