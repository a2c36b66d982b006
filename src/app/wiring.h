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
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/encryption.h"
#include "app/location.h"
#include "http/transport.h"
#include "s3/client.h"
#include "storage/backend.h"

namespace ferry::app {

// Process options of the backends Wiring builds (not stored with durable runs: `ferry worker`
// processes use their own).
struct WiringOptions {
  bool local_fsync = true;  // storage::LocalOptions::fsync; false: `--no-fsync`
};

class Wiring {
 public:
  explicit Wiring(Config config, WiringOptions options = {});
  ~Wiring();

  // Builds the backend for `location`. A local destination folder is created when
  // `create_local` is set. Errors: kInvalidArgument (unknown remote, bad config, a remote's
  // ca_bundle that cannot be read or holds no PEM certificate: one line naming the remote and
  // the file), kPermissionDenied/kNotFound come later, from Backend::Check.
  //
  // TLS: an https endpoint's requests carry the remote's settings (s3::S3Options::tls: its
  // ca_bundle, insecure_skip_verify, and the hint of a refusal naming the remote); the first
  // use of a remote with insecure_skip_verify = true logs one warning naming it.
  Result<std::unique_ptr<storage::Backend>> OpenBackend(const Location& location,
                                                        bool create_local);
  // Encryption: an S3 backend gets its remote's (app/encryption.h: RemoteEncryption; an
  // unreadable key is kInvalidArgument), then what SetEncryption gave its location.
  //
  // Makes every later OpenBackend of an S3 location with this remote, bucket and prefix use
  // `override` over its remote's encryption (the command line's, for this process only: never
  // recorded with a run).
  void SetEncryption(const Location& location, EncryptionOverride override);
  // The S3 client for an S3 location (for bucket commands).
  Result<s3::S3Client*> ClientFor(const Location& location);
  // Requests the S3 clients built so far sent again after transient failures.
  uint64_t RequestRetries() const;
  const Config& config() const { return config_; }
  // The process's one HTTP transport (for other services' clients: SQS).
  http::HttpTransport& transport() { return *transport_; }

 private:
  struct ClientEntry;
  Config config_;
  WiringOptions options_;
  std::unique_ptr<http::HttpTransport> transport_;
  std::map<std::string, std::unique_ptr<ClientEntry>> clients_;
  std::set<std::string> warned_insecure_;  // remotes whose unchecked TLS was warned about
  std::map<std::string, EncryptionOverride> encryption_;  // by EncryptionId(location)
};

// The credentials remote `remote` signs with: its environment variables (kInvalidArgument
// naming them when unset), else its profile, else the AWS chain; null: the AWS chain.
Result<s3::Credentials> RemoteCredentials(const RemoteConfig* remote);

// The config file to use: --config if given, else $FERRY_CONFIG, else
// ~/.config/ferry/ferry.toml when it exists. An explicitly named file must exist.
Result<Config> LoadConfig(const std::string& explicit_path);

}  // namespace ferry::app
