// Config: the TOML configuration file. Remotes name S3 endpoints and where their credentials
// come from; no secret is ever required in the file (keys come from named environment
// variables or an AWS profile), and none is ever logged.
//
//   [remotes.ra]
//   endpoint = "http://127.0.0.1:7480"
//   region = "region-a"
//   addressing = "path"                 # or "virtual"
//   access_key_id_env = "RA_KEY"        # environment variable names, or:
//   secret_access_key_env = "RA_SECRET"
//   session_token_env = "RA_TOKEN"      # optional
//   profile = "name"                    # an AWS profile (~/.aws/credentials, ~/.aws/config)
//   credential_process = "cmd args"     # or: a command printing credentials (AWS CLI format)
//   role_arn = "arn:aws:iam::1:role/r"  # assume this role over the remote's other credentials
//   external_id = "..."                 #   (optional, with role_arn), and:
//   role_session_name = "ferry-nightly" #   default "ferry-<unix time>"
//   duration_seconds = 3600             #   900..43200; default: the role's
//   sts_endpoint = "https://sts.x"      # where roles are assumed (default: $AWS_ENDPOINT_URL_STS,
//                                       # else the remote's endpoint when it is not AWS (RGW,
//                                       # MinIO), else sts.REGION.amazonaws.com[.cn])
//   no_sign_request = true              # public buckets: unsigned requests, no credentials
//   provider = "oss"                    # aws, oss, cos, kodo or other (app/providers.h): the
//                                       # endpoint of `region` when none is given, the
//                                       # addressing the store requires
//   requester_pays = true               # requester-pays buckets (x-amz-request-payer)
//   signature = "v2"                    # old stores: Signature Version 2 and ListObjects
//                                       # version 1 (default "v4")
//   list_objects_v1 = true              # a store without ListObjectsV2 (with "v4")
//   directory_bucket = true             # S3 Express One Zone directory buckets (default: a
//                                       # bucket named "*--x-s3" is one; false: never)
//   ca_bundle = "/etc/ferry/ra-ca.pem"  # https: the CAs (PEM) the endpoint's certificate must
//                                       # chain to, instead of the system's (default: the
//                                       # system's, or $AWS_CA_BUNDLE); not empty; must be
//                                       # readable when the remote is used (app/wiring.h)
//   insecure_skip_verify = true         # https: no certificate or host name check at all (a
//                                       # warning names the remote when it is used); the only
//                                       # way to turn the check off. Neither key with an
//                                       # http:// endpoint, nor both together.
//   sse = "aws:kms"                     # server-side encryption of writes: "AES256" or
//   sse_kms_key_id = "key-id"           # "aws:kms" (+ a key id: only with aws:kms)
//   sse_c_key_file = "/etc/ferry/ra.key"  # SSE-C (instead of `sse`): the customer key for
//   sse_c_key_env = "RA_SSE_C_KEY"      # writes and reads, from a file (base64 of 32 bytes,
//                                       # or the 32 bytes) or an environment variable (base64);
//                                       # one of them; never the key itself (app/encryption.h)
//
//   [transfer]                          # defaults for command-line options
//   concurrency = 64                    # a whole number from 1 to 1024
//   memory = "256MiB"                   # sizes as --memory takes them, above 0
//   part_size = "16MiB"
//   multipart_threshold = "64MiB"
//
//   [sync]                              # defaults of `ferry sync` (its flags win)
//   max_delete = 1000                   # or "10%": --max-delete (plan/delete_limit.h)
//   max_transfer = "500GiB"             # --max-transfer (a size; runs in memory only)
//   max_duration = "6h"                 # --max-duration (a duration)
//   cutoff_mode = "hard"                # --cutoff-mode: "hard", "soft" (runs in memory only)
//                                       # or "cautious" (idem); needs max_transfer/max_duration
//
//   [catalog]                           # defaults of `ferry catalog prune` (its flags win)
//   max_delete = "10%"                  # --max-delete: of the versions held; also serve's
//                                       # [[schedules]] catalog-prune (their own key wins)
//
//   [cache]                             # defaults of `ferry cache expire` and `cache serve`
//   max_delete = 1000                   # --max-delete: of the objects cached; also serve's
//                                       # [[serve.cache]] roles (their own key wins)
//
//   [replication]
//   server_side_copy_limit = "5GiB"     # largest version one CopyObject copies (same endpoint);
//                                       # larger ones: UploadPartCopy parts. At most 5 GiB.
//
//   [replication.buckets]               # S3 bucket ARNs of --replication-config files
//   "arn:aws:s3:::west-bucket" = "rb:west-bucket"
//
//   [[replication.rules]]               # `ferry replicate` (replicate/rules.h)
//   id = "docs"
//   priority = 1                        # default 0; the highest matching rule wins
//   status = "enabled"                  # or "disabled"
//   filter = { prefix = "docs/", tags = { team = "x" } }
//   destinations = [ { location = "rb:west-bucket/", storage_class = "STANDARD_IA" } ]
//                                       # or plain locations: ["rb:west-bucket/"]
//   # compressed transport to a destination (docs/design/replication.md): versions packed into
//   # archives on `staging` (in the destination's region, never its bucket) by the keys jobs,
//   # unpacked there by `ferry worker --role unpack --region REGION` (or the pass's own worker)
//   # destinations = [ { location = "rb:west/", transport = { compress = true, staging = "rb:stage/x", region = "B", level = 0 } } ]
//   # (TOML: an inline table stays on one line)
//   #   region: the unpack jobs' region (default: the staging remote's `region`)
//   #   level: zstd 1..19, 0 = adaptive (default); destinations sharing a staging share it
//   delete_markers = true               # default false; refused with a tag filter
//   existing_objects = true             # default true
//   versions = "all"                    # or "latest"
//   replica_modifications = false
//   replication_time = "15m"            # the SLA threshold of the replication metrics
//                                       # (replicate/sla.h): an age as --older-than takes it
//
//   [serve]                             # `ferry serve` (docs/design/serve.md)
//   listen = "127.0.0.1:9380"           # /events and /healthz; the admin paths (/metrics,
//                                       # /api/status, the dashboard) too while it is loopback
//   admin_listen = "127.0.0.1:9381"     # optional: the admin paths (and /healthz) here only
//   admin_token_env = "FERRY_ADMIN_TOKEN"  # optional: admin paths need Authorization: Bearer T
//   replicate = ["ra:photos"]           # sources replicated continuously by the rules above
//   scan_interval = "1h"                # the repair scan (also at start); plan::ParseAge text
//   token_env = "FERRY_EVENTS_TOKEN"    # event intake on: the token a notification carries
//                                       # (Authorization: Bearer T, or RGW's opaqueData T)
//   max_event_body = "1MiB"             # larger notification bodies: 413
//   max_waiting_events = 100000         # waiting event jobs per run past which events are left
//                                       # to the run's next scan (0: no bound)
//   insecure_no_auth = false            # true: POST /events without a token (a warning at
//                                       # start; refused with token_env)
//   tls_cert = "/etc/ferry/cert.pem"    # HTTPS: the listener's certificate (PEM, its chain
//   tls_key = "/etc/ferry/key.pem"      # after it) and its key (PEM, not encrypted); both
//
//   [[serve.sqs]]                       # an SQS queue the bucket notifies (serve/sqs_poller.h)
//   queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/photos-events"
//   remote = "ra"                       # its region and credentials sign the calls (optional:
//                                       # else the AWS environment chain)
//   endpoint = "http://127.0.0.1:5000"  # optional: default the queue URL's scheme://host[:port]
//   region = "eu-west-1"                # optional: default the remote's, else the queue URL's
//                                       # (sqs.REGION.amazonaws.com), else the environment's
//   wait_seconds = 20                   # long poll, 0 to 20
//   dead_letter_queue_url = "https://sqs.../photos-refused"   # optional: ferry moves a refused
//   max_receives = 5                    # message there at its max_receives-th delivery (only
//                                       # with dead_letter_queue_url; without it the queue's
//                                       # RedrivePolicy does)
//
//   [serve.replication_events]          # S3-style Replication: event records to a webhook
//   url = "https://hooks.example/ferry" # POSTed {"Records": [...]} (serve/replication_events.h)
//   token_env = "FERRY_HOOK_TOKEN"      # optional: Authorization: Bearer <its value>
//   events = ["failed", "missed-threshold", "after-threshold"]   # default: all three
//   ca_bundle = "/etc/ferry/hooks-ca.pem"   # optional, https only: the CAs the url is checked with
//   max_pending = 100000                # outbox rows kept at most (the oldest past it dropped)
//   batch = 100                         # records per POST, 1 to 1000
//
//   [[schedules]]                       # a command serve starts at these times, once per
//   name = "nightly-b"                  # occurrence across every serve of the store
//   at = "daily 02:00"                  # "hourly", "daily HH:MM", "Mon,Thu 06:00", "every 15m"
//                                       # (UTC; serve/schedule_at.h)
//   command = "sync"                    # a durable run on the state store
//   source = "ra:photos"                # sync: its source, destination and `delete`
//   destination = "rb:photos"
//   delete = false
//   grace = "1h"                        # optional: how late it may start (default its period)
//   # command = "cache-warm": source, cache = "rb:hot", prefixes = ["a/"], ttl = "24h"
//
//   [costs]                             # prices of the cost model (estimate/cost.h; every
//   per_gb = 0.02                       # value a number, 0 or more; defaults there): $/GB
//   per_cpu_second = 0.0000133          # between regions, $/CPU-second, $/1,000 PUT-class and
//   per_1000_put = 0.005                # GET-class requests, $/GB-month of staging and the
//   per_1000_get = 0.0004               # hours an archive stays there
//   per_gb_month_staging = 0.023
//   staging_hours = 1
//   [costs.pairs]                       # $/GB of one region pair (remotes' `region`)
//   "region-a->region-b" = 0.02
//
//   [[notify]]                          # told when a run ends (config_notify.h,
//   kind = "webhook"                    # docs/design/notify.md): webhook, sns, sqs, smtp
//   url = "https://hooks.example/ferry"
//   headers = { Authorization = { env = "HOOK_TOKEN" } }   # secrets from env or a file only
//   on = ["failed", "dead", "cut"]      # which ends (default all four and "done")
//
// Unknown keys and bad values are refused with one error naming the file, section and key.
//
// Pure parsing (no environment access); thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "plan/delete_limit.h"
#include "replicate/rules.h"
#include "transfer/cutoff.h"
#include "estimate/cost.h"
#include "estimate/store_prices.h"
#include "notify/target.h"

namespace ferry::app {

struct RemoteConfig {
  std::string name;
  std::string endpoint;  // "" = AWS default for the region
  std::string region;    // "" = from the environment, else us-east-1
  std::string addressing;  // "", "path" or "virtual"
  std::string profile;
  std::string access_key_id_env;
  std::string secret_access_key_env;
  std::string session_token_env;
  // The remote's buckets are S3 Express directory buckets (true), never are (false), or are
  // when named "*--x-s3" (nullopt). See s3/express.h.
  std::optional<bool> directory_bucket;
  // TLS (http::TlsSettings): the CA bundle the endpoint's certificate must chain to ("": the
  // system's CAs, or $AWS_CA_BUNDLE), and no check at all. Never both.
  std::string ca_bundle;
  bool insecure_skip_verify = false;
  // Credentials beyond keys and profiles (credentials/chain.h): a role assumed over the rest
  // of the remote's credentials, a command that prints them, or none at all (public buckets).
  std::string role_arn;
  std::string external_id;
  std::string role_session_name;
  int duration_seconds = 0;  // 0: the role's default; else 900..43200
  std::string credential_process;
  std::string sts_endpoint;  // "": $AWS_ENDPOINT_URL_STS, the remote's endpoint, or AWS's
  bool no_sign_request = false;
  // The store (app/providers.h): "" (AWS without an endpoint, else any S3-compatible store),
  // "aws", "oss", "cos", "kodo", "other".
  std::string provider;
  bool requester_pays = false;  // every request carries x-amz-request-payer: requester
  bool signature_v2 = false;    // signature = "v2": old stores (also lists with version 1)
  bool list_objects_v1 = false;  // stores without ListObjectsV2
  // Server-side encryption (app/encryption.h resolves it): `sse` "", "AES256" or "aws:kms";
  // the KMS key id (only with aws:kms); where the SSE-C key is (a file or an environment
  // variable's name: never the key). SSE-C excludes `sse`.
  std::string sse;
  std::string sse_kms_key_id;
  std::string sse_c_key_file;
  std::string sse_c_key_env;
  // type = "azure" (config_remotes.h, docs/design/azure.md): an Azure storage account, not an
  // S3 store. `endpoint` (Azurite's path style http://HOST:PORT/ACCOUNT) and the TLS keys as
  // above; the account; where its credentials are (variables' names and files, never the
  // secrets): an account key, a SAS token, or a connection string. "" = S3.
  std::string type;
  std::string account;
  std::string account_key_env;
  std::string account_key_file;
  std::string sas_token_env;
  std::string sas_token_file;
  std::string connection_string_env;
  // type = "gcs" (docs/design/gcs.md): a Google Cloud Storage endpoint, not an S3 store.
  // `endpoint` (an emulator's http://HOST:PORT; "" = Google's) and the TLS keys as above; the
  // service account's JSON key file ("" = GOOGLE_APPLICATION_CREDENTIALS), never the key
  // itself; `anonymous`: no token at all (an emulator).
  std::string credentials_file;
  bool anonymous = false;
  // [remotes.NAME.prices] (estimate/store_prices.h, docs/design/cost.md): what the store
  // charges; nullopt when the table is absent (s3:// on AWS then takes AWS's list prices, a
  // custom endpoint has none: its requests are counted, not priced).
  std::optional<estimate::StorePrices> prices;
  bool is_azure() const { return type == "azure"; }
  bool is_gcs() const { return type == "gcs"; }
};

struct TransferDefaults {
  std::optional<int> concurrency;
  std::optional<std::string> memory;
  std::optional<std::string> part_size;
  std::optional<std::string> multipart_threshold;
};

// [limits]: the process's limits (limits/limits.h) for every command reading this file; the
// command line's --bwlimit, --max-rps, --max-rps-burst and --no-adaptive-rate win over them. `ferry serve` applies
// them again on SIGHUP.
struct LimitsSettings {
  std::optional<std::string> bwlimit;  // checked: limits::BandwidthSchedule::Parse accepts it
  std::optional<double> max_rps;       // above 0
  std::optional<int> max_rps_burst;    // 1 and above
  std::optional<bool> adaptive;        // the adaptive rate per endpoint (default on)
};

// [sync]: defaults of `ferry sync`; its command line's flags win over them.
struct SyncSettings {
  // max_delete = 1000 or "10%": the --max-delete guard of `sync --delete` (plan/delete_limit.h).
  std::optional<plan::DeleteLimit> max_delete;
  // The cutoffs (transfer/cutoff.h, cli/commands/cutoff.h), checked when read: max_transfer a
  // size above 0, max_duration a duration of 1s or more, cutoff_mode only beside one of them.
  // Where a durable run refuses the flag, it refuses the key too, naming it.
  std::optional<uint64_t> max_transfer;
  std::optional<std::chrono::seconds> max_duration;
  std::optional<transfer::CutoffMode> cutoff_mode;
};

// [catalog]: defaults of `ferry catalog prune` and of serve's scheduled prunes.
struct CatalogSettings {
  // max_delete = 1000 or "10%": --max-delete, of the versions held at the location
  // (backup::PruneRequest::approve); a [[schedules]] entry's own max_delete wins.
  std::optional<plan::DeleteLimit> max_delete;
};

// [cache]: defaults of `ferry cache expire`, `ferry cache serve` and serve's [[serve.cache]].
struct CacheSettings {
  // max_delete = 1000 or "10%": --max-delete, of the objects the cache holds
  // (cache::ExpireOptions::approve); a [[serve.cache]] entry's own max_delete wins.
  std::optional<plan::DeleteLimit> max_delete;
};

struct ReplicationConfig {
  replicate::RuleSet rules;  // validated (replicate::Validate) and locations parsed
  std::vector<std::pair<std::string, std::string>> buckets;  // bucket ARN -> location
  std::optional<uint64_t> server_side_copy_limit;  // bytes, above 0
  // max_delete = 1000 or "10%": `ferry replicate`'s --max-delete when the flag is not given
  // (deletes of replicated delete markers at destinations that keep no versions).
  std::optional<plan::DeleteLimit> max_delete;
};

// One [[serve.sqs]] queue, as written (app/sqs.h resolves endpoint, region and credentials).
struct SqsQueueConfig {
  std::string queue_url;  // http(s)://host[:port]/path
  std::string remote;     // a [remotes] name, or ""
  std::string endpoint;   // "" = the queue URL's scheme://host[:port]
  std::string region;     // "" = the remote's, the queue URL's, the environment's
  int wait_seconds = 20;  // 0..20
  std::string dead_letter_queue_url;  // "" = the queue's RedrivePolicy moves refused messages
  int max_receives = 5;   // 1..1000; set only with dead_letter_queue_url
  // How an https queue endpoint's certificate is checked, over the remote's settings: a CA
  // bundle (PEM), or no check at all (warned at start). Neither: the remote's, else the system's.
  std::string ca_bundle;
  bool insecure_skip_verify = false;
};

// [serve.replication_events]: S3-style `Replication:` event records sent to a webhook
// (serve/replication_events.h; docs/design/serve.md, "Replication events"). Checked when read
// (config_replication_events.cc).
struct ReplicationEventsConfig {
  bool present = false;  // the table is there: records are kept and sent
  std::string url;        // http(s)://host[:port]/path the records are POSTed to
  std::string token_env;  // "": no Authorization; else "Bearer " + the variable's value
  // "failed", "missed-threshold", "after-threshold" (default: all three)
  std::vector<std::string> events = {"failed", "missed-threshold", "after-threshold"};
  std::string ca_bundle;  // PEM CA bundle for an https url ("": the system's)
  int64_t max_pending = 100000;  // outbox rows kept at most; the oldest past it are dropped
  int batch = 100;               // records per POST
};

// One [[serve.cache]] entry: cache expiry that `ferry serve` runs as `ferry cache serve --cache
// CACHE --state STATE --interval INTERVAL` would (docs/design/serve.md, "Roles").
struct CacheRoleConfig {
  std::string cache;  // the cache location, as `--cache` takes it (remote:bucket/prefix or a path)
  std::string state;  // the cache index's database; "": the command's default (cache.db)
  std::chrono::seconds interval{60};  // between expiry passes; at least 1s
  // The cache's size limits (max_size, a size as --max-size takes it; max_objects), 0 when not
  // set: exported as ferry_cache_max_bytes / ferry_cache_max_objects for the FerryCacheOverSize
  // alert (docs/design/alerts.md). Nothing evicts on them: expiry stays by TTL.
  uint64_t max_bytes = 0;
  uint64_t max_objects = 0;
  // max_delete = 1000 or "10%": each pass's --max-delete (a pass past it is refused, logged as
  // failed, nothing deleted); unset: [cache] max_delete, else none.
  std::optional<plan::DeleteLimit> max_delete;
};

// One [[serve.unpack]] entry: an unpack follower that `ferry serve` runs as `ferry unpack
// STAGING DESTINATION --follow INTERVAL` with the same options would.
struct UnpackRoleConfig {
  std::string staging;      // the staging location (remote:bucket/prefix)
  std::string destination;  // the destination the archives were packed for
  std::string region;       // --region: only the entries of this region ("": every entry)
  std::string state;        // --state; "": the command's automatic file per staging and destination
  std::string storage_class;  // --storage-class
  bool preserve_lock = false;  // --preserve-lock
  std::chrono::seconds interval{30};   // --follow: between listings; at least 1s
  std::chrono::seconds claim_ttl{60};  // --claim-ttl: 2s to 1 day
};

struct ServeConfig {
  bool present = false;  // the file has a [serve] table
  std::string listen = "127.0.0.1:9380";
  // The admin paths' listener ("": none; docs/design/serve.md, "Listeners") and the variable
  // holding their bearer token ("": none).
  std::string admin_listen;
  std::string admin_token_env;
  std::vector<std::string> replicate;  // source locations, as given
  std::chrono::seconds scan_interval{3600};
  std::string token_env;  // "": no event intake (unless sns_topics or insecure_no_auth)
  bool insecure_no_auth = false;  // POST /events takes events without a token
  std::string tls_cert;  // HTTPS with tls_key (checked when serve starts: http/server_tls.h)
  std::string tls_key;
  uint64_t max_event_body = 1 << 20;
  // Waiting replicate-event jobs per run past which events are acknowledged and left to the
  // run's next scan (serve::EventRecorder::SetMaxWaiting; serve::kDefaultMaxWaitingEvents); 0:
  // no bound.
  uint64_t max_waiting_events = 100'000;
  std::vector<SqsQueueConfig> sqs;  // [[serve.sqs]]
  // The regions whose unpack jobs (compressed transport) this serve runs itself; nullopt: every
  // region the rules' transported destinations name, as `ferry replicate` does; [] none (the
  // `ferry worker --role unpack --region R` near each destination do).
  std::optional<std::vector<std::string>> unpack_regions;
  // SNS envelopes of these topics are accepted once verified (serve/sns_gate.h); none: every
  // SNS envelope is refused. Each "arn:<partition>:sns:<region>:<account>:<name>".
  std::vector<std::string> sns_topics;
  std::string sns_ca_bundle;  // CA bundle for the SNS hosts; "": the system's (needs sns_topics)
  // TESTS ONLY: "HOST:PORT" where every SNS host is reached (the URL checks and the TLS name
  // check stay); refused without sns_ca_bundle. See docs/design/serve.md.
  std::string sns_test_connect_to;
  ReplicationEventsConfig replication_events;  // [serve.replication_events]
  std::vector<CacheRoleConfig> cache;    // [[serve.cache]] (config_roles.h)
  std::vector<UnpackRoleConfig> unpack;  // [[serve.unpack]]
};

// One [[schedules]] entry: a command `ferry serve` starts at cron-like times, once per
// occurrence across every serve of the state store (serve/schedule_at.h for `at`;
// docs/design/serve.md, "Schedules"). Checked when read (config_schedules.cc).
struct ScheduleConfig {
  std::string name;         // unique among the schedules
  std::string at;           // as written: "hourly", "daily 02:00", "Mon,Thu 06:00", "every 15m"
  std::string tz;           // the zone of `at`'s clock times ("": UTC), checked by ParseAt
  std::string command;      // "sync", "cache-warm", "backup" or "catalog-prune"
  std::string source;       // location text (sync, cache-warm, backup)
  std::string destination;  // sync: location text
  bool delete_extra = false;      // sync: `delete = true`
  std::string cache;                  // cache-warm: the cache location
  std::vector<std::string> prefixes;  // cache-warm: what to warm ("" = the whole bucket)
  std::chrono::seconds ttl{0};        // cache-warm: how long the objects stay cached
  std::string location;      // backup, catalog-prune: the backup location (BACKUP_LOC)
  int compress_level = 0;    // backup: --compress-level (0: adaptive); range checked by serve
  std::string archive_size;  // backup: --archive-size ("": 64MiB); checked by serve
  int max_attempts = 5;      // backup: --max-attempts
  uint64_t keep_last = 0;               // catalog-prune: --keep-last (0: not this rule)
  std::chrono::seconds keep_within{0};  // catalog-prune: --keep-within (0: not this rule)
  // catalog-prune: --max-delete (the prune past it is refused, the occurrence failed, nothing
  // forgotten); unset: [catalog] max_delete, else none.
  std::optional<plan::DeleteLimit> max_delete;
  std::chrono::seconds grace{0};  // how late an occurrence may still start; 0: its period
};

struct Config {
  std::vector<ScheduleConfig> schedules;  // [[schedules]]
  std::map<std::string, RemoteConfig> remotes;
  TransferDefaults transfer;
  LimitsSettings limits;
  SyncSettings sync;  // [sync]
  CatalogSettings catalog;  // [catalog]
  CacheSettings cache;      // [cache]
  ReplicationConfig replication;
  ServeConfig serve;
  estimate::Prices costs;
  std::vector<notify::Target> notify;  // [[notify]]: told when a run ends (config_notify.h)
  std::string source;  // file it came from, for messages
};

// Parses TOML text. Errors name the file, the line and the offending key.
Result<Config> ParseConfig(std::string_view text, std::string_view source_name);
// Reads and parses a file. kNotFound when it does not exist.
Result<Config> LoadConfigFile(const std::string& path);

}  // namespace ferry::app
