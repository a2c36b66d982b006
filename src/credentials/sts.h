// STS: the AWS Security Token Service calls that turn a role into temporary credentials —
// AssumeRole (signed with the caller's credentials: a profile's `source_profile`, a remote's
// keys) and AssumeRoleWithWebIdentity (unsigned; an OIDC token: EKS pods' service accounts).
// AWS's query protocol: POST / with a form body, an XML reply. Ceph RGW serves the same calls
// on its S3 endpoint (`rgw s3 auth use sts`), which is what tests/cli/credentials_test.sh uses.
//
// The form building and reply parsing are pure (tested against recorded replies); StsClient
// sends through the process's one HttpTransport, retrying a transient failure (network fault,
// 5xx, Throttling) twice with backoff slept on its Clock. Messages name the role and the
// endpoint, and quote the service's code and message; never a key, token or secret.
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "credentials/source.h"
#include "http/transport.h"
#include "s3/client.h"

namespace ferry::credentials {

struct AssumeRoleRequest {
  std::string role_arn;
  std::string session_name;  // "": "ferry-<unix seconds>"
  std::string external_id;   // "": none
  int duration_seconds = 0;  // 0: the role's default (one hour); else 900..43200
};

// The STS endpoint a role is assumed at: scheme://host[:port], and the region the call is
// signed for.
struct StsEndpoint {
  std::string url;
  std::string region = "us-east-1";
  std::optional<http::TlsSettings> tls;  // a remote's ca_bundle / insecure_skip_verify
};

// AWS's regional STS endpoint of `region`: https://sts.REGION.amazonaws.com, and
// .amazonaws.com.cn for the China regions (cn-north-1, cn-northwest-1). Pure.
std::string AwsStsEndpoint(std::string_view region);

// The form bodies (Version 2011-06-15), names and values URI-encoded. Pure.
std::string BuildAssumeRoleForm(const AssumeRoleRequest& request, std::string_view session_name);
std::string BuildWebIdentityForm(const AssumeRoleRequest& request, std::string_view session_name,
                                 std::string_view token);

// The <Credentials> of an AssumeRole[WithWebIdentity]Response. kInvalidArgument when it lacks
// the key id, the secret or the expiration, or the expiration is not an ISO 8601 time. Pure.
Result<Expiring> ParseStsCredentials(std::string_view xml);

// A reply of status `http_status` that is not a 2xx, as a Status naming `what`: 403 and
// AccessDenied -> kPermissionDenied, ExpiredTokenException / InvalidIdentityToken ->
// kPermissionDenied, NoSuchEntity -> kNotFound, 5xx and Throttling -> kUnavailable, other 4xx
// -> kInvalidArgument. The code and (quotable part of the) message are quoted. Pure.
Status StsFailure(int http_status, std::string_view body, const std::string& what);

class StsClient {
 public:
  StsClient(StsEndpoint endpoint, http::HttpTransport& http, Clock& clock);

  // AssumeRole signed with `signer`.
  Result<Expiring> AssumeRole(const AssumeRoleRequest& request, const s3::Credentials& signer);
  // AssumeRoleWithWebIdentity with the OIDC `token` (unsigned).
  Result<Expiring> AssumeRoleWithWebIdentity(const AssumeRoleRequest& request,
                                             std::string_view token);
  const StsEndpoint& endpoint() const { return endpoint_; }

 private:
  Result<Expiring> Call(const std::string& form, const s3::Credentials* signer,
                        const std::string& what);
  std::string SessionName(const AssumeRoleRequest& request) const;

  StsEndpoint endpoint_;
  http::HttpTransport& http_;
  Clock& clock_;
};

// A role assumed with the credentials of `base` (a source profile, the environment, a
// remote's keys): AssumeRole at each fetch.
class AssumeRoleSource : public Source {
 public:
  AssumeRoleSource(std::shared_ptr<StsClient> sts, AssumeRoleRequest request,
                   std::shared_ptr<s3::CredentialsProvider> base, std::string described_as);
  Result<Expiring> Fetch() override;
  std::string Describe() const override { return described_as_; }

 private:
  std::shared_ptr<StsClient> sts_;
  AssumeRoleRequest request_;
  std::shared_ptr<s3::CredentialsProvider> base_;
  std::string described_as_;
};

// A role assumed with the OIDC token in `token_file`, read again at each fetch (the kubelet
// rotates it).
class WebIdentitySource : public Source {
 public:
  WebIdentitySource(std::shared_ptr<StsClient> sts, AssumeRoleRequest request,
                    std::string token_file);
  Result<Expiring> Fetch() override;
  std::string Describe() const override;

 private:
  std::shared_ptr<StsClient> sts_;
  AssumeRoleRequest request_;
  std::string token_file_;
};

}  // namespace ferry::credentials
