// The credentials a compute service hands the process over HTTP:
//  - the ECS/EKS container endpoint: $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
//    http://169.254.170.2) or $AWS_CONTAINER_CREDENTIALS_FULL_URI (https anywhere; http only to
//    an IP literal in 127.0.0.0/8, ::1, 169.254.170.2, 169.254.170.23 or fd00:ec2::23, as the
//    SDKs allow, or to the name "localhost" itself; never with a user name or password), read
//    by libcurl's own parser (http/url.h) so that the host checked is the host the token goes
//    to, with the Authorization header from $AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read at
//    each fetch) or $AWS_CONTAINER_AUTHORIZATION_TOKEN;
//  - EC2's instance metadata service, IMDSv2: PUT /latest/api/token (a six-hour session token,
//    kept), then GET /latest/meta-data/iam/security-credentials/ (the role's name, kept) and
//    GET .../ROLE; on $AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254, each call
//    with a 1 s timeout like the SDKs (an instance answers in milliseconds; elsewhere the
//    address does not answer at all). A 404 or 405 to the token PUT falls back to IMDSv1 (no
//    token); a 401 to a GET takes a new token once. $AWS_EC2_METADATA_DISABLED=true turns it
//    off (chain.h).
// Both answer {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"} JSON.
// Requests go through the process's one HttpTransport. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "credentials/source.h"
#include "http/transport.h"

namespace ferry::credentials {

// The JSON both endpoints answer. kInvalidArgument when it is not JSON, has a "Code" other
// than "Success", or lacks a field; never quotes the document. Pure.
Result<Expiring> ParseMetadataCredentials(std::string_view json);

struct ContainerEndpoint {
  std::string url;
  std::string token;       // the Authorization header's value, or ""
  std::string token_file;  // read at each fetch instead of `token`, or ""
};

// The container endpoint the environment names: nullopt when neither URI variable is set;
// kInvalidArgument for a URI that is not an http(s) URL, holds a login ("user@"), or is http to
// a host other than those above (the message never quotes a URL holding a login).
Result<std::optional<ContainerEndpoint>> ContainerEndpointFromEnvironment();

class ContainerSource : public Source {
 public:
  ContainerSource(ContainerEndpoint endpoint, http::HttpTransport& http);
  Result<Expiring> Fetch() override;
  std::string Describe() const override;

 private:
  ContainerEndpoint endpoint_;
  http::HttpTransport& http_;
};

struct ImdsOptions {
  std::string endpoint = "http://169.254.169.254";  // $AWS_EC2_METADATA_SERVICE_ENDPOINT
  int timeout_ms = 1000;
  Clock* clock = nullptr;  // null: the system clock (ClockOr)
};

class ImdsSource : public Source {
 public:
  ImdsSource(ImdsOptions options, http::HttpTransport& http);
  Result<Expiring> Fetch() override;
  std::string Describe() const override;

 private:
  // One GET of `path` with the session token (taken or renewed as needed).
  Result<std::string> Get(const std::string& path);
  Status TakeToken();

  ImdsOptions options_;
  http::HttpTransport& http_;
  Clock& clock_;
  std::mutex mu_;
  std::string token_;                                   // GUARDED_BY(mu_); "" with IMDSv1
  bool v1_ = false;                                     // GUARDED_BY(mu_)
  std::chrono::system_clock::time_point token_until_;  // GUARDED_BY(mu_)
  std::string role_;                                    // GUARDED_BY(mu_)
};

}  // namespace ferry::credentials
