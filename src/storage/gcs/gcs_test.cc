// GCS credentials, documents and client over a scripted transport: the service account's JWT
// (signed, checked with the public half of a key made here), the token exchange and its
// refresh on a FakeClock, JSON resources parsed and written, error replies as one line.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>

#include "checksum/checksum.h"
#include "storage/gcs/gcs_auth.h"
#include "storage/gcs/gcs_client.h"
#include "storage/gcs/gcs_format.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::storage::gcs {
namespace {

using testing::FakeReply;
using Json = nlohmann::json;

// An RSA key made for the test: its PKCS#8 PEM and the key itself (to verify signatures).
struct TestRsaKey {
  std::string pem;
  EVP_PKEY* pkey = nullptr;
  TestRsaKey() {
    pkey = EVP_RSA_gen(2048);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<size_t>(n));
    BIO_free(bio);
  }
  ~TestRsaKey() { EVP_PKEY_free(pkey); }
};

const TestRsaKey& RsaKey() {
  static const TestRsaKey key;
  return key;
}

std::string KeyJson(const std::string& token_uri = "https://oauth2.example/token") {
  return Json{{"type", "service_account"},
              {"client_email", "ferry@proj.iam.gserviceaccount.com"},
              {"private_key", RsaKey().pem},
              {"private_key_id", "kid1"},
              {"token_uri", token_uri}}
      .dump();
}

std::string Base64UrlDecode(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4 != 0) s += '=';
  return checksum::Base64Decode(s).value_or("<bad base64>");
}

TEST(GcsAuth, KeyFileParsedAndItsErrorsNeverShowTheKey) {
  auto key = ParseServiceAccountKey(KeyJson(), "k.json");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->client_email, "ferry@proj.iam.gserviceaccount.com");
  EXPECT_EQ(key->private_key_id, "kid1");
  EXPECT_EQ(key->token_uri, "https://oauth2.example/token");

  Json no_email = Json::parse(KeyJson());
  no_email.erase("client_email");
  Json user = Json::parse(KeyJson());
  user["type"] = "authorized_user";
  Json bad_uri = Json::parse(KeyJson());
  bad_uri["token_uri"] = "file:///etc/passwd";
  for (const std::string& text : {std::string("not json"), no_email.dump(), user.dump(),
                                  bad_uri.dump()}) {
    auto bad = ParseServiceAccountKey(text, "k.json");
    ASSERT_FALSE(bad.ok()) << text.substr(0, 40);
    EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("k.json"), std::string::npos);
    EXPECT_EQ(bad.status().message().find("PRIVATE KEY"), std::string::npos);
    EXPECT_EQ(bad.status().message().find('\n'), std::string::npos);
  }
}

TEST(GcsAuth, JwtAssertionIsRs256SignedWithTheClaims) {
  auto key = ParseServiceAccountKey(KeyJson(), "k.json");
  ASSERT_TRUE(key.ok());
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  auto jwt = SignJwtAssertion(*key, kGcsScope, now);
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  const size_t dot1 = jwt->find('.');
  const size_t dot2 = jwt->rfind('.');
  ASSERT_NE(dot1, dot2);
  EXPECT_EQ(jwt->find_first_of("+/="), std::string::npos) << "base64url without padding";
  const Json header = Json::parse(Base64UrlDecode(jwt->substr(0, dot1)));
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(header["kid"], "kid1");
  const Json claims = Json::parse(Base64UrlDecode(jwt->substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(claims["iss"], "ferry@proj.iam.gserviceaccount.com");
  EXPECT_EQ(claims["aud"], "https://oauth2.example/token");
  EXPECT_EQ(claims["scope"], kGcsScope);
  EXPECT_EQ(claims["iat"], 1700000000);
  EXPECT_EQ(claims["exp"], 1700003600);

  // the signature verifies with the key's public half over "header.claims"
  const std::string signed_part = jwt->substr(0, dot2);
  const std::string sig = Base64UrlDecode(jwt->substr(dot2 + 1));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, RsaKey().pkey), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()),
                             signed_part.size()),
            1);
  EVP_MD_CTX_free(ctx);

  ServiceAccountKey broken = *key;
  broken.private_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(SignJwtAssertion(broken, kGcsScope, now).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(GcsAuth, ResolveTakesTheEmulatorHostOrAKeyFileElseOneLine) {
  std::map<std::string, std::string> vars;
  const GcsEnvLookup env = [&](const std::string& n) { return vars[n]; };
  GcsCredentialSettings s{"location gs://b/", "", "", false};

  auto none = ResolveGcsCredentials(s, env);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("GOOGLE_APPLICATION_CREDENTIALS"), std::string::npos);

  vars["STORAGE_EMULATOR_HOST"] = "127.0.0.1:9199";
  auto emu = ResolveGcsCredentials(s, env);
  ASSERT_TRUE(emu.ok()) << emu.status().ToString();
  EXPECT_TRUE(emu->anonymous);
  EXPECT_EQ(emu->endpoint, "http://127.0.0.1:9199");

  vars.clear();
  vars["GOOGLE_APPLICATION_CREDENTIALS"] = "/nonexistent/key.json";
  auto unreadable = ResolveGcsCredentials(s, env);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_NE(unreadable.status().message().find("/nonexistent/key.json"), std::string::npos);

  s.endpoint = "storage.example";
  s.anonymous = true;
  EXPECT_EQ(ResolveGcsCredentials(s, env).status().code(), ErrorCode::kInvalidArgument);
  s.endpoint = "http://127.0.0.1:1/";
  auto anon = ResolveGcsCredentials(s, env);
  ASSERT_TRUE(anon.ok());
  EXPECT_EQ(anon->endpoint, "http://127.0.0.1:1");
}

TEST(GcsTokenSource, ExchangesOnceAndAgainBeforeExpiry) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  auto key = ParseServiceAccountKey(KeyJson("http://127.0.0.1:1/token"), "k.json");
  ASSERT_TRUE(key.ok());
  GcsTokenSource tokens(*key, http, clock);
  http.Push(FakeReply::Ok(R"({"access_token":"t1","expires_in":3600,"token_type":"Bearer"})"));
  http.Push(FakeReply::Ok(R"({"access_token":"t2","expires_in":3600})"));

  EXPECT_EQ(tokens.Authorization({}).value(), "Bearer t1");
  EXPECT_EQ(tokens.Authorization({}).value(), "Bearer t1");
  EXPECT_EQ(tokens.exchanges(), 1u);
  clock.Advance(std::chrono::minutes(54));
  EXPECT_EQ(tokens.Authorization({}).value(), "Bearer t1");
  clock.Advance(std::chrono::minutes(2));  // within 5 minutes of the end: fetched again
  EXPECT_EQ(tokens.Authorization({}).value(), "Bearer t2");
  EXPECT_EQ(tokens.exchanges(), 2u);

  const auto sent = http.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:1/token");
  EXPECT_EQ(sent[0].headers.Get("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_TRUE(sent[0].body.starts_with(
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="));
}

TEST(GcsTokenSource, RefusedKeyIsOneUnauthenticatedLine) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  auto key = ParseServiceAccountKey(KeyJson("http://127.0.0.1:1/token"), "k.json");
  ASSERT_TRUE(key.ok());
  GcsTokenSource tokens(*key, http, clock);
  FakeReply refused;
  refused.status = 400;
  refused.body = R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})";
  http.Push(refused);
  auto auth = tokens.Authorization({});
  ASSERT_FALSE(auth.ok());
  EXPECT_EQ(auth.status().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(auth.status().message().find("Invalid JWT Signature."), std::string::npos);
  EXPECT_EQ(auth.status().message().find('\n'), std::string::npos);
}

TEST(GcsClient, BearerTokenAndA401RetriedOnceWithAFreshToken) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  auto key = ParseServiceAccountKey(KeyJson("http://127.0.0.1:1/token"), "k.json");
  ASSERT_TRUE(key.ok());
  GcsOptions options;
  options.credentials.endpoint = "http://127.0.0.1:2";
  options.credentials.key = *key;
  options.clock = &clock;
  GcsClient client(options, http);
  http.Push(FakeReply::Ok(R"({"access_token":"old","expires_in":3600})"));
  FakeReply revoked;
  revoked.status = 401;
  revoked.body = R"({"error":{"code":401,"message":"Invalid Credentials"}})";
  http.Push(revoked);
  http.Push(FakeReply::Ok(R"({"access_token":"new","expires_in":3600})"));
  http.Push(FakeReply::Ok(R"({"items":[]})"));
  GcsCall call;
  call.operation = "objects.list";
  call.what = "gs://b/";
  call.path = "/storage/v1/b/b/o";
  call.query = {{"prefix", "a b/"}};
  auto reply = client.Send(call, {});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  const auto sent = http.requests();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[1].headers.Get("Authorization"), "Bearer old");
  EXPECT_EQ(sent[3].headers.Get("Authorization"), "Bearer new");
  EXPECT_EQ(sent[3].url, "http://127.0.0.1:2/storage/v1/b/b/o?prefix=a%20b%2F");
}

TEST(GcsClient, ErrorsMapToOneLineAndTheRightCode) {
  struct Case {
    int status;
    std::string message;
    ErrorCode code;
  };
  for (const Case& c : std::vector<Case>{
           {404, "The specified bucket does not exist.", ErrorCode::kNotFound},
           {404, "No such object: b/k", ErrorCode::kNotFound},
           {401, "Anonymous caller", ErrorCode::kUnauthenticated},
           {403, "no storage.objects.get access", ErrorCode::kPermissionDenied},
           {412, "At least one of the pre-conditions you specified did not hold.",
            ErrorCode::kFailedPrecondition},
           {400, "Provided MD5 hash \"x\" doesn't match calculated MD5 hash \"y\".",
            ErrorCode::kDataLoss},
           {400, "Invalid argument.\nmore", ErrorCode::kInvalidArgument},
           {429, "rate", ErrorCode::kUnavailable},
           {503, "backend", ErrorCode::kUnavailable}}) {
    const Status s = MapGcsError(c.status, "reason", c.message, "objects.get gs://b/k");
    EXPECT_EQ(s.code(), c.code) << c.status << " " << c.message;
    EXPECT_EQ(s.message().find('\n'), std::string::npos);
    EXPECT_TRUE(s.message().starts_with("objects.get gs://b/k: HTTP " +
                                        std::to_string(c.status) + " reason"));
  }
  EXPECT_EQ(MapGcsError(404, "notFound", "The specified bucket does not exist.", "x").subject(),
            ErrorSubject::kBucket);
  EXPECT_EQ(MapGcsError(404, "notFound", "No such object: b/k", "x").subject(),
            ErrorSubject::kObject);
  EXPECT_TRUE(MapGcsError(503, "", "", "x").transient());
  EXPECT_FALSE(MapGcsError(403, "", "", "x").transient());
}

TEST(GcsFormat, ObjectResourceAndPagesParsed) {
  // MD5 of "hello" and CRC32C of "hello", as GCS writes them
  const Json item = {{"name", "dir/a b"},
                     {"size", "5"},
                     {"generation", "1700000000123456"},
                     {"md5Hash", "XUFAKrxLKna5cZ2REBfFkg=="},
                     {"crc32c", Crc32cBase64(checksum::Crc32c(checksum::AsBytes("hello")))},
                     {"updated", "2026-11-28T10:00:00.000Z"},
                     {"contentType", "text/plain"},
                     {"cacheControl", "no-cache"},
                     {"metadata", {{"owner", "me"}, {kGcsExpiresMeta, "Thu, 01 Jan 2037"}}}};
  auto o = ParseObjectResource(item.dump());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->info.size, 5u);
  EXPECT_EQ(o->info.etag, "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(o->generation, "1700000000123456");
  EXPECT_TRUE(o->info.has_details);
  EXPECT_EQ(o->info.content.content_type, "text/plain");
  EXPECT_EQ(o->info.content.cache_control, "no-cache");
  EXPECT_EQ(o->info.content.expires, "Thu, 01 Jan 2037");
  EXPECT_EQ(o->info.metadata, (std::map<std::string, std::string>{{"owner", "me"}}));

  Json composite = item;
  composite.erase("md5Hash");
  EXPECT_EQ(ParseObjectResource(composite.dump())->info.etag, "1700000000123456");
  Json sizeless = item;
  sizeless.erase("size");
  EXPECT_EQ(ParseObjectResource(sizeless.dump()).status().code(), ErrorCode::kInvalidArgument);

  const Json page = {{"items", {item, item}}, {"nextPageToken", "tok"}};
  auto parsed = ParseObjectsPage(page.dump());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->objects.size(), 2u);
  EXPECT_EQ(parsed->next_page_token, "tok");
  EXPECT_TRUE(ParseObjectsPage("{}")->objects.empty());
  EXPECT_FALSE(ParseObjectsPage(R"({"items":{}})").ok());
  EXPECT_FALSE(ParseObjectsPage("<html>").ok());
}

TEST(GcsFormat, UploadResourceMultipartBodyAndHashes) {
  WriteSpec spec;
  spec.content.content_type = "text/plain";
  spec.content.expires = "never";
  spec.metadata = {{"a", "1"}};
  const Json doc = Json::parse(UploadResource("k", spec, {{"b", "2"}}, "bWQ1", "Y3Jj"));
  EXPECT_EQ(doc["name"], "k");
  EXPECT_EQ(doc["contentType"], "text/plain");
  EXPECT_FALSE(doc.contains("cacheControl"));
  EXPECT_EQ(doc["metadata"], (Json{{"a", "1"}, {"b", "2"}, {kGcsExpiresMeta, "never"}}));
  EXPECT_EQ(doc["md5Hash"], "bWQ1");
  EXPECT_EQ(doc["crc32c"], "Y3Jj");

  EXPECT_EQ(MultipartBody("BB", "{}", checksum::AsBytes("xy")),
            "--BB\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{}\r\n--BB\r\n"
            "Content-Type: application/octet-stream\r\n\r\nxy\r\n--BB--\r\n");

  // CRC32C("123456789") = 0xE3069283, big-endian bytes in base64
  EXPECT_EQ(Crc32cBase64(0xE3069283u), "4waSgw==");
  const GoogHash both = ParseGoogHash({"crc32c=4waSgw==,md5=XUFAKrxLKna5cZ2REBfFkg=="});
  EXPECT_EQ(both.crc32c, "4waSgw==");
  EXPECT_EQ(both.md5, "XUFAKrxLKna5cZ2REBfFkg==");
  const GoogHash split = ParseGoogHash({"crc32c=AAAAAA==", " md5=bWQ1"});
  EXPECT_EQ(split.crc32c, "AAAAAA==");
  EXPECT_EQ(split.md5, "bWQ1");
}

}  // namespace
}  // namespace ferry::storage::gcs
