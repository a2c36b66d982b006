// The credential chain: where a remote's (or the AWS environment's) credentials come from, as
// the AWS CLI looks for them, turned into one s3::CredentialsProvider.
//
// A remote (or the command line, with no remote) first:
//   keys      a remote's access_key_id_env/secret_access_key_env, read by the caller
//   process   a remote's credential_process
//   profile   a remote's profile (an explicit profile skips the environment's keys, like the
//             AWS CLI's --profile)
// then, with no remote setting, the default chain:
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
//   2. AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME): EKS
//   3. the profile ($AWS_PROFILE or "default") in the shared files, when it exists
//   4. the ECS container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / FULL_URI)
//   5. EC2's instance metadata (IMDSv2), unless AWS_EC2_METADATA_DISABLED=true
// A profile's settings, in the order the AWS CLI honours them: role_arn (with source_profile,
// credential_source = Environment | Ec2InstanceMetadata | EcsContainer, or
// web_identity_token_file; external_id, duration_seconds, role_session_name; mfa_serial is
// refused: ferry cannot prompt for a code), aws_access_key_id + aws_secret_access_key
// (+ aws_session_token), credential_process, sso_* (the SSO token cache, sso.h). A remote's
// role_arn (with external_id, duration_seconds, role_session_name) assumes that role over
// whatever the rest of its settings resolve to.
//
// STS is called at: the remote's sts_endpoint, else $AWS_ENDPOINT_URL_STS, else the remote's
// S3 endpoint when it has one (Ceph RGW and MinIO serve STS there), else AWS's regional
// endpoint (sts.REGION.amazonaws.com[.cn]).
//
// Temporary credentials (roles, processes with an Expiration, container and instance
// credentials) are wrapped in a RefreshingProvider; fixed keys in s3::StaticCredentials.
// Resolve fetches once, so a wrong role or a command that fails is one error line before any
// transfer. Called at start-up by the composition root (app/wiring.cc); reads the environment
// and files. Not thread-safe (the providers it returns are).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "credentials/refreshing.h"
#include "http/transport.h"
#include "s3/client.h"

namespace ferry::credentials {

struct RoleSettings {
  std::string role_arn;  // "": none
  std::string external_id;
  std::string session_name;
  int duration_seconds = 0;  // 0: the role's default
};

struct ChainSettings {
  std::string name;  // "remote 'ra'" for messages; "" without a remote
  std::optional<s3::Credentials> keys;  // a remote's keys (from its environment variables)
  std::string credential_process;       // a remote's
  std::string profile;                  // explicit profile; "": $AWS_PROFILE or "default"
  RoleSettings role;                    // a remote's role over the rest
  bool anonymous = false;               // --no-sign-request: no credentials, unsigned
  // Where STS is called (see above), and how its certificate is checked.
  std::string sts_endpoint;
  std::string s3_endpoint;  // the remote's S3 endpoint; "": AWS
  std::string region;       // the region STS calls are signed for
  std::optional<http::TlsSettings> tls;
};

struct ChainContext {
  http::HttpTransport* http = nullptr;  // the process's transport; required
  Clock* clock = nullptr;               // null: the system clock (ClockOr)
  RefreshOptions refresh;               // its clock is `clock`
  std::string imds_endpoint;  // "": $AWS_EC2_METADATA_SERVICE_ENDPOINT or 169.254.169.254
};

struct ResolvedCredentials {
  std::shared_ptr<s3::CredentialsProvider> provider;
  // Where they come from, stable across calls and free of secrets: two locations with the same
  // identity (and endpoint) share one S3 client and can copy on the server. "keys:AKIA...",
  // "role:ARN<-keys:AKIA...", "process:COMMAND", "imds", "container:URL", "anonymous".
  std::string identity;
  std::string described;  // for messages: "role arn:... (profile \"p\")"
};

// Errors: kNotFound (no source has credentials: the message names the profile, the files and
// what else was tried), kInvalidArgument (a profile or remote setting that cannot work: MFA,
// role_arn without a source, a source_profile loop, half a key pair), and the first fetch's
// error (kPermissionDenied: the role refused us, a credential_process that failed).
Result<ResolvedCredentials> ResolveCredentials(const ChainSettings& settings,
                                               const ChainContext& context);

}  // namespace ferry::credentials
