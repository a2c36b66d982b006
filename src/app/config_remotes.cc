// [remotes.NAME] of the config file (config_remotes.h).
#include "app/config_remotes.h"

#include "app/config_keys.h"
#include "app/providers.h"
#include "s3/credentials.h"

namespace ferry::app {
namespace {

// A remote's TLS keys: ca_bundle (a path, not empty) or insecure_skip_verify, for https only.
Status ParseRemoteTls(const toml::table& t, const std::string& where, RemoteConfig& r) {
  FERRY_RETURN_IF_ERROR(ReadString(t, "ca_bundle", r.ca_bundle, where));
  if (t.get("ca_bundle") != nullptr && r.ca_bundle.empty()) {
    return Status::InvalidArgument(where + ": 'ca_bundle' is empty");
  }
  if (const toml::node* n = t.get("insecure_skip_verify")) {
    if (!n->is_boolean()) {
      return Status::InvalidArgument(where + ": 'insecure_skip_verify' must be true or false");
    }
    r.insecure_skip_verify = n->value<bool>().value_or(false);
  }
  if (!r.ca_bundle.empty() && r.insecure_skip_verify) {
    return Status::InvalidArgument(where + ": 'ca_bundle' and 'insecure_skip_verify = true' "
                                           "together: with no check the bundle is not used");
  }
  const char* key = !r.ca_bundle.empty()       ? "ca_bundle"
                    : r.insecure_skip_verify   ? "insecure_skip_verify"
                                               : nullptr;
  if (key != nullptr && r.endpoint.rfind("http://", 0) == 0) {
    return Status::InvalidArgument(where + ": '" + key + "' is for https:// endpoints, not " +
                                   r.endpoint);
  }
  return Status::Ok();
}

// A remote's credential settings beyond keys and profile (credentials/chain.h); the ones
// that cannot go together are refused.
Status ParseRemoteCredentials(const toml::table& t, const std::string& where, RemoteConfig& r) {
  for (auto [key, out] : {std::pair{"role_arn", &r.role_arn},
                          std::pair{"external_id", &r.external_id},
                          std::pair{"role_session_name", &r.role_session_name},
                          std::pair{"credential_process", &r.credential_process},
                          std::pair{"sts_endpoint", &r.sts_endpoint}}) {
    FERRY_RETURN_IF_ERROR(ReadString(t, key, *out, where));
    if (t.get(key) != nullptr && out->empty()) {
      return Status::InvalidArgument(where + ": '" + key + "' is empty");
    }
  }
  if (const toml::node* n = t.get("duration_seconds")) {
    const std::optional<int64_t> v = n->value<int64_t>();
    if (!n->is_integer() || !v || *v < 900 || *v > 43200) {
      return Status::InvalidArgument(where +
                                     ": 'duration_seconds' must be a whole number from 900 to "
                                     "43200");
    }
    r.duration_seconds = static_cast<int>(*v);
  }
  if (const toml::node* n = t.get("no_sign_request")) {
    if (!n->is_boolean()) {
      return Status::InvalidArgument(where + ": 'no_sign_request' must be true or false");
    }
    r.no_sign_request = n->value<bool>().value_or(false);
  }
  if (r.role_arn.empty()) {
    for (const char* key : {"external_id", "role_session_name", "duration_seconds"}) {
      if (t.get(key) != nullptr) {
        return Status::InvalidArgument(where + ": '" + key + "' is a setting of role_arn, "
                                                                "which is not set");
      }
    }
  }
  if (!r.sts_endpoint.empty() && !r.sts_endpoint.starts_with("http://") &&
      !r.sts_endpoint.starts_with("https://")) {
    return Status::InvalidArgument(where + ": sts_endpoint must start with http:// or https://");
  }
  const int sources = !r.access_key_id_env.empty() + !r.profile.empty() +
                      !r.credential_process.empty() + r.no_sign_request;
  if (sources > 1) {
    return Status::InvalidArgument(
        where + ": name one source of credentials: access_key_id_env, profile, "
                "credential_process or no_sign_request");
  }
  if (r.no_sign_request && !r.role_arn.empty()) {
    return Status::InvalidArgument(where + ": 'role_arn' with 'no_sign_request': a role needs "
                                           "credentials to be assumed with");
  }
  return Status::Ok();
}

// A remote's server-side encryption keys (app/encryption.h reads the key itself).
Status ParseRemoteSse(const toml::table& t, const std::string& where, RemoteConfig& r) {
  FERRY_RETURN_IF_ERROR(ReadString(t, "sse", r.sse, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "sse_kms_key_id", r.sse_kms_key_id, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "sse_c_key_file", r.sse_c_key_file, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "sse_c_key_env", r.sse_c_key_env, where));
  if (!r.sse.empty() && r.sse != "AES256" && r.sse != "aws:kms") {
    return Status::InvalidArgument(where + ": 'sse' must be \"AES256\" or \"aws:kms\"");
  }
  if (!r.sse_kms_key_id.empty() && r.sse != "aws:kms") {
    return Status::InvalidArgument(where + ": 'sse_kms_key_id' needs sse = \"aws:kms\"");
  }
  if (!r.sse_c_key_file.empty() && !r.sse_c_key_env.empty()) {
    return Status::InvalidArgument(where + ": 'sse_c_key_file' and 'sse_c_key_env' together: "
                                           "name the SSE-C key one way");
  }
  if (!r.sse.empty() && (!r.sse_c_key_file.empty() || !r.sse_c_key_env.empty())) {
    return Status::InvalidArgument(where + ": 'sse' and an SSE-C key together: an object is "
                                           "encrypted one way");
  }
  return Status::Ok();
}

// [remotes.NAME] with type = "azure": its own keys only (an S3 key there is refused as unknown).
Status ParseAzureRemote(const toml::table& t, const std::string& where, RemoteConfig& r) {
  static const char* kAzureKnown[] = {"type", "endpoint", "account", "account_key_env",
                                      "account_key_file", "sas_token_env", "sas_token_file",
                                      "connection_string_env", "ca_bundle",
                                      "insecure_skip_verify"};
  for (const auto& [k, v] : t) {
    bool known = false;
    for (const char* want : kAzureKnown) known = known || k.str() == want;
    if (known) continue;
    if (k.str() == "account_key" || k.str() == "sas_token" || k.str() == "connection_string") {
      const std::string key(k.str());
      const std::string file =
          key == "connection_string" ? "" : " or a file with '" + key + "_file'";
      return Status::InvalidArgument(where + ": secrets do not belong in the config file; name "
                                     "an environment variable with '" + key + "_env'" + file);
    }
    return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) +
                                   "' for type = \"azure\"");
  }
  for (auto [key, out] : {std::pair{"endpoint", &r.endpoint}, std::pair{"account", &r.account},
                          std::pair{"account_key_env", &r.account_key_env},
                          std::pair{"account_key_file", &r.account_key_file},
                          std::pair{"sas_token_env", &r.sas_token_env},
                          std::pair{"sas_token_file", &r.sas_token_file},
                          std::pair{"connection_string_env", &r.connection_string_env}}) {
    FERRY_RETURN_IF_ERROR(ReadString(t, key, *out, where));
    if (t.get(key) != nullptr && out->empty()) {
      return Status::InvalidArgument(where + ": '" + key + "' is empty");
    }
  }
  if (!r.endpoint.empty() && !r.endpoint.starts_with("http://") &&
      !r.endpoint.starts_with("https://")) {
    return Status::InvalidArgument(where + ": endpoint must start with http:// or https://");
  }
  const int sources = !r.account_key_env.empty() + !r.account_key_file.empty() +
                      !r.sas_token_env.empty() + !r.sas_token_file.empty() +
                      !r.connection_string_env.empty();
  if (sources > 1) {
    return Status::InvalidArgument(where + ": name one source of credentials: account_key_env, "
                                           "account_key_file, sas_token_env, sas_token_file or "
                                           "connection_string_env");
  }
  if (r.account.empty() && r.connection_string_env.empty()) {
    return Status::InvalidArgument(where + ": 'account' is not set (the storage account's name)");
  }
  return ParseRemoteTls(t, where, r);
}

// [remotes.NAME] with type = "gcs": its own keys only; a key is named by its file, never inline.
Status ParseGcsRemote(const toml::table& t, const std::string& where, RemoteConfig& r) {
  static const char* kGcsKnown[] = {"type", "endpoint", "credentials_file", "anonymous",
                                    "ca_bundle", "insecure_skip_verify"};
  for (const auto& [k, v] : t) {
    bool known = false;
    for (const char* want : kGcsKnown) known = known || k.str() == want;
    if (known) continue;
    if (k.str() == "private_key" || k.str() == "credentials" || k.str() == "credentials_json") {
      return Status::InvalidArgument(where + ": secrets do not belong in the config file; name "
                                     "the service account's key file with 'credentials_file' "
                                     "(or set GOOGLE_APPLICATION_CREDENTIALS)");
    }
    return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) +
                                   "' for type = \"gcs\"");
  }
  for (auto [key, out] : {std::pair{"endpoint", &r.endpoint},
                          std::pair{"credentials_file", &r.credentials_file}}) {
    FERRY_RETURN_IF_ERROR(ReadString(t, key, *out, where));
    if (t.get(key) != nullptr && out->empty()) {
      return Status::InvalidArgument(where + ": '" + key + "' is empty");
    }
  }
  FERRY_RETURN_IF_ERROR(ReadBool(t, "anonymous", r.anonymous, where));
  if (!r.endpoint.empty() && !r.endpoint.starts_with("http://") &&
      !r.endpoint.starts_with("https://")) {
    return Status::InvalidArgument(where + ": endpoint must start with http:// or https://");
  }
  if (r.anonymous && !r.credentials_file.empty()) {
    return Status::InvalidArgument(where + ": 'anonymous = true' and 'credentials_file' "
                                           "together: anonymous requests carry no token");
  }
  return ParseRemoteTls(t, where, r);
}

// [remotes.NAME.prices]: numbers 0 or more under the keys of estimate::SetStorePrice.
Status ParseRemotePrices(const toml::table& t, const std::string& where, RemoteConfig& r) {
  const toml::node* n = t.get("prices");
  if (n == nullptr) return Status::Ok();
  const toml::table* prices = n->as_table();
  const std::string at = where.substr(0, where.size() - 1) + ".prices]";  // "F: [remotes.X.prices]"
  if (prices == nullptr) return Status::InvalidArgument(at + ": must be a table of prices");
  estimate::StorePrices out;
  out.source = "[remotes." + r.name + ".prices]";
  for (const auto& [k, v] : *prices) {
    const std::optional<double> price = v.is_number() ? v.value<double>() : std::nullopt;
    Status s = estimate::SetStorePrice(out, k.str(), price.value_or(-1));
    if (!s.ok()) return s.WithContext(at);
  }
  r.prices = std::move(out);
  return Status::Ok();
}

}  // namespace

Status ParseRemote(const std::string& name, const toml::table& t, const std::string& src,
                   RemoteConfig& r) {
  const std::string where = src + ": [remotes." + name + "]";
  r.name = name;
  FERRY_RETURN_IF_ERROR(ReadString(t, "type", r.type, where));
  if (r.type == "azure") return ParseAzureRemote(t, where, r);
  if (r.type == "gcs") return ParseGcsRemote(t, where, r);
  if (t.get("type") != nullptr && r.type != "s3") {
    return Status::InvalidArgument(where + ": type must be \"s3\", \"azure\" or \"gcs\"");
  }
  static const char* kKnown[] = {"type", "endpoint", "region", "addressing", "profile",
                                 "access_key_id_env", "secret_access_key_env",
                                 "session_token_env", "directory_bucket", "ca_bundle",
                                 "insecure_skip_verify", "role_arn", "external_id",
                                 "role_session_name", "duration_seconds",
                                 "credential_process", "sts_endpoint", "no_sign_request",
                                 "provider", "requester_pays", "signature",
                                 "list_objects_v1", "sse", "sse_kms_key_id",
                                 "sse_c_key_file", "sse_c_key_env", "prices"};
  for (const auto& [k, v] : t) {
    bool known = false;
    for (const char* want : kKnown) known = known || k.str() == want;
    if (!known) {
      if (k.str() == "sse_c_key" || k.str() == "sse_customer_key") {
        return Status::InvalidArgument(where + ": secrets do not belong in the config file; "
                                       "name the SSE-C key's file with 'sse_c_key_file' or its "
                                       "environment variable with 'sse_c_key_env'");
      }
      if (k.str() == "access_key_id" || k.str() == "secret_access_key") {
        return Status::InvalidArgument(where + ": secrets do not belong in the config file; "
                                       "name an environment variable with '" +
                                       std::string(k.str()) + "_env' or use 'profile'");
      }
      return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) + "'");
    }
  }
  r.name = name;
  FERRY_RETURN_IF_ERROR(ReadString(t, "endpoint", r.endpoint, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "region", r.region, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "addressing", r.addressing, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "profile", r.profile, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "access_key_id_env", r.access_key_id_env, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "secret_access_key_env", r.secret_access_key_env, where));
  FERRY_RETURN_IF_ERROR(ReadString(t, "session_token_env", r.session_token_env, where));
  if (const toml::node* n = t.get("directory_bucket")) {
    if (!n->is_boolean()) {
      return Status::InvalidArgument(where + ": 'directory_bucket' must be true or false");
    }
    r.directory_bucket = n->value<bool>().value_or(false);
  }
  if (!r.addressing.empty() && r.addressing != "path" && r.addressing != "virtual") {
    return Status::InvalidArgument(where + ": addressing must be \"path\" or \"virtual\"");
  }
  if (!r.endpoint.empty() && r.endpoint.rfind("http://", 0) != 0 &&
      r.endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(where + ": endpoint must start with http:// or https://");
  }
  if (r.access_key_id_env.empty() != r.secret_access_key_env.empty()) {
    return Status::InvalidArgument(
        where + ": set both access_key_id_env and secret_access_key_env, or neither");
  }
  FERRY_RETURN_IF_ERROR(ReadString(t, "provider", r.provider, where));
  if (t.get("provider") != nullptr && (r.provider.empty() || !IsKnownProvider(r.provider))) {
    return Status::InvalidArgument(where + ": provider '" + r.provider + "' is not one of " +
                                   std::string(KnownProviders()));
  }
  if (r.provider == "other" && r.endpoint.empty()) {
    return Status::InvalidArgument(where + ": provider \"other\" needs an endpoint");
  }
  if (const toml::node* n = t.get("requester_pays")) {
    if (!n->is_boolean()) {
      return Status::InvalidArgument(where + ": 'requester_pays' must be true or false");
    }
    r.requester_pays = n->value<bool>().value_or(false);
  }
  std::string signature;
  FERRY_RETURN_IF_ERROR(ReadString(t, "signature", signature, where));
  if (t.get("signature") != nullptr && signature != "v2" && signature != "v4") {
    return Status::InvalidArgument(where + ": signature must be \"v4\" or \"v2\"");
  }
  r.signature_v2 = signature == "v2";
  r.list_objects_v1 = r.signature_v2;
  if (const toml::node* n = t.get("list_objects_v1")) {
    if (!n->is_boolean()) {
      return Status::InvalidArgument(where + ": 'list_objects_v1' must be true or false");
    }
    r.list_objects_v1 = n->value<bool>().value_or(false) || r.signature_v2;
  }
  if (r.signature_v2 && r.directory_bucket.value_or(false)) {
    return Status::InvalidArgument(where + ": directory buckets take Signature Version 4 only");
  }
  FERRY_RETURN_IF_ERROR(ParseRemoteCredentials(t, where, r));
  FERRY_RETURN_IF_ERROR(ParseRemoteSse(t, where, r));
  FERRY_RETURN_IF_ERROR(ParseRemotePrices(t, where, r));
  return ParseRemoteTls(t, where, r);
}

std::optional<estimate::StorePrices> PricesOfStore(const Config& config, std::string_view remote) {
  const auto it = config.remotes.find(std::string(remote));
  if (it != config.remotes.end()) {
    if (it->second.prices) return it->second.prices;
    const RemoteConfig& r = it->second;
    if (r.endpoint.empty() && !r.is_azure() && !r.is_gcs() &&
        (r.provider.empty() || r.provider == "aws")) {
      return estimate::AwsUsEast1ListPrices();
    }
    return std::nullopt;
  }
  if (remote == "s3" && s3::EndpointFromEnvironment().empty()) {
    return estimate::AwsUsEast1ListPrices();
  }
  return std::nullopt;
}

}  // namespace ferry::app
