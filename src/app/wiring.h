// Wiring: the composition root. The only place that names concrete classes: it turns a
// Location (and the config's remotes, and the AWS environment chain) into a storage::Backend,
// sharing one HTTP transport for the process and one S3 client per (endpoint, region,
// addressing, access key, TLS settings) so that two locations on one endpoint with one set of
// credentials can copy on the server.
//
// Thread-safety: OpenBackend is not thread-safe (called during start-up); the backends it
// returns are.
#pragma once

#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/encryption.h"
#include "app/location.h"
#include "credentials/chain.h"
#include "http/transport.h"
#include "s3/client.h"
#include "storage/backend.h"

namespace ferry::storage::azure {
class AzureClient;
}  // namespace ferry::storage::azure
namespace ferry::storage::gcs {
class GcsClient;
}  // namespace ferry::storage::gcs

namespace ferry::app {

// Process options of the backends Wiring builds (not stored with durable runs: `ferry worker`
// processes use their own).
struct WiringOptions {
  bool local_fsync = true;  // storage::LocalOptions::fsync; false: `--no-fsync`
  // storage::LocalOptions::remove_emptied_folders: a local folder's Delete removes the folders
  // it empties. False: `ferry move` without --delete-empty-src-dirs (a move deletes from its
  // source only), whose source keeps its folders as rclone's does.
  bool local_remove_emptied_folders = true;
  // `--no-sign-request`: every S3 location without a remote is read unsigned (public buckets).
  bool no_sign_request = false;
  // `--request-payer requester`: every S3 request says the requester pays (requester-pays
  // buckets); a remote's own: requester_pays = true.
  bool requester_pays = false;
};

class Wiring {
 public:
  explicit Wiring(Config config, WiringOptions options = {});
  ~Wiring();

  // Builds the backend for `location`. An Azure location (az://, or a remote with type =
  // "azure") gets one Azure client per account, endpoint and credentials (its credentials from
  // the environment or the remote's files: storage/azure/azure_auth.h; none found is one
  // kInvalidArgument line). A GCS location (gs://, or a remote with type = "gcs") likewise
  // gets one GCS client per endpoint and key file (storage/gcs/gcs_auth.h). A local destination folder is created when
  // `create_local` is set. Errors: kInvalidArgument (unknown remote, bad config, a remote's
  // ca_bundle that cannot be read or holds no PEM certificate: one line naming the remote and
  // the file), kPermissionDenied/kNotFound come later, from Backend::Check.
  //
  // TLS: an https endpoint's requests carry the remote's settings (s3::S3Options::tls: its
  // ca_bundle, insecure_skip_verify, and the hint of a refusal naming the remote); the first
  // use of a remote with insecure_skip_verify = true logs one warning naming it.
  //
  // `keep_emptied_folders`: a local folder's deletes leave the folders they empty, whatever
  // WiringOptions says (the source side of a durable run: only a move deletes there, and its
  // folders stay, as rclone's move leaves them).
  Result<std::unique_ptr<storage::Backend>> OpenBackend(const Location& location,
                                                        bool create_local,
                                                        bool keep_emptied_folders = false);
  // Encryption: an S3 backend gets its remote's (app/encryption.h: RemoteEncryption; an
  // unreadable key is kInvalidArgument), then what SetEncryption gave its location.
  //
  // Makes every later OpenBackend of an S3 location with this remote, bucket and prefix use
  // `override` over its remote's encryption (the command line's, for this process only: never
  // recorded with a run).
  void SetEncryption(const Location& location, EncryptionOverride override);
  // The S3 client for an S3 location (for bucket commands).
  Result<s3::S3Client*> ClientFor(const Location& location);
  // Requests the S3, Azure and GCS clients built so far sent again after transient failures.
  uint64_t RequestRetries() const;
  const Config& config() const { return config_; }
  // The process's one HTTP transport (for other services' clients: SQS).
  http::HttpTransport& transport() { return *transport_; }

 private:
  struct ClientEntry;
  // The backend of an Azure location (`remote`: its remote, null for az://).
  Result<std::unique_ptr<storage::Backend>> OpenAzure(const Location& location,
                                                      const RemoteConfig* remote);
  // The TLS settings of an Azure or GCS client of `remote` (null: a location without one) at
  // `endpoint`: none unless https; a remote whose certificates are not checked is warned about
  // once; its CA bundle file (when it names one) must be readable PEM.
  Result<std::optional<http::TlsSettings>> RestClientTls(const RemoteConfig* remote,
                                                         const std::string& endpoint);
  // The backend of a GCS location (`remote`: its remote, null for gs://).
  Result<std::unique_ptr<storage::Backend>> OpenGcs(const Location& location,
                                                    const RemoteConfig* remote);
  Config config_;
  WiringOptions options_;
  std::unique_ptr<http::HttpTransport> transport_;
  std::map<std::string, std::unique_ptr<ClientEntry>> clients_;
  std::set<std::string> warned_insecure_;  // remotes whose unchecked TLS was warned about
  // resolved credentials by remote name ("" = the environment chain, "-" = unsigned): one
  // provider (one refresh) for every client of a remote
  std::map<std::string, credentials::ResolvedCredentials> credentials_;
  std::map<std::string, EncryptionOverride> encryption_;  // by EncryptionId(location)
  // by endpoint, account and credentials' kind and owner
  std::map<std::string, std::unique_ptr<storage::azure::AzureClient>> azure_clients_;
  // by endpoint and key file
  std::map<std::string, std::unique_ptr<storage::gcs::GcsClient>> gcs_clients_;
};

// `--no-sign-request` for the process (cli/main.cc): every Wiring made afterwards sends the
// requests of S3 locations without a remote unsigned, as WiringOptions::no_sign_request.
void SetNoSignRequest(bool on);
// `--request-payer requester` for the process, likewise (WiringOptions::requester_pays).
void SetRequesterPays(bool on);

// How an https endpoint of `remote` has its certificate checked: its ca_bundle or
// insecure_skip_verify, and the hint a refusal ends with (naming the remote); for null (the
// AWS environment) the transport's CAs with a hint naming AWS_CA_BUNDLE.
http::TlsSettings RemoteTls(const RemoteConfig* remote);
// A ca_bundle file can be read and holds a PEM certificate; kInvalidArgument otherwise, one
// line "<owner>: ca_bundle <path> ...".
Status CheckCaBundleFile(const std::string& path, const std::string& owner);

// What a remote's (or the AWS environment's) credentials are resolved for.
struct CredentialsRequest {
  const RemoteConfig* remote = nullptr;  // null: the AWS environment chain
  std::string endpoint;                  // the endpoint they sign for ("": AWS)
  std::string region;                    // its region (STS calls are signed for it)
  std::optional<http::TlsSettings> tls;  // its TLS settings (STS at the same endpoint)
  bool anonymous = false;                // unsigned requests (--no-sign-request)
};

// The credentials a remote signs with (credentials/chain.h): its environment variables
// (kInvalidArgument naming them when unset), its credential_process, its profile, else the
// AWS chain; with its role_arn assumed over them. Fetched once here, so a refused role is one
// line before any transfer; temporary ones are refreshed before they expire.
Result<credentials::ResolvedCredentials> RemoteCredentials(const CredentialsRequest& request,
                                                          http::HttpTransport& http);

// The config file to use: --config if given, else $FERRY_CONFIG, else
// ~/.config/ferry/ferry.toml when it exists. An explicitly named file must exist.
Result<Config> LoadConfig(const std::string& explicit_path);

}  // namespace ferry::app
