// Encryption settings: a remote's keys in the config file, the command line's flags checked
// against the locations, and the customer key read from a file or the environment.
#include "app/encryption.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "testing/scoped_env.h"

namespace ferry::app {
namespace {

const std::string kKey = "abcdefghijklmnopqrstuvwxyz123456";
const std::string kKeyBase64 = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=";

Location Loc(std::string_view text) { return ParseLocation(text).value(); }

// The keys come from environment variables (their names given here); the tests that call
// Flags set them.
EncryptionFlags Flags(std::string sse, std::string kms_key_id, std::string customer_key_env,
                      std::string copy_source_key_env) {
  EncryptionFlags f;
  f.sse = std::move(sse);
  f.kms_key_id = std::move(kms_key_id);
  f.customer_key.env = std::move(customer_key_env);
  f.copy_source_key.env = std::move(copy_source_key_env);
  return f;
}

TEST(EncryptionConfigTest, ParsesARemotesSettings) {
  auto c = ParseConfig(R"(
[remotes.k]
endpoint = "http://127.0.0.1:7480"
sse = "aws:kms"
sse_kms_key_id = "testkey-1"

[remotes.c]
sse_c_key_env = "C_KEY"
)",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->remotes.at("k").sse, "aws:kms");
  EXPECT_EQ(c->remotes.at("k").sse_kms_key_id, "testkey-1");
  EXPECT_EQ(c->remotes.at("c").sse_c_key_env, "C_KEY");
}

TEST(EncryptionConfigTest, RefusesKeysInTheFileAndBadCombinations) {
  auto message = [](std::string_view text) {
    return ParseConfig(text, "t.toml").status().message();
  };
  EXPECT_NE(message("[remotes.a]\nsse_c_key = \"" + kKeyBase64 + "\"\n")
                .find("secrets do not belong in the config file; name the SSE-C key's file"),
            std::string::npos);
  EXPECT_EQ(message("[remotes.a]\nsse_c_key = \"" + kKeyBase64 + "\"\n").find(kKeyBase64),
            std::string::npos);
  EXPECT_EQ(message("[remotes.a]\nsse = \"aes\"\n"),
            "t.toml: [remotes.a]: 'sse' must be \"AES256\" or \"aws:kms\"");
  EXPECT_EQ(message("[remotes.a]\nsse_kms_key_id = \"k\"\n"),
            "t.toml: [remotes.a]: 'sse_kms_key_id' needs sse = \"aws:kms\"");
  EXPECT_NE(message("[remotes.a]\nsse_c_key_file = \"f\"\nsse_c_key_env = \"E\"\n")
                .find("name the SSE-C key one way"),
            std::string::npos);
  EXPECT_NE(message("[remotes.a]\nsse = \"AES256\"\nsse_c_key_env = \"E\"\n")
                .find("encrypted one way"),
            std::string::npos);
}

TEST(EncryptionConfigTest, ReplicationRulesTakeTheKmsSettings) {
  auto c = ParseConfig(R"(
[[replication.rules]]
id = "r"
sse_kms_encrypted_objects = true
destinations = [ { location = "rb:dst/", replica_kms_key_id = "testkey-2" } ]
)",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const replicate::Rule& r = c->replication.rules.rules.at(0);
  EXPECT_TRUE(r.sse_kms_objects);
  EXPECT_EQ(r.destinations.at(0).replica_kms_key_id, "testkey-2");
}

TEST(EncryptionFlagsTest, DestinationWritesAndReads) {
  EncryptionFlags f;
  f.sse = "aws:kms";
  f.kms_key_id = "testkey-1";
  auto e = EncryptionFromFlags(f, Loc("/tmp/x"), Loc("ra:bkt/p/"));
  ASSERT_TRUE(e.ok()) << e.status().message();
  ASSERT_TRUE(e->destination.write.has_value());
  EXPECT_EQ(e->destination.write->mode, s3::SseMode::kKms);
  EXPECT_EQ(e->destination.write->kms_key_id, "testkey-1");
  EXPECT_FALSE(e->source.write.has_value());

  testing::ScopedEnv env({"FERRY_SSE_FLAG_KEY"});
  ::setenv("FERRY_SSE_FLAG_KEY", kKeyBase64.c_str(), 1);
  EncryptionFlags c;
  c.customer_key.env = "FERRY_SSE_FLAG_KEY";
  c.copy_source_key.env = "FERRY_SSE_FLAG_KEY";
  e = EncryptionFromFlags(c, Loc("ra:src/"), Loc("ra:bkt/"));
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->destination.write->mode, s3::SseMode::kCustomer);
  EXPECT_EQ(e->destination.write->customer_key, kKey);
  EXPECT_EQ(e->destination.read_key, kKey);
  EXPECT_EQ(e->source.read_key, kKey);

  // A download: --sse-c-key-* reads the source.
  EncryptionFlags down;
  down.customer_key.env = "FERRY_SSE_FLAG_KEY";
  e = EncryptionFromFlags(down, Loc("ra:src/"), Loc("/tmp/x"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->source.read_key, kKey);
  EXPECT_FALSE(e->destination.write.has_value());
}

TEST(EncryptionFlagsTest, UsageErrors) {
  testing::ScopedEnv env({"FERRY_SSE_FLAG_KEY", "FERRY_SSE_FLAG_SHORT"});
  ::setenv("FERRY_SSE_FLAG_KEY", kKeyBase64.c_str(), 1);
  ::setenv("FERRY_SSE_FLAG_SHORT", "c2hvcnQ=", 1);
  const std::string K = "FERRY_SSE_FLAG_KEY";
  auto message = [](EncryptionFlags f, std::string_view src, std::string_view dst) {
    return EncryptionFromFlags(f, Loc(src), Loc(dst)).status().message();
  };
  EXPECT_EQ(message(Flags("", "k", "", ""), "/tmp/x", "ra:bkt/"),
            "--sse-kms-key-id needs --sse aws:kms");
  EXPECT_EQ(message(Flags("AES256", "k", "", ""), "/tmp/x", "ra:bkt/"),
            "--sse-kms-key-id needs --sse aws:kms");
  EXPECT_NE(message(Flags("aws:kms", "", "", ""), "ra:bkt/", "/tmp/x").find("--sse applies to an S3 "
                                                                 "destination"),
            std::string::npos);
  EXPECT_NE(message(Flags("aws:kms", "", K, ""), "/tmp/x", "ra:bkt/")
                .find("--sse and --sse-c-key together"),
            std::string::npos);
  EXPECT_NE(message(Flags("", "", "", K), "/tmp/x", "ra:bkt/")
                .find("--sse-c-copy-source-key applies to an S3 source"),
            std::string::npos);
  EXPECT_NE(message(Flags("", "", "", K), "ra:bkt/", "/tmp/x")
                .find("a download takes the source's key as --sse-c-key-file or --sse-c-key-env"),
            std::string::npos);
  const std::string bad = message(Flags("", "", "FERRY_SSE_FLAG_SHORT", ""), "/tmp/x", "ra:bkt/");
  EXPECT_NE(bad.find("--sse-c-key-env FERRY_SSE_FLAG_SHORT: an SSE-C key must be 32 bytes"),
            std::string::npos)
      << bad;
  EXPECT_EQ(bad.find("c2hvcnQ"), std::string::npos);
  EXPECT_EQ(message(Flags("", "", "FERRY_SSE_FLAG_UNSET", ""), "/tmp/x", "ra:bkt/"),
            "--sse-c-key-env: environment variable FERRY_SSE_FLAG_UNSET is not set");
  EncryptionFlags both = Flags("", "", K, "");
  both.customer_key.file = "/nonexistent";
  EXPECT_EQ(message(both, "/tmp/x", "ra:bkt/"),
            "give --sse-c-key-file or --sse-c-key-env, not both");
}

// The key itself on the command line is refused, before any other check, with one line naming
// the file and environment forms and never the key (issue 43, item 5: argv is readable by any
// local user in /proc/PID/cmdline).
TEST(EncryptionFlagsTest, AKeyOnTheCommandLineIsRefusedWithoutBeingEchoed) {
  EncryptionFlags f;
  f.customer_key.value = kKeyBase64;
  const std::string m = EncryptionFromFlags(f, Loc("/tmp/x"), Loc("ra:bkt/")).status().message();
  EXPECT_EQ(m,
            "--sse-c-key takes the secret itself, which any user of this machine can read in "
            "the process's command line (/proc/PID/cmdline): give --sse-c-key-file PATH or "
            "--sse-c-key-env NAME instead");
  EncryptionFlags g;
  g.sse = "aws:kms";  // another usage error: the refusal comes first
  g.copy_source_key.value = kKeyBase64;
  const std::string n = EncryptionFromFlags(g, Loc("ra:src/"), Loc("ra:bkt/")).status().message();
  EXPECT_EQ(n.rfind("--sse-c-copy-source-key takes the secret itself", 0), 0u) << n;
  EXPECT_NE(n.find("--sse-c-copy-source-key-file PATH or --sse-c-copy-source-key-env NAME"),
            std::string::npos);
  for (const std::string& text : {m, n}) {
    EXPECT_EQ(text.find(kKeyBase64.substr(0, 8)), std::string::npos) << text;
  }
  EXPECT_TRUE(RefuseSecretOnCommandLine("--token", "").ok());
}

// --sse-c-key-file holds base64 of the 32 bytes (a line end allowed) or the 32 raw bytes, as a
// remote's sse_c_key_file does; errors name the file, never the key.
TEST(EncryptionFlagsTest, AKeyFileHoldsBase64OrTheRawBytes) {
  const std::filesystem::path dir = ::testing::TempDir();
  const std::string file = (dir / "ferry-sse-flag-test.key").string();
  CustomerKeyFlags f;
  f.file = file;
  {
    std::ofstream(file) << kKeyBase64 << "\n";
  }
  EXPECT_EQ(ReadCustomerKey(f, "--sse-c-key").value(), kKey);
  {
    std::ofstream(file, std::ios::binary) << kKey;
  }
  EXPECT_EQ(ReadCustomerKey(f, "--sse-c-key").value(), kKey);
  {
    std::ofstream(file) << "c2hvcnQ=\n";
  }
  const std::string bad = ReadCustomerKey(f, "--sse-c-key").status().message();
  EXPECT_EQ(bad.rfind("--sse-c-key-file " + file + ": an SSE-C key must be 32 bytes", 0), 0u)
      << bad;
  EXPECT_EQ(bad.find("c2hvcnQ"), std::string::npos);
  std::filesystem::remove(file);
  EXPECT_EQ(ReadCustomerKey(f, "--sse-c-key").status().message(),
            "cannot read --sse-c-key-file " + file);
  EXPECT_EQ(ReadCustomerKey(CustomerKeyFlags{}, "--sse-c-key").value(), "");
}

TEST(RemoteEncryptionTest, ReadsTheKeyFromAFileOrTheEnvironment) {
  const std::filesystem::path dir = ::testing::TempDir();
  const std::string file = (dir / "ferry-sse-test.key").string();
  {
    std::ofstream(file) << kKeyBase64 << "\n";
  }
  RemoteConfig r;
  r.name = "c";
  r.sse_c_key_file = file;
  auto e = RemoteEncryption(r);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->write.mode, s3::SseMode::kCustomer);
  EXPECT_EQ(e->write.customer_key, kKey);
  EXPECT_EQ(e->read_key, kKey);
  {
    std::ofstream(file, std::ios::binary) << kKey;  // the raw 32 bytes
  }
  EXPECT_EQ(RemoteEncryption(r)->read_key, kKey);
  std::filesystem::remove(file);
  EXPECT_EQ(RemoteEncryption(r).status().message(),
            "remote 'c': cannot read sse_c_key_file " + file);

  RemoteConfig env;
  env.name = "e";
  env.sse_c_key_env = "FERRY_SSE_TEST_KEY";
  ::unsetenv("FERRY_SSE_TEST_KEY");
  EXPECT_EQ(RemoteEncryption(env).status().message(),
            "remote 'e': environment variable FERRY_SSE_TEST_KEY (sse_c_key_env) is not set");
  ::setenv("FERRY_SSE_TEST_KEY", "bm90IDMyIGJ5dGVz", 1);
  const std::string bad = RemoteEncryption(env).status().message();
  EXPECT_NE(bad.find("remote 'e' sse_c_key_env FERRY_SSE_TEST_KEY: an SSE-C key must be 32 "
                     "bytes"),
            std::string::npos)
      << bad;
  ::setenv("FERRY_SSE_TEST_KEY", kKeyBase64.c_str(), 1);
  EXPECT_EQ(RemoteEncryption(env)->read_key, kKey);
  ::unsetenv("FERRY_SSE_TEST_KEY");

  RemoteConfig kms;
  kms.name = "k";
  kms.sse = "aws:kms";
  kms.sse_kms_key_id = "testkey-1";
  auto k = RemoteEncryption(kms);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->write.mode, s3::SseMode::kKms);
  EXPECT_EQ(k->read_key, "");
}

TEST(RemoteEncryptionTest, TheCommandLineOverridesTheRemote) {
  storage::S3Encryption base;
  base.write = s3::Encryption{s3::SseMode::kKms, "testkey-1", ""};
  base.read_key = "";
  EncryptionOverride o;
  o.read_key = kKey;
  storage::S3Encryption out = Apply(base, o);
  EXPECT_EQ(out.write.mode, s3::SseMode::kKms);  // kept
  EXPECT_EQ(out.read_key, kKey);
  o.write = s3::Encryption::Customer(kKey);
  EXPECT_EQ(Apply(base, o).write.mode, s3::SseMode::kCustomer);
}

}  // namespace
}  // namespace ferry::app
