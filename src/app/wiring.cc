#include "app/wiring.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/clock.h"
#include "http/curl_transport.h"
#include "limits/limits.h"
#include "obs/log.h"
#include "s3/credentials.h"
#include "s3/express.h"
#include "storage/local/local_backend.h"
#include "storage/s3/s3_backend.h"

namespace ferry::app {

struct Wiring::ClientEntry {
  std::unique_ptr<s3::CredentialsProvider> creds;
  std::unique_ptr<s3::S3Client> client;
};

namespace {

http::CurlOptions TransportOptions() {
  http::CurlOptions o;
  // every request and body byte is paced by the process's limits (--bwlimit, --max-rps)
  o.throttle = &limits::ProcessLimits();
  return o;
}

}  // namespace

Wiring::Wiring(Config config, WiringOptions options)
    : config_(std::move(config)),
      options_(options),
      transport_(std::make_unique<http::CurlTransport>(TransportOptions())) {}

Wiring::~Wiring() = default;

namespace {

std::string Env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

Result<s3::Credentials> RemoteCredentials(const RemoteConfig* remote) {
  if (remote != nullptr && !remote->access_key_id_env.empty()) {
    s3::Credentials creds;
    creds.access_key_id = Env(remote->access_key_id_env);
    creds.secret_access_key = Env(remote->secret_access_key_env);
    if (!remote->session_token_env.empty()) creds.session_token = Env(remote->session_token_env);
    if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
      return Status::InvalidArgument("remote '" + remote->name + "': environment variables " +
                                     remote->access_key_id_env + " and " +
                                     remote->secret_access_key_env + " must both be set");
    }
    return creds;
  }
  return s3::LoadCredentialsFromEnvironment(remote != nullptr ? remote->profile : "");
}

namespace {

struct Resolved {
  s3::S3Options options;
  s3::Credentials creds;
  const RemoteConfig* remote = nullptr;  // null: the AWS environment chain
};

// How an https endpoint's certificate is checked, and what to do when it is not trusted.
http::TlsSettings TlsFor(const RemoteConfig* remote) {
  http::TlsSettings tls;
  if (remote == nullptr) {
    const char* env = std::getenv("AWS_CA_BUNDLE");
    tls.untrusted_hint = env != nullptr && *env != '\0'
                             ? std::string("the CAs trusted are AWS_CA_BUNDLE's (") + env + ")"
                             : "set AWS_CA_BUNDLE to the CA bundle (PEM) that issued it, or "
                               "use a remote with ca_bundle";
    return tls;
  }
  const std::string name = "remote '" + remote->name + "'";
  tls.ca_bundle = remote->ca_bundle;
  tls.verify = !remote->insecure_skip_verify;
  tls.untrusted_hint =
      remote->ca_bundle.empty()
          ? "set ca_bundle for " + name + " to the CA bundle (PEM) that issued it, or "
                                          "insecure_skip_verify = true"
          : name + " trusts only the CAs of its ca_bundle " + remote->ca_bundle;
  return tls;
}

Result<Resolved> ResolveS3(const Config& config, const Location& loc) {
  Resolved r;
  std::string profile;
  std::string addressing;
  if (!loc.remote.empty()) {
    auto it = config.remotes.find(loc.remote);
    if (it == config.remotes.end()) {
      return Status::InvalidArgument(
          "unknown remote '" + loc.remote + "' in '" + loc.text + "'" +
          (config.source.empty() ? " (no config file: pass --config or set FERRY_CONFIG)"
                                 : " (not defined in " + config.source + ")"));
    }
    const RemoteConfig& rc = it->second;
    r.remote = &rc;
    r.options.directory_buckets = rc.directory_bucket;
    profile = rc.profile;
    addressing = rc.addressing;
    r.options.endpoint = rc.endpoint;
    r.options.region = rc.region;
    FERRY_ASSIGN_OR_RETURN(r.creds, RemoteCredentials(&rc));
  } else {
    FERRY_ASSIGN_OR_RETURN(r.creds, RemoteCredentials(nullptr));
  }
  if (r.options.region.empty()) r.options.region = s3::RegionFromEnvironment(profile);
  if (r.options.region.empty()) r.options.region = "us-east-1";
  if (r.options.endpoint.empty() && loc.remote.empty()) {
    r.options.endpoint = s3::EndpointFromEnvironment();
  }
  const bool custom = !r.options.endpoint.empty();
  const bool directory =
      r.options.directory_buckets.value_or(s3::HasDirectoryBucketSuffix(loc.bucket));
  if (!custom && directory) {
    // S3 Express One Zone: the bucket's zonal endpoint, from the zone id in its name.
    const std::string zone = s3::DirectoryBucketZone(loc.bucket);
    if (zone.empty()) {
      return Status::InvalidArgument(
          "directory bucket '" + loc.bucket +
          "' has no zone in its name (BASE--ZONEID--x-s3): give its remote an endpoint");
    }
    r.options.endpoint = s3::ZonalEndpoint(zone, r.options.region);
    addressing = "virtual";
  } else if (!custom) {
    r.options.endpoint = "https://s3." + r.options.region + ".amazonaws.com";
  }
  while (!r.options.endpoint.empty() && r.options.endpoint.back() == '/') {
    r.options.endpoint.pop_back();
  }
  // S3-compatible servers (RGW, MinIO, Swift) want path style; AWS wants virtual hosts.
  r.options.addressing = addressing == "virtual"  ? s3::Addressing::kVirtualHost
                         : addressing == "path"   ? s3::Addressing::kPath
                         : custom                 ? s3::Addressing::kPath
                                                  : s3::Addressing::kVirtualHost;
  if (r.options.endpoint.starts_with("https://")) r.options.tls = TlsFor(r.remote);
  return r;
}

// A remote's ca_bundle can be read and holds a PEM certificate: a mistyped path is one line
// before any request, not a TLS failure of the first one.
Status CheckCaBundle(const RemoteConfig& remote) {
  const std::string what = "remote '" + remote.name + "': ca_bundle " + remote.ca_bundle;
  std::error_code ec;
  if (std::filesystem::is_directory(remote.ca_bundle, ec)) {
    return Status::InvalidArgument(what + " is a directory, not a PEM file");
  }
  std::FILE* f = std::fopen(remote.ca_bundle.c_str(), "rb");
  if (f == nullptr) {
    return Status::InvalidArgument(what + " cannot be read: " + std::strerror(errno));
  }
  constexpr size_t kMaxBytes = 64u << 20;  // system bundles are a few hundred KiB
  std::string text;
  char chunk[65536];
  size_t n;
  while (text.size() < kMaxBytes && (n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
    text.append(chunk, n);
  }
  const bool failed = std::ferror(f) != 0;
  const int error = errno;
  std::fclose(f);
  if (failed) return Status::InvalidArgument(what + " cannot be read: " + std::strerror(error));
  if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Status::InvalidArgument(what + " holds no PEM certificate");
  }
  return Status::Ok();
}

}  // namespace

uint64_t Wiring::RequestRetries() const {
  uint64_t n = 0;
  for (const auto& [id, entry] : clients_) {
    if (entry && entry->client) n += entry->client->retries();
  }
  return n;
}

Result<s3::S3Client*> Wiring::ClientFor(const Location& location) {
  FERRY_ASSIGN_OR_RETURN(Resolved r, ResolveS3(config_, location));
  const std::string id = r.options.endpoint + "|" + r.options.region + "|" +
                         std::to_string(static_cast<int>(r.options.addressing)) + "|" +
                         r.creds.access_key_id + "|" +
                         (r.options.directory_buckets
                              ? (*r.options.directory_buckets ? "dir" : "general")
                              : "by-name") +
                         (r.options.tls ? "|" + r.options.tls->ca_bundle + "|" +
                                              (r.options.tls->verify ? "checked" : "unchecked")
                                        : std::string());
  const RemoteConfig* remote = r.remote;
  // once per remote (two remotes may share a client)
  if (remote != nullptr && r.options.tls && !r.options.tls->verify &&
      warned_insecure_.insert(remote->name).second) {
    obs::Log(obs::Level::kWarn,
             "TLS certificates of remote '" + remote->name +
                 "' are not checked (insecure_skip_verify = true): anyone on the path can read "
                 "and change its traffic",
             {{"endpoint", r.options.endpoint}});
  }
  auto& entry = clients_[id];
  if (!entry) {
    if (remote != nullptr && !remote->ca_bundle.empty()) {
      if (Status s = CheckCaBundle(*remote); !s.ok()) {
        clients_.erase(id);
        return s;
      }
    }
    entry = std::make_unique<ClientEntry>();
    entry->creds = std::make_unique<s3::StaticCredentials>(r.creds);
    entry->client = std::make_unique<s3::S3Client>(r.options, *transport_, *entry->creds,
                                                   SystemClock::Default());
  }
  return entry->client.get();
}

namespace {

std::string EncryptionId(const Location& location) {
  return location.remote + "|" + location.bucket + "|" + location.prefix;
}

}  // namespace

void Wiring::SetEncryption(const Location& location, EncryptionOverride override) {
  encryption_[EncryptionId(location)] = std::move(override);
}

Result<std::unique_ptr<storage::Backend>> Wiring::OpenBackend(const Location& location,
                                                              bool create_local) {
  if (location.is_s3()) {
    FERRY_ASSIGN_OR_RETURN(s3::S3Client * client, ClientFor(location));
    auto backend = std::make_unique<storage::S3Backend>(*client, location.bucket,
                                                        location.prefix);
    storage::S3Encryption encryption;
    if (auto it = config_.remotes.find(location.remote);
        !location.remote.empty() && it != config_.remotes.end()) {
      FERRY_ASSIGN_OR_RETURN(encryption, RemoteEncryption(it->second));
    }
    if (auto it = encryption_.find(EncryptionId(location)); it != encryption_.end()) {
      encryption = Apply(std::move(encryption), it->second);
    }
    backend->set_encryption(std::move(encryption));
    return std::unique_ptr<storage::Backend>(std::move(backend));
  }
  storage::LocalOptions local_options;
  local_options.fsync = options_.local_fsync;
  FERRY_ASSIGN_OR_RETURN(auto local,
                         storage::LocalBackend::Open(location.path, create_local, local_options));
  return std::unique_ptr<storage::Backend>(std::move(local));
}

Result<Config> LoadConfig(const std::string& explicit_path) {
  if (!explicit_path.empty()) return LoadConfigFile(explicit_path);
  if (std::string env = Env("FERRY_CONFIG"); !env.empty()) return LoadConfigFile(env);
  if (std::string home = Env("HOME"); !home.empty()) {
    const std::string path = home + "/.config/ferry/ferry.toml";
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return LoadConfigFile(path);
  }
  return Config{};
}

}  // namespace ferry::app
