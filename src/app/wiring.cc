#include "app/wiring.h"

#include <cstdlib>
#include <filesystem>

#include "base/clock.h"
#include "http/curl_transport.h"
#include "limits/limits.h"
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
};

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
  return r;
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
                              : "by-name");
  auto& entry = clients_[id];
  if (!entry) {
    entry = std::make_unique<ClientEntry>();
    entry->creds = std::make_unique<s3::StaticCredentials>(r.creds);
    entry->client = std::make_unique<s3::S3Client>(r.options, *transport_, *entry->creds,
                                                   SystemClock::Default());
  }
  return entry->client.get();
}

Result<std::unique_ptr<storage::Backend>> Wiring::OpenBackend(const Location& location,
                                                              bool create_local) {
  if (location.is_s3()) {
    FERRY_ASSIGN_OR_RETURN(s3::S3Client * client, ClientFor(location));
    return std::unique_ptr<storage::Backend>(
        std::make_unique<storage::S3Backend>(*client, location.bucket, location.prefix));
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
