// Azure Blob Storage credentials and request signing (docs/design/azure.md §2).
//
// Credentials come from the environment or files only, never from the config file: an account
// key (Shared Key: every request signed with HMAC-SHA256 over its canonical form), a SAS token
// (appended to every URL, nothing signed), or a connection string that holds either. Resolution
// order: the settings' own names (a remote's `*_env` / `*_file` keys), then
// AZURE_STORAGE_CONNECTION_STRING, then AZURE_STORAGE_KEY (or AZURE_STORAGE_KEY_FILE) with
// AZURE_STORAGE_ACCOUNT, then AZURE_STORAGE_SAS_TOKEN.
//
// Pure functions over their inputs (the environment is read through a lookup function the
// caller gives); thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "http/transport.h"

namespace ferry::storage::azure {

// What an Azure client signs with, and where it sends requests.
struct AzureCredentials {
  std::string account;
  std::string key;  // the account key's raw bytes (base64-decoded); "" when not Shared Key
  std::string sas;  // SAS token without a leading '?'; "" when not SAS
  // scheme://host[:port][/path], no trailing slash: https://ACCOUNT.blob.core.windows.net, or
  // Azurite's path-style http://127.0.0.1:10000/devstoreaccount1
  std::string endpoint;
  // "shared key", "SAS", for messages (never the secret itself)
  std::string kind() const { return !key.empty() ? "shared key" : "SAS"; }
};

// Where the credentials of one location are to be found.
struct AzureCredentialSettings {
  std::string owner;     // "remote 'az'" or "az://ACCOUNT/...": what messages name
  std::string account;   // from the location or the remote ("" = from the credentials)
  // a remote's endpoint; "": the connection string's, else $FERRY_AZURE_ENDPOINT, else Azure's
  std::string endpoint;
  std::string key_env, key_file;      // the account key (base64)
  std::string sas_env, sas_file;      // a SAS token
  std::string connection_string_env;  // a connection string
};

// Looks up an environment variable; nullopt-like "" when unset.
using EnvLookup = std::function<std::string(const std::string&)>;
// The process environment.
std::string ProcessEnv(const std::string& name);

// The credentials of `settings`. kInvalidArgument with one line naming the owner and the
// variable or file when none are found, a key is not base64, a file cannot be read, the
// connection string is malformed, or its account differs from the location's.
Result<AzureCredentials> ResolveAzureCredentials(const AzureCredentialSettings& settings,
                                                 const EnvLookup& env = ProcessEnv);

// A connection string's fields ("Name=value;..."; values may contain '='), e.g. AccountName,
// AccountKey, BlobEndpoint, SharedAccessSignature, DefaultEndpointsProtocol, EndpointSuffix,
// UseDevelopmentStorage. kInvalidArgument for a part without '='.
Result<std::vector<std::pair<std::string, std::string>>> ParseConnectionString(
    std::string_view text);

// One request as Shared Key signs it.
struct SignedRequest {
  std::string method;
  std::string path;  // the URL's path as sent (percent-encoded), starting with '/'
  std::vector<std::pair<std::string, std::string>> query;  // raw (decoded) names and values
  const http::Headers* headers = nullptr;  // every header sent, x-ms-date and x-ms-version included
  uint64_t content_length = 0;
};

// The Shared Key string-to-sign (version 2015-02-21 and later: an empty Content-Length line
// for 0): the verb, the standard headers, the x-ms-* headers lower-cased and sorted, and the
// canonicalized resource "/ACCOUNT<path>" with each query parameter on a line of its own,
// names lower-cased and sorted.
std::string StringToSign(std::string_view account, const SignedRequest& request);
// "SharedKey ACCOUNT:<base64 HMAC-SHA256 of StringToSign with the key>".
std::string SharedKeyAuthorization(const AzureCredentials& creds, const SignedRequest& request);

}  // namespace ferry::storage::azure
