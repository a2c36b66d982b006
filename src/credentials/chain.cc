#include "credentials/chain.h"

#include <charconv>
#include <cstdlib>

#include "credentials/env.h"
#include "credentials/metadata.h"
#include "credentials/process.h"
#include "credentials/sso.h"
#include "credentials/sts.h"
#include "s3/credentials.h"
#include "s3/sigv4.h"

namespace ferry::credentials {
namespace {

constexpr int kMaxProfileDepth = 5;

std::string Quoted(const std::string& profile) { return "profile \"" + profile + "\""; }

bool IsAwsHost(std::string_view url) {
  std::string_view host = s3::sigv4::UrlAuthority(url);
  if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
}

class Resolver {
 public:
  Resolver(const ChainSettings& settings, const ChainContext& context)
      : s_(settings),
        c_(context),
        clock_(ClockOr(context.clock)) {}

  Result<ResolvedCredentials> Resolve() {
    if (s_.anonymous) {
      return ResolvedCredentials{std::make_shared<s3::StaticCredentials>(s3::Credentials{}),
                                 "anonymous", "no credentials (unsigned requests)"};
    }
    ResolvedCredentials base;
    if (s_.keys) {
      base = Static(*s_.keys, s_.name + "'s keys");
    } else if (!s_.credential_process.empty()) {
      base = Refreshing(std::make_unique<ProcessSource>(
                            s_.credential_process, "credential_process of " + s_.name,
                            ProcessOptions{std::chrono::seconds(60), &clock_}),
                        "process:" + s_.credential_process);
    } else if (!s_.profile.empty()) {
      FERRY_ASSIGN_OR_RETURN(auto found, Profile(s_.profile, 0, /*required=*/true));
      base = *std::move(found);
    } else {
      FERRY_ASSIGN_OR_RETURN(base, DefaultChain());
    }
    if (!s_.role.role_arn.empty()) {
      FERRY_ASSIGN_OR_RETURN(base, Role(s_.role, std::move(base), s_.name));
    }
    // One fetch now: a refused role or a failing command is one line before any transfer.
    Result<s3::Credentials> first = base.provider->Get();
    if (!first.ok()) return first.status();
    return base;
  }

 private:
  ResolvedCredentials Static(const s3::Credentials& keys, std::string described) {
    return ResolvedCredentials{std::make_shared<s3::StaticCredentials>(keys),
                               "keys:" + keys.access_key_id, std::move(described)};
  }

  ResolvedCredentials Refreshing(std::unique_ptr<Source> source, std::string identity) {
    std::string described = source->Describe();
    RefreshOptions options = c_.refresh;
    options.clock = &clock_;
    return ResolvedCredentials{std::make_shared<RefreshingProvider>(std::move(source), options),
                               std::move(identity), std::move(described)};
  }

  std::shared_ptr<StsClient> Sts() {
    if (sts_) return sts_;
    StsEndpoint endpoint;
    endpoint.region = s_.region.empty() ? "us-east-1" : s_.region;
    endpoint.url = s_.sts_endpoint;
    if (endpoint.url.empty()) endpoint.url = EnvOrEmpty("AWS_ENDPOINT_URL_STS");
    if (endpoint.url.empty() && !s_.s3_endpoint.empty() && !IsAwsHost(s_.s3_endpoint)) {
      endpoint.url = s_.s3_endpoint;
    }
    if (endpoint.url.empty()) endpoint.url = AwsStsEndpoint(endpoint.region);
    if (endpoint.url.starts_with("https://") &&
        (endpoint.url == s_.s3_endpoint || endpoint.url == s_.sts_endpoint)) {
      endpoint.tls = s_.tls;
    }
    sts_ = std::make_shared<StsClient>(std::move(endpoint), *c_.http, clock_);
    return sts_;
  }

  Result<ResolvedCredentials> Role(const RoleSettings& role, ResolvedCredentials base,
                                   const std::string& where) {
    AssumeRoleRequest request{role.role_arn, role.session_name, role.external_id,
                              role.duration_seconds};
    std::string described = "role " + role.role_arn + (where.empty() ? "" : " (" + where + ")");
    std::string identity = "role:" + role.role_arn + "<-" + base.identity;
    return Refreshing(std::make_unique<AssumeRoleSource>(Sts(), std::move(request),
                                                         std::move(base.provider), described),
                      std::move(identity));
  }

  static Result<int> Duration(const s3::ProfileSection& p, const std::string& where) {
    auto it = p.find("duration_seconds");
    if (it == p.end()) return 0;
    int v = 0;
    const auto [end, ec] = std::from_chars(it->second.data(),
                                           it->second.data() + it->second.size(), v);
    if (ec != std::errc() || end != it->second.data() + it->second.size() || v < 900 ||
        v > 43200) {
      return Status::InvalidArgument(where + ": duration_seconds '" + it->second +
                                     "' is not a number of seconds from 900 to 43200");
    }
    return v;
  }

  static std::string ProfileValue(const s3::ProfileSection& p, const char* key) {
    auto it = p.find(key);
    return it == p.end() ? std::string() : it->second;
  }

  // The static keys a profile holds (aws_access_key_id, aws_secret_access_key, session token).
  ResolvedCredentials ProfileKeys(const s3::ProfileSection& p, const std::string& where) {
    return Static(s3::Credentials{ProfileValue(p, "aws_access_key_id"),
                                  ProfileValue(p, "aws_secret_access_key"),
                                  ProfileValue(p, "aws_session_token")},
                  where + "'s keys");
  }

  // The credentials profile `name` names. nullopt (when not `required`) for a profile that is
  // absent or holds none.
  Result<std::optional<ResolvedCredentials>> Profile(const std::string& name, int depth,
                                                     bool required) {
    std::string files;
    std::optional<s3::ProfileSection> p = s3::ReadProfile(name, &files);
    const std::string where = Quoted(name);
    if (!p) {
      if (!required) return std::optional<ResolvedCredentials>();
      return Status::NotFound(where + " is in neither " + files);
    }
    auto get = [&p](const char* key) { return ProfileValue(*p, key); };
    const std::string key_id = get("aws_access_key_id");
    const std::string secret = get("aws_secret_access_key");
    if (key_id.empty() != secret.empty()) {
      return Status::InvalidArgument(where + " in " + files + " has " +
                                     (key_id.empty()
                                          ? "aws_secret_access_key without aws_access_key_id"
                                          : "aws_access_key_id without aws_secret_access_key"));
    }
    if (!get("role_arn").empty()) {
      FERRY_ASSIGN_OR_RETURN(ResolvedCredentials role, RoleProfile(name, *p, depth));
      return std::optional<ResolvedCredentials>(std::move(role));
    }
    if (!key_id.empty()) return std::optional<ResolvedCredentials>(ProfileKeys(*p, where));
    if (const std::string command = get("credential_process"); !command.empty()) {
      return std::optional<ResolvedCredentials>(
          Refreshing(std::make_unique<ProcessSource>(command, "credential_process of " + where,
                                                     ProcessOptions{std::chrono::seconds(60),
                                                                    &clock_}),
                     "process:" + command));
    }
    if (!get("sso_start_url").empty() || !get("sso_session").empty()) {
      FERRY_ASSIGN_OR_RETURN(SsoProfile sso, ReadSsoProfile(name, *p));
      std::string identity = "sso:" + sso.account_id + ":" + sso.role_name;
      return std::optional<ResolvedCredentials>(
          Refreshing(std::make_unique<SsoSource>(std::move(sso), *c_.http, clock_), std::move(identity)));
    }
    if (!required) return std::optional<ResolvedCredentials>();
    return Status::NotFound(where + " in " + files +
                            " has no credentials (aws_access_key_id, role_arn, "
                            "credential_process or sso_session)");
  }

  // A profile with role_arn: the role assumed with web identity, or from the one base its
  // source_profile or credential_source names.
  Result<ResolvedCredentials> RoleProfile(const std::string& name, const s3::ProfileSection& p,
                                          int depth) {
    const std::string where = Quoted(name);
    auto get = [&p](const char* key) { return ProfileValue(p, key); };
    const std::string role_arn = get("role_arn");
    if (!get("mfa_serial").empty()) {
      return Status::InvalidArgument(
          where + " asks for an MFA code (mfa_serial): ferry runs unattended and cannot "
                  "prompt for one; use a role without MFA, or put the credentials of `aws sts "
                  "get-session-token` in the environment");
    }
    FERRY_ASSIGN_OR_RETURN(int duration, Duration(p, where));
    RoleSettings role{role_arn, get("external_id"), get("role_session_name"), duration};
    const std::string token_file = get("web_identity_token_file");
    const int sources = !get("source_profile").empty() + !get("credential_source").empty() +
                        !token_file.empty();
    if (sources != 1) {
      return Status::InvalidArgument(
          where + " has role_arn with " + (sources == 0 ? "none" : "more than one") +
          " of source_profile, credential_source and web_identity_token_file");
    }
    if (!token_file.empty()) {
      AssumeRoleRequest request{role.role_arn, role.session_name, "", role.duration_seconds};
      return Refreshing(
          std::make_unique<WebIdentitySource>(Sts(), std::move(request), token_file),
          "web-identity:" + role_arn);
    }
    FERRY_ASSIGN_OR_RETURN(ResolvedCredentials base, RoleBase(name, p, depth));
    return Role(role, std::move(base), where);
  }

  // The credentials a role profile assumes its role with: its source_profile's (its own keys
  // when it names itself) or its credential_source's.
  Result<ResolvedCredentials> RoleBase(const std::string& name, const s3::ProfileSection& p,
                                       int depth) {
    const std::string where = Quoted(name);
    const std::string source_profile = ProfileValue(p, "source_profile");
    const std::string credential_source = ProfileValue(p, "credential_source");
    if (!source_profile.empty()) {
      if (source_profile == name) {
        if (ProfileValue(p, "aws_access_key_id").empty()) {
          return Status::InvalidArgument(where + " is its own source_profile but has no "
                                                 "aws_access_key_id");
        }
        return ProfileKeys(p, where);
      }
      if (depth + 1 >= kMaxProfileDepth) {
        return Status::InvalidArgument(where + ": source_profile chain deeper than " +
                                       std::to_string(kMaxProfileDepth) + " profiles (a loop?)");
      }
      FERRY_ASSIGN_OR_RETURN(auto found, Profile(source_profile, depth + 1, true));
      return *std::move(found);
    }
    if (credential_source == "Environment") {
      FERRY_ASSIGN_OR_RETURN(auto env, EnvironmentKeys());
      if (!env) {
        return Status::InvalidArgument(where + " has credential_source = Environment but "
                                               "AWS_ACCESS_KEY_ID is not set");
      }
      return *std::move(env);
    }
    if (credential_source == "Ec2InstanceMetadata") return Imds();
    if (credential_source == "EcsContainer") {
      FERRY_ASSIGN_OR_RETURN(auto container, Container());
      if (!container) {
        return Status::InvalidArgument(
            where + " has credential_source = EcsContainer but neither "
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is set");
      }
      return *std::move(container);
    }
    return Status::InvalidArgument(where + ": credential_source '" + credential_source +
                                   "' is not Environment, Ec2InstanceMetadata or "
                                   "EcsContainer");
  }

  Result<std::optional<ResolvedCredentials>> EnvironmentKeys() {
    s3::Credentials env{EnvOrEmpty("AWS_ACCESS_KEY_ID"), EnvOrEmpty("AWS_SECRET_ACCESS_KEY"),
                        EnvOrEmpty("AWS_SESSION_TOKEN")};
    if (env.access_key_id.empty() && env.secret_access_key.empty()) {
      return std::optional<ResolvedCredentials>();
    }
    if (env.access_key_id.empty() || env.secret_access_key.empty()) {
      return Status::InvalidArgument(
          env.access_key_id.empty() ? "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
                                    : "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }
    return std::optional<ResolvedCredentials>(Static(env, "the environment's keys"));
  }

  Result<std::optional<ResolvedCredentials>> Container() {
    FERRY_ASSIGN_OR_RETURN(auto endpoint, ContainerEndpointFromEnvironment());
    if (!endpoint) return std::optional<ResolvedCredentials>();
    std::string identity = "container:" + endpoint->url;
    return std::optional<ResolvedCredentials>(
        Refreshing(std::make_unique<ContainerSource>(*std::move(endpoint), *c_.http),
                   std::move(identity)));
  }

  ResolvedCredentials Imds() {
    ImdsOptions options;
    options.clock = &clock_;
    options.endpoint = c_.imds_endpoint;
    if (options.endpoint.empty()) options.endpoint = EnvOrEmpty("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (options.endpoint.empty()) options.endpoint = "http://169.254.169.254";
    return Refreshing(std::make_unique<ImdsSource>(options, *c_.http), "imds");
  }

  Result<ResolvedCredentials> DefaultChain() {
    FERRY_ASSIGN_OR_RETURN(auto env, EnvironmentKeys());
    if (env) return *std::move(env);
    const std::string token_file = EnvOrEmpty("AWS_WEB_IDENTITY_TOKEN_FILE");
    const std::string role_arn = EnvOrEmpty("AWS_ROLE_ARN");
    if (!token_file.empty() && !role_arn.empty()) {
      AssumeRoleRequest request{role_arn, EnvOrEmpty("AWS_ROLE_SESSION_NAME"), "", 0};
      return Refreshing(std::make_unique<WebIdentitySource>(Sts(), std::move(request),
                                                            token_file),
                        "web-identity:" + role_arn);
    }
    const std::string profile = s3::ProfileName("");
    const bool named = !EnvOrEmpty("AWS_PROFILE").empty();
    FERRY_ASSIGN_OR_RETURN(auto from_profile, Profile(profile, 0, /*required=*/named));
    if (from_profile) return *std::move(from_profile);
    FERRY_ASSIGN_OR_RETURN(auto container, Container());
    if (container) return *std::move(container);
    std::string files;
    (void)s3::ReadProfile(profile, &files);
    const std::string none = "no credentials for " + Quoted(profile) +
                             ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add the "
                             "profile to " +
                             files;
    const std::string disabled = EnvOrEmpty("AWS_EC2_METADATA_DISABLED");
    if (disabled == "true" || disabled == "TRUE" || disabled == "1") {
      return Status::NotFound(none + " (EC2 instance metadata disabled)");
    }
    ResolvedCredentials imds = Imds();
    Result<s3::Credentials> first = imds.provider->Get();
    if (!first.ok()) {
      return Status::NotFound(none + " (and no EC2 instance metadata: " +
                              first.status().message() + ")");
    }
    return imds;
  }

  const ChainSettings& s_;
  const ChainContext& c_;
  Clock& clock_;
  std::shared_ptr<StsClient> sts_;
};

}  // namespace

Result<ResolvedCredentials> ResolveCredentials(const ChainSettings& settings,
                                               const ChainContext& context) {
  if (context.http == nullptr) return Status::Internal("ResolveCredentials without a transport");
  return Resolver(settings, context).Resolve();
}

}  // namespace ferry::credentials
