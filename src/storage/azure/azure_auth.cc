// Azure credentials and Shared Key signing (azure_auth.h).
#include "storage/azure/azure_auth.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "checksum/checksum.h"

namespace ferry::storage::azure {
namespace {

std::string AzureLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string AzureTrim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// A secret file's content, trailing whitespace (the newline editors add) dropped.
Result<std::string> ReadSecretFile(const std::string& path, const std::string& owner,
                                   const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(owner + ": " + what + " file " + path +
                                   " cannot be read: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string value = AzureTrim(text.str());
  if (value.empty()) {
    return Status::InvalidArgument(owner + ": " + what + " file " + path + " is empty");
  }
  return value;
}

Result<std::string> DecodeAccountKey(std::string_view base64, const std::string& owner,
                                     const std::string& source) {
  std::optional<std::string> raw = checksum::Base64Decode(AzureTrim(base64));
  if (!raw || raw->empty()) {
    return Status::InvalidArgument(owner + ": the account key of " + source +
                                   " is not base64 (an Azure account key is)");
  }
  return *raw;
}

std::string FieldOf(const std::vector<std::pair<std::string, std::string>>& fields,
                    std::string_view name) {
  for (const auto& [k, v] : fields) {
    if (AzureLower(k) == AzureLower(name)) return v;
  }
  return {};
}

// Azurite's well-known development account (UseDevelopmentStorage=true); public, not a secret.
constexpr const char* kDevAccount = "devstoreaccount1";
constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

Result<AzureCredentials> FromConnectionString(const std::string& text, const std::string& owner,
                                              const std::string& source) {
  auto fields = ParseConnectionString(text);
  if (!fields.ok()) {
    return Status::InvalidArgument(owner + ": " + source + ": " + fields.status().message());
  }
  AzureCredentials c;
  if (AzureLower(FieldOf(*fields, "UseDevelopmentStorage")) == "true") {
    c.account = kDevAccount;
    c.key = *checksum::Base64Decode(kDevKey);
    c.endpoint = std::string("http://127.0.0.1:10000/") + kDevAccount;
  }
  if (std::string a = FieldOf(*fields, "AccountName"); !a.empty()) c.account = a;
  if (std::string k = FieldOf(*fields, "AccountKey"); !k.empty()) {
    FERRY_ASSIGN_OR_RETURN(c.key, DecodeAccountKey(k, owner, source));
  }
  c.sas = FieldOf(*fields, "SharedAccessSignature");
  if (!c.sas.empty() && c.sas.front() == '?') c.sas.erase(0, 1);
  if (std::string e = FieldOf(*fields, "BlobEndpoint"); !e.empty()) c.endpoint = e;
  if (c.endpoint.empty() && !c.account.empty()) {
    std::string protocol = FieldOf(*fields, "DefaultEndpointsProtocol");
    std::string suffix = FieldOf(*fields, "EndpointSuffix");
    c.endpoint = (protocol.empty() ? "https" : protocol) + "://" + c.account + ".blob." +
                 (suffix.empty() ? "core.windows.net" : suffix);
  }
  if (c.key.empty() && c.sas.empty()) {
    return Status::InvalidArgument(owner + ": " + source +
                                   " has neither AccountKey nor SharedAccessSignature");
  }
  if (c.account.empty() && !c.key.empty()) {
    return Status::InvalidArgument(owner + ": " + source + " has AccountKey but no AccountName");
  }
  return c;
}

// A value named by a `*_env` setting: the variable must be set.
Result<std::string> FromEnvSetting(const std::string& var, const std::string& owner,
                                   const EnvLookup& env) {
  std::string v = env(var);
  if (v.empty()) {
    return Status::InvalidArgument(owner + ": environment variable " + var + " is not set");
  }
  return v;
}

// The settings' own sources (a remote's keys): exactly those, no fallback to the environment.
Result<std::optional<AzureCredentials>> FromSettings(const AzureCredentialSettings& s,
                                                     const EnvLookup& env) {
  AzureCredentials c;
  if (!s.connection_string_env.empty()) {
    FERRY_ASSIGN_OR_RETURN(std::string text, FromEnvSetting(s.connection_string_env, s.owner, env));
    FERRY_ASSIGN_OR_RETURN(c, FromConnectionString(text, s.owner, s.connection_string_env));
    return std::optional(std::move(c));
  }
  if (!s.key_env.empty() || !s.key_file.empty()) {
    std::string text;
    if (!s.key_env.empty()) {
      FERRY_ASSIGN_OR_RETURN(text, FromEnvSetting(s.key_env, s.owner, env));
    } else {
      FERRY_ASSIGN_OR_RETURN(text, ReadSecretFile(s.key_file, s.owner, "account key"));
    }
    const std::string& source = s.key_env.empty() ? s.key_file : s.key_env;
    FERRY_ASSIGN_OR_RETURN(c.key, DecodeAccountKey(text, s.owner, source));
    return std::optional(std::move(c));
  }
  if (!s.sas_env.empty() || !s.sas_file.empty()) {
    if (!s.sas_env.empty()) {
      FERRY_ASSIGN_OR_RETURN(c.sas, FromEnvSetting(s.sas_env, s.owner, env));
    } else {
      FERRY_ASSIGN_OR_RETURN(c.sas, ReadSecretFile(s.sas_file, s.owner, "SAS token"));
    }
    if (c.sas.front() == '?') c.sas.erase(0, 1);
    return std::optional(std::move(c));
  }
  return std::optional<AzureCredentials>();
}

// The AZURE_STORAGE_* convention of Azure's own tools.
Result<std::optional<AzureCredentials>> FromEnvironment(const AzureCredentialSettings& s,
                                                        const EnvLookup& env) {
  if (std::string cs = env("AZURE_STORAGE_CONNECTION_STRING"); !cs.empty()) {
    FERRY_ASSIGN_OR_RETURN(AzureCredentials c,
                           FromConnectionString(cs, s.owner, "AZURE_STORAGE_CONNECTION_STRING"));
    return std::optional(std::move(c));
  }
  AzureCredentials c;
  c.account = env("AZURE_STORAGE_ACCOUNT");
  if (std::string k = env("AZURE_STORAGE_KEY"); !k.empty()) {
    FERRY_ASSIGN_OR_RETURN(c.key, DecodeAccountKey(k, s.owner, "AZURE_STORAGE_KEY"));
  } else if (std::string f = env("AZURE_STORAGE_KEY_FILE"); !f.empty()) {
    FERRY_ASSIGN_OR_RETURN(std::string text, ReadSecretFile(f, s.owner, "account key"));
    FERRY_ASSIGN_OR_RETURN(c.key, DecodeAccountKey(text, s.owner, f));
  } else if (std::string sas = env("AZURE_STORAGE_SAS_TOKEN"); !sas.empty()) {
    c.sas = sas.front() == '?' ? sas.substr(1) : sas;
  } else {
    return std::optional<AzureCredentials>();
  }
  return std::optional(std::move(c));
}

}  // namespace

std::string ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? std::string() : std::string(v);
}

Result<std::vector<std::pair<std::string, std::string>>> ParseConnectionString(
    std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t semi = text.find(';');
    std::string_view part = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    if (AzureTrim(part).empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Status::InvalidArgument("malformed connection string: a part is not NAME=value");
    }
    out.emplace_back(AzureTrim(part.substr(0, eq)), AzureTrim(part.substr(eq + 1)));
  }
  if (out.empty()) return Status::InvalidArgument("malformed connection string: empty");
  return out;
}

Result<AzureCredentials> ResolveAzureCredentials(const AzureCredentialSettings& settings,
                                                 const EnvLookup& env) {
  FERRY_ASSIGN_OR_RETURN(std::optional<AzureCredentials> found, FromSettings(settings, env));
  const bool own = found.has_value();
  if (!found) {
    FERRY_ASSIGN_OR_RETURN(found, FromEnvironment(settings, env));
  }
  if (!found) {
    return Status::InvalidArgument(
        settings.owner +
        ": no Azure credentials: set AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT "
        "with AZURE_STORAGE_KEY (or AZURE_STORAGE_KEY_FILE), or AZURE_STORAGE_SAS_TOKEN");
  }
  AzureCredentials c = std::move(*found);
  if (!settings.account.empty()) {
    // a connection string or AZURE_STORAGE_ACCOUNT of another account signs nothing here
    if (!c.account.empty() && c.account != settings.account && !own && !c.key.empty()) {
      return Status::InvalidArgument(settings.owner + ": the credentials found are account '" +
                                     c.account + "''s, not '" + settings.account + "''s");
    }
    c.account = settings.account;
  }
  if (c.account.empty()) {
    return Status::InvalidArgument(settings.owner +
                                   ": no Azure account name (az://ACCOUNT/CONTAINER, a remote's "
                                   "'account', or AZURE_STORAGE_ACCOUNT)");
  }
  if (!settings.endpoint.empty()) {
    c.endpoint = settings.endpoint;
  } else if (std::string e = env("FERRY_AZURE_ENDPOINT"); !e.empty() && c.endpoint.empty()) {
    c.endpoint = e;
  }
  if (c.endpoint.empty()) c.endpoint = "https://" + c.account + ".blob.core.windows.net";
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  if (!c.endpoint.starts_with("http://") && !c.endpoint.starts_with("https://")) {
    return Status::InvalidArgument(settings.owner + ": endpoint " + c.endpoint +
                                   " must start with http:// or https://");
  }
  return c;
}

std::string StringToSign(std::string_view account, const SignedRequest& r) {
  const http::Headers& h = *r.headers;
  std::string s = r.method + "\n";
  for (const char* name : {"Content-Encoding", "Content-Language"}) s += h.Get(name) + "\n";
  s += (r.content_length == 0 ? std::string() : std::to_string(r.content_length)) + "\n";
  for (const char* name : {"Content-MD5", "Content-Type", "Date", "If-Modified-Since", "If-Match",
                           "If-None-Match", "If-Unmodified-Since", "Range"}) {
    s += h.Get(name) + "\n";
  }
  std::vector<std::pair<std::string, std::string>> ms;
  for (const auto& [name, value] : h.entries()) {
    std::string lower = AzureLower(name);
    if (lower.starts_with("x-ms-")) ms.emplace_back(std::move(lower), AzureTrim(value));
  }
  std::sort(ms.begin(), ms.end());
  for (const auto& [name, value] : ms) s += name + ":" + value + "\n";
  s += "/" + std::string(account) + r.path;
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [name, value] : r.query) query.emplace_back(AzureLower(name), value);
  std::sort(query.begin(), query.end());
  for (const auto& [name, value] : query) s += "\n" + name + ":" + value;
  return s;
}

std::string SharedKeyAuthorization(const AzureCredentials& creds, const SignedRequest& request) {
  const std::string to_sign = StringToSign(creds.account, request);
  const checksum::Sha256Digest mac =
      checksum::HmacSha256(checksum::AsBytes(creds.key), checksum::AsBytes(to_sign));
  return "SharedKey " + creds.account + ":" + checksum::Base64(mac);
}

}  // namespace ferry::storage::azure
