#include "app/wiring.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "app/providers.h"
#include "base/clock.h"
#include "http/curl_transport.h"
#include "limits/limits.h"
#include "obs/log.h"
#include "credentials/chain.h"
#include "s3/credentials.h"
#include "s3/express.h"
#include "storage/azure/azure_backend.h"
#include "storage/gcs/gcs_backend.h"
#include "storage/local/local_backend.h"
#include "storage/s3/s3_backend.h"

namespace ferry::app {

struct Wiring::ClientEntry {
  std::shared_ptr<s3::CredentialsProvider> creds;
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

namespace {
std::atomic<bool> g_no_sign_request{false};
std::atomic<bool> g_requester_pays{false};
}  // namespace

void SetNoSignRequest(bool on) { g_no_sign_request.store(on, std::memory_order_relaxed); }
void SetRequesterPays(bool on) { g_requester_pays.store(on, std::memory_order_relaxed); }

Wiring::Wiring(Config config, WiringOptions options)
    : config_(std::move(config)),
      options_(options),
      transport_(std::make_unique<http::CurlTransport>(TransportOptions())) {
  options_.no_sign_request =
      options_.no_sign_request || g_no_sign_request.load(std::memory_order_relaxed);
  options_.requester_pays =
      options_.requester_pays || g_requester_pays.load(std::memory_order_relaxed);
}

Wiring::~Wiring() = default;

namespace {

std::string Env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

Result<credentials::ResolvedCredentials> RemoteCredentials(const CredentialsRequest& request,
                                                          http::HttpTransport& http) {
  const RemoteConfig* remote = request.remote;
  credentials::ChainSettings settings;
  settings.anonymous = request.anonymous;
  settings.s3_endpoint = request.endpoint;
  settings.region = request.region;
  settings.tls = request.tls;
  if (remote != nullptr) {
    settings.name = "remote '" + remote->name + "'";
    settings.anonymous = settings.anonymous || remote->no_sign_request;
    if (!remote->access_key_id_env.empty()) {
      s3::Credentials creds;
      creds.access_key_id = Env(remote->access_key_id_env);
      creds.secret_access_key = Env(remote->secret_access_key_env);
      if (!remote->session_token_env.empty()) creds.session_token = Env(remote->session_token_env);
      if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
        return Status::InvalidArgument("remote '" + remote->name + "': environment variables " +
                                       remote->access_key_id_env + " and " +
                                       remote->secret_access_key_env + " must both be set");
      }
      settings.keys = std::move(creds);
    }
    settings.credential_process = remote->credential_process;
    settings.profile = remote->profile;
    settings.role = {remote->role_arn, remote->external_id, remote->role_session_name,
                     remote->duration_seconds};
    settings.sts_endpoint = remote->sts_endpoint;
  }
  credentials::ChainContext context;
  context.http = &http;
  Result<credentials::ResolvedCredentials> resolved =
      credentials::ResolveCredentials(settings, context);
  if (!resolved.ok() && remote != nullptr) {
    return resolved.status().WithContext("credentials of remote '" + remote->name + "'");
  }
  return resolved;
}

namespace {

struct Resolved {
  s3::S3Options options;
  const RemoteConfig* remote = nullptr;  // null: the AWS environment chain
};

}  // namespace

http::TlsSettings RemoteTls(const RemoteConfig* remote) {
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

namespace {

Result<Resolved> ResolveS3(const Config& config, const Location& loc, bool requester_pays) {
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
    if (rc.is_azure()) {
      return Status::InvalidArgument("remote '" + loc.remote + "' is an Azure storage account "
                                     "(type = \"azure\"), not an S3 store: '" + loc.text +
                                     "' cannot be used here");
    }
    if (rc.is_gcs()) {
      return Status::InvalidArgument("remote '" + loc.remote + "' is a Google Cloud Storage "
                                     "endpoint (type = \"gcs\"), not an S3 store: '" +
                                     loc.text + "' cannot be used here");
    }
    r.remote = &rc;
    r.options.directory_buckets = rc.directory_bucket;
    profile = rc.profile;
    addressing = rc.addressing;
    r.options.endpoint = rc.endpoint;
    r.options.region = rc.region;
    r.options.metrics_remote = rc.name;  // its requests counted under its name (cost.md)
  }
  const std::string provider = r.remote != nullptr ? r.remote->provider : std::string();
  if (r.options.region.empty()) r.options.region = s3::RegionFromEnvironment(profile);
  if (r.options.endpoint.empty() && loc.remote.empty()) {
    r.options.endpoint = s3::EndpointFromEnvironment();
  }
  const bool custom = !r.options.endpoint.empty();
  // the addressing the provider requires, unless the remote says which
  s3::Addressing default_addressing = DefaultAddressing(provider);
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
    if (r.options.region.empty()) r.options.region = "us-east-1";
    r.options.endpoint = s3::ZonalEndpoint(zone, r.options.region);
    addressing = "virtual";
  } else if (!custom) {
    Result<ProviderEndpoint> known = DefaultEndpoint(provider, r.options.region);
    if (!known.ok()) {
      return Status::InvalidArgument("remote '" + loc.remote + "': " + known.status().message());
    }
    r.options.endpoint = known->endpoint;
    r.options.region = known->region;
    default_addressing = known->addressing;
  }
  if (r.options.region.empty()) r.options.region = "us-east-1";
  while (!r.options.endpoint.empty() && r.options.endpoint.back() == '/') {
    r.options.endpoint.pop_back();
  }
  // S3-compatible servers (RGW, MinIO, Swift) want path style; AWS and the named providers
  // virtual hosts (app/providers.h).
  r.options.addressing = addressing == "virtual" ? s3::Addressing::kVirtualHost
                         : addressing == "path"  ? s3::Addressing::kPath
                                                 : default_addressing;
  r.options.requester_pays =
      (r.remote != nullptr && r.remote->requester_pays) || requester_pays;
  r.options.signature_v2 = r.remote != nullptr && r.remote->signature_v2;
  r.options.list_objects_v1 = r.remote != nullptr && r.remote->list_objects_v1;
  // AWS keeps a multipart upload's full-object CRC32C; a store behind an endpoint of its own is
  // taken for one that does not (RGW 16 ignores the headers) unless its remote says "aws".
  r.options.full_object_checksums = provider == "aws" || (provider.empty() && !custom);
  if (r.options.endpoint.starts_with("https://")) r.options.tls = RemoteTls(r.remote);
  return r;
}

// A remote's ca_bundle can be read and holds a PEM certificate: a mistyped path is one line
// before any request, not a TLS failure of the first one.
Status CheckCaBundle(const RemoteConfig& remote) {
  return CheckCaBundleFile(remote.ca_bundle, "remote '" + remote.name + "'");
}

}  // namespace

Status CheckCaBundleFile(const std::string& path, const std::string& owner) {
  const std::string what = owner + ": ca_bundle " + path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument(what + " is a directory, not a PEM file");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
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

uint64_t Wiring::RequestRetries() const {
  uint64_t n = 0;
  for (const auto& [id, entry] : clients_) {
    if (entry && entry->client) n += entry->client->retries();
  }
  for (const auto& [id, client] : azure_clients_) n += client->retries();
  for (const auto& [id, client] : gcs_clients_) n += client->retries();
  return n;
}

Result<s3::S3Client*> Wiring::ClientFor(const Location& location) {
  FERRY_ASSIGN_OR_RETURN(Resolved r, ResolveS3(config_, location, options_.requester_pays));
  const bool anonymous = r.remote == nullptr && options_.no_sign_request;
  const std::string creds_key = anonymous ? "-" : r.remote != nullptr ? r.remote->name : "";
  auto known = credentials_.find(creds_key);
  if (known == credentials_.end()) {
    FERRY_ASSIGN_OR_RETURN(
        credentials::ResolvedCredentials resolved,
        RemoteCredentials({r.remote, r.remote != nullptr ? r.remote->endpoint : r.options.endpoint,
                           r.options.region, r.options.tls, anonymous},
                          *transport_));
    known = credentials_.emplace(creds_key, std::move(resolved)).first;
  }
  const credentials::ResolvedCredentials& creds = known->second;
  const std::string id = r.options.endpoint + "|" + r.options.region + "|" +
                         std::to_string(static_cast<int>(r.options.addressing)) + "|" +
                         creds.identity + "|" + (r.options.signature_v2 ? "v2|" : "") +
                         (r.options.list_objects_v1 ? "list1|" : "") +
                         (r.options.full_object_checksums ? "fullcrc|" : "") +
                         (r.options.requester_pays ? "payer|" : "") +
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
    entry->creds = creds.provider;
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

Result<std::unique_ptr<storage::Backend>> Wiring::OpenAzure(const Location& location,
                                                            const RemoteConfig* remote) {
  storage::azure::AzureCredentialSettings settings;
  settings.owner = remote != nullptr ? "remote '" + remote->name + "'" : location.text;
  settings.account = remote != nullptr ? remote->account : location.account;
  if (remote != nullptr) {
    settings.endpoint = remote->endpoint;
    settings.key_env = remote->account_key_env;
    settings.key_file = remote->account_key_file;
    settings.sas_env = remote->sas_token_env;
    settings.sas_file = remote->sas_token_file;
    settings.connection_string_env = remote->connection_string_env;
  }
  FERRY_ASSIGN_OR_RETURN(storage::azure::AzureCredentials creds,
                         storage::azure::ResolveAzureCredentials(settings));
  const std::string id = creds.endpoint + "|" + creds.account + "|" + creds.kind() + "|" +
                         settings.owner;
  auto& client = azure_clients_[id];
  if (!client) {
    storage::azure::AzureOptions options;
    auto tls = RestClientTls(remote, creds.endpoint);
    if (!tls.ok()) {
      azure_clients_.erase(id);
      return tls.status();
    }
    options.tls = std::move(*tls);
    options.credentials = std::move(creds);
    client = std::make_unique<storage::azure::AzureClient>(std::move(options), *transport_);
  }
  return std::unique_ptr<storage::Backend>(
      std::make_unique<storage::azure::AzureBackend>(*client, location.bucket, location.prefix));
}

Result<std::optional<http::TlsSettings>> Wiring::RestClientTls(const RemoteConfig* remote,
                                                              const std::string& endpoint) {
  std::optional<http::TlsSettings> tls;
  if (endpoint.starts_with("https://")) tls = RemoteTls(remote);
  if (remote == nullptr) return tls;
  if (tls && !tls->verify && warned_insecure_.insert(remote->name).second) {
    obs::Log(obs::Level::kWarn,
             "TLS certificates of remote '" + remote->name +
                 "' are not checked (insecure_skip_verify = true): anyone on the path can read "
                 "and change its traffic",
             {{"endpoint", endpoint}});
  }
  if (!remote->ca_bundle.empty()) FERRY_RETURN_IF_ERROR(CheckCaBundle(*remote));
  return tls;
}

Result<std::unique_ptr<storage::Backend>> Wiring::OpenGcs(const Location& location,
                                                          const RemoteConfig* remote) {
  storage::gcs::GcsCredentialSettings settings;
  settings.owner = remote != nullptr ? "remote '" + remote->name + "'" : location.text;
  if (remote != nullptr) {
    settings.endpoint = remote->endpoint;
    settings.credentials_file = remote->credentials_file;
    settings.anonymous = remote->anonymous;
  }
  FERRY_ASSIGN_OR_RETURN(storage::gcs::GcsCredentials creds,
                         storage::gcs::ResolveGcsCredentials(settings));
  const std::string id = creds.endpoint + "|" + (creds.anonymous ? "-" : creds.source) + "|" +
                         settings.owner;
  auto& client = gcs_clients_[id];
  if (!client) {
    storage::gcs::GcsOptions options;
    auto tls = RestClientTls(remote, creds.endpoint);
    if (!tls.ok()) {
      gcs_clients_.erase(id);
      return tls.status();
    }
    options.tls = std::move(*tls);
    options.credentials = std::move(creds);
    client = std::make_unique<storage::gcs::GcsClient>(std::move(options), *transport_);
  }
  return std::unique_ptr<storage::Backend>(
      std::make_unique<storage::gcs::GcsBackend>(*client, location.bucket, location.prefix));
}

Result<std::unique_ptr<storage::Backend>> Wiring::OpenBackend(const Location& location,
                                                              bool create_local,
                                                              bool keep_emptied_folders) {
  if (location.is_azure()) return OpenAzure(location, nullptr);
  if (location.is_gcs()) return OpenGcs(location, nullptr);
  if (auto it = config_.remotes.find(location.remote);
      location.is_s3() && !location.remote.empty() && it != config_.remotes.end() &&
      it->second.is_gcs()) {
    return OpenGcs(location, &it->second);
  }
  if (auto it = config_.remotes.find(location.remote);
      location.is_s3() && !location.remote.empty() && it != config_.remotes.end() &&
      it->second.is_azure()) {
    return OpenAzure(location, &it->second);
  }
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
  local_options.remove_emptied_folders =
      options_.local_remove_emptied_folders && !keep_emptied_folders;
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
