// IAM Identity Center (SSO) profiles: the role credentials of an account, fetched with the
// access token that `aws sso login` left in the SSO token cache — the same files the AWS CLI
// reads, so a user who logged in with it runs ferry without more steps:
//   [profile dev]                        [sso-session corp]
//   sso_session = corp                   sso_start_url = https://corp.awsapps.com/start
//   sso_account_id = 111122223333        sso_region = eu-west-1
//   sso_role_name = Migrate
// (or the legacy form: sso_start_url and sso_region in the profile itself). The token is read
// from ~/.aws/sso/cache/<sha1 hex of the session name, or of the start URL>.json
// ({"accessToken", "expiresAt"}); GET /federation/credentials?account_id=..&role_name=.. at
// the portal (https://portal.sso.REGION.amazonaws.com, or $AWS_ENDPOINT_URL_SSO) with header
// x-amz-sso_bearer_token answers {"roleCredentials": {"accessKeyId", "secretAccessKey",
// "sessionToken", "expiration" (milliseconds since the epoch)}}. ferry never logs in itself: an
// expired or missing token is one line saying to run `aws sso login`.
// Thread-safe.
#pragma once

#include <string>

#include "base/clock.h"
#include "credentials/source.h"
#include "http/transport.h"
#include "s3/credentials.h"

namespace ferry::credentials {

struct SsoProfile {
  std::string profile;
  std::string account_id;
  std::string role_name;
  std::string region;      // sso_region
  std::string portal;      // scheme://host of the portal
  std::string cache_file;  // the token's file
};

// The SSO settings of profile `name` (its section `p`), its sso-session's when it names one.
// kInvalidArgument naming the setting that is missing. Reads the config file.
Result<SsoProfile> ReadSsoProfile(const std::string& name, const s3::ProfileSection& p);

// The portal's reply read into a set; kInvalidArgument when it lacks a field. Pure.
Result<Expiring> ParseSsoRoleCredentials(std::string_view json);

class SsoSource : public Source {
 public:
  SsoSource(SsoProfile profile, http::HttpTransport& http, Clock& clock);
  Result<Expiring> Fetch() override;
  std::string Describe() const override;

 private:
  SsoProfile profile_;
  http::HttpTransport& http_;
  Clock& clock_;
};

}  // namespace ferry::credentials
