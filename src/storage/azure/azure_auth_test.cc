// Azure credentials: connection strings, the environment convention, a remote's own sources,
// and the Shared Key string-to-sign.
#include "storage/azure/azure_auth.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

namespace ferry::storage::azure {
namespace {

// An environment of its own per test: the process's is never read.
EnvLookup EnvOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) {
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
  };
}

constexpr const char* kKeyB64 = "a2V5LWJ5dGVz";  // "key-bytes"

AzureCredentialSettings SettingsOf(std::string owner, std::string account) {
  AzureCredentialSettings s;
  s.owner = std::move(owner);
  s.account = std::move(account);
  return s;
}

TEST(AzureConnectionString, SplitsOnSemicolonsAndKeepsEqualsInValues) {
  auto fields = ParseConnectionString(
      "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=ab==;"
      "BlobEndpoint=http://127.0.0.1:10000/acct;");
  ASSERT_TRUE(fields.ok()) << fields.status().ToString();
  ASSERT_EQ(fields->size(), 4u);
  EXPECT_EQ((*fields)[2].second, "ab==");
  EXPECT_EQ((*fields)[3].second, "http://127.0.0.1:10000/acct");
  EXPECT_EQ(ParseConnectionString("AccountName").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseConnectionString(" ; ").status().code(), ErrorCode::kInvalidArgument);
}

TEST(AzureCredentialsResolve, ConnectionStringGivesKeyAndEndpoint) {
  AzureCredentialSettings s = SettingsOf("az://acct/c", "acct");
  auto c = ResolveAzureCredentials(
      s, EnvOf({{"AZURE_STORAGE_CONNECTION_STRING",
                 std::string("AccountName=acct;AccountKey=") + kKeyB64 +
                     ";BlobEndpoint=http://127.0.0.1:10000/acct/"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->account, "acct");
  EXPECT_EQ(c->key, "key-bytes");
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:10000/acct") << "trailing slash dropped";
  EXPECT_EQ(c->kind(), "shared key");
}

TEST(AzureCredentialsResolve, AccountKeyOfAnotherAccountIsRefused) {
  AzureCredentialSettings s = SettingsOf("az://other/c", "other");
  auto c = ResolveAzureCredentials(
      s, EnvOf({{"AZURE_STORAGE_ACCOUNT", "acct"}, {"AZURE_STORAGE_KEY", kKeyB64}}));
  ASSERT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("'acct'"), std::string::npos) << c.status().message();
}

TEST(AzureCredentialsResolve, KeyAndSasFromTheEnvironment) {
  AzureCredentialSettings s = SettingsOf("az://acct/c", "acct");
  auto key = ResolveAzureCredentials(
      s, EnvOf({{"AZURE_STORAGE_ACCOUNT", "acct"}, {"AZURE_STORAGE_KEY", kKeyB64}}));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->endpoint, "https://acct.blob.core.windows.net");
  auto sas = ResolveAzureCredentials(
      s, EnvOf({{"AZURE_STORAGE_SAS_TOKEN", "?sv=2021&sig=abc"},
                {"FERRY_AZURE_ENDPOINT", "http://127.0.0.1:1/acct"}}));
  ASSERT_TRUE(sas.ok()) << sas.status().ToString();
  EXPECT_EQ(sas->sas, "sv=2021&sig=abc");
  EXPECT_TRUE(sas->key.empty());
  EXPECT_EQ(sas->endpoint, "http://127.0.0.1:1/acct");
}

TEST(AzureCredentialsResolve, MissingOrBadCredentialsAreOneLine) {
  AzureCredentialSettings s = SettingsOf("az://acct/c", "acct");
  auto none = ResolveAzureCredentials(s, EnvOf({}));
  ASSERT_EQ(none.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("AZURE_STORAGE_CONNECTION_STRING"), std::string::npos);
  auto bad = ResolveAzureCredentials(s, EnvOf({{"AZURE_STORAGE_KEY", "not base64!"}}));
  ASSERT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not base64"), std::string::npos);
  for (const auto& r : {none.status(), bad.status()}) {
    EXPECT_EQ(r.message().find('\n'), std::string::npos);
  }
}

TEST(AzureCredentialsResolve, RemoteSourcesAreUsedAloneAndMustExist) {
  AzureCredentialSettings s = SettingsOf("remote 'az'", "acct");
  s.key_env = "MY_KEY";
  // the environment's convention is not a fallback for a remote that names its variable
  auto unset = ResolveAzureCredentials(s, EnvOf({{"AZURE_STORAGE_KEY", kKeyB64}}));
  ASSERT_EQ(unset.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unset.status().message().find("MY_KEY"), std::string::npos);
  auto set = ResolveAzureCredentials(s, EnvOf({{"MY_KEY", kKeyB64}}));
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->key, "key-bytes");

  const std::string file = ::testing::TempDir() + "/azure_sas_token";
  std::ofstream(file) << "?sv=1&sig=x\n";
  AzureCredentialSettings f = SettingsOf("remote 'az'", "acct");
  f.sas_file = file;
  auto from_file = ResolveAzureCredentials(f, EnvOf({}));
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->sas, "sv=1&sig=x");
  f.sas_file = file + ".missing";
  EXPECT_EQ(ResolveAzureCredentials(f, EnvOf({})).status().code(), ErrorCode::kInvalidArgument);
}

TEST(AzureSharedKey, StringToSignHasTheStandardLinesThenXmsHeadersThenTheResource) {
  http::Headers h;
  h.Set("x-ms-version", "2021-08-06");
  h.Set("X-Ms-Date", "Sat, 28 Nov 2026 02:00:00 GMT");
  h.Set("Content-MD5", "abc==");
  h.Set("x-ms-meta-owner", "  bob ");
  h.Set("If-Match", "\"0x1\"");
  SignedRequest r{"PUT", "/acct/c/dir/a%20b", {{"comp", "block"}, {"blockid", "Zm9v"}}, &h, 5};
  EXPECT_EQ(StringToSign("acct", r),
            "PUT\n\n\n5\nabc==\n\n\n\n\"0x1\"\n\n\n\n"
            "x-ms-date:Sat, 28 Nov 2026 02:00:00 GMT\nx-ms-meta-owner:bob\n"
            "x-ms-version:2021-08-06\n/acct/acct/c/dir/a%20b\nblockid:Zm9v\ncomp:block");
  r.content_length = 0;
  EXPECT_TRUE(StringToSign("acct", r).starts_with("PUT\n\n\n\nabc==")) << "no length for 0";
  AzureCredentials c;
  c.account = "acct";
  c.key = "key-bytes";
  const std::string auth = SharedKeyAuthorization(c, r);
  EXPECT_TRUE(auth.starts_with("SharedKey acct:")) << auth;
  EXPECT_EQ(auth.size(), std::string("SharedKey acct:").size() + 44) << "base64 of 32 bytes";
  c.key = "other-key";
  EXPECT_NE(SharedKeyAuthorization(c, r), auth);
}

}  // namespace
}  // namespace ferry::storage::azure
