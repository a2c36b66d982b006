// SigV4 against AWS's published test-suite vectors (tests/data/sigv4/, generic-service mode)
// and the S3 documentation's example (S3 mode).
#include "s3/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "checksum/checksum.h"
#include "s3/uri.h"

namespace ferry::s3 {
namespace {

using std::chrono::system_clock;

const Credentials kVectorCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
// 2015-08-30T12:36:00Z
const system_clock::time_point kVectorTime =
    system_clock::time_point(std::chrono::seconds(1440938160));

std::string ReadFile(const std::string& path, bool required = true) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (required) ADD_FAILURE() << "missing vector file " << path;
    return {};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string VectorFile(const std::string& name, const std::string& file, bool required = true) {
  return ReadFile(std::string(FERRY_SIGV4_DATA_DIR) + "/" + name + "/" + file, required);
}

struct Vector {
  http::HttpRequest request;
  std::string body;  // owns the bytes request.body points to
};

// request.txt: "METHOD target HTTP/1.1", then "Name:value" lines, a blank line and the body.
// The target may contain spaces and raw UTF-8 (get-space, get-utf8).
void LoadVectorRequest(const std::string& name, Vector& v) {
  const std::string raw = VectorFile(name, "request.txt");
  const size_t blank = raw.find("\n\n");
  std::string head = raw.substr(0, blank);
  v.body = blank == std::string::npos ? std::string() : raw.substr(blank + 2);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  const size_t first_space = line.find(' ');
  const size_t last_space = line.rfind(' ');
  v.request.method = line.substr(0, first_space);
  const std::string target = line.substr(first_space + 1, last_space - first_space - 1);
  std::string host;
  while (std::getline(lines, line)) {
    const size_t colon = line.find(':');
    ASSERT_NE(colon, std::string::npos) << name << ": " << line;
    const std::string header = line.substr(0, colon);
    v.request.headers.Add(header, line.substr(colon + 1));
    if (header == "Host") host = line.substr(colon + 1);
  }
  v.request.url = "https://" + host + target;
  v.request.body = checksum::AsBytes(v.body);
}

class SigV4VectorTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SigV4VectorTest, MatchesAwsVector) {
  const std::string name = GetParam();
  Vector v;
  LoadVectorRequest(name, v);
  Credentials creds = kVectorCredentials;
  creds.session_token = VectorFile(name, "session-token.txt", /*required=*/false);
  const SigningScope scope{"us-east-1", "service", /*double_encode_path=*/true};
  const std::string payload_hash = checksum::Sha256Hex(v.body);

  SignV4(v.request, payload_hash, creds, scope, kVectorTime);

  // Each named step against the published intermediate result.
  const sigv4::CanonicalRequest creq = sigv4::BuildCanonicalRequest(v.request, payload_hash, true);
  EXPECT_EQ(creq.text, VectorFile(name, "canonical-request.txt"));
  const std::string sts = sigv4::BuildStringToSign(
      "20150830T123600Z", sigv4::CredentialScope("20150830", "us-east-1", "service"), creq.text);
  EXPECT_EQ(sts, VectorFile(name, "string-to-sign.txt"));
  EXPECT_EQ(v.request.headers.Get("Authorization"), VectorFile(name, "authorization.txt"));
  EXPECT_EQ(v.request.headers.Get("x-amz-date"), "20150830T123600Z");

  // post-sts-header-after: the token is added after signing and is not part of the signature.
  const std::string token_after = VectorFile(name, "session-token-after.txt", false);
  if (!token_after.empty()) {
    v.request.headers.Set("X-Amz-Security-Token", token_after);
    EXPECT_EQ(v.request.headers.Get("Authorization"), VectorFile(name, "authorization.txt"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    AwsSuite, SigV4VectorTest,
    ::testing::Values("get-vanilla", "get-vanilla-query-order-key-case",
                      "get-vanilla-query-order-key", "get-vanilla-query-order-value",
                      "get-vanilla-empty-query-key", "get-vanilla-query-unreserved",
                      "get-vanilla-utf8-query", "get-unreserved", "get-utf8", "get-space",
                      "get-slashes", "get-relative-relative", "get-slash-pointless-dot",
                      "get-header-key-duplicate", "get-header-value-order", "get-header-value-trim",
                      "post-vanilla", "post-vanilla-query", "post-header-key-sort",
                      "post-header-value-case", "post-x-www-form-urlencoded",
                      "post-x-www-form-urlencoded-parameters", "post-sts-header-before",
                      "post-sts-header-after", "get-vanilla-with-session-token"),
    [](const ::testing::TestParamInfo<const char*>& info) {
      std::string n = info.param;
      for (char& c : n) {
        if (c == '-') c = '_';
      }
      return n;
    });

// The example "GET Object" with a Range header from the Amazon S3 API reference
// (sig-v4-header-based-auth): signature f0e8bdb8..., verified independently.
TEST(SigV4S3Test, GetObjectWithRangeMatchesS3DocumentationExample) {
  http::HttpRequest request;
  request.url = BuildUrl("https://s3.amazonaws.com", Addressing::kVirtualHost, "examplebucket",
                         "test.txt", {});
  ASSERT_EQ(request.url, "https://examplebucket.s3.amazonaws.com/test.txt");
  const std::string empty_hash = checksum::Sha256Hex("");
  request.headers.Add("Range", "bytes=0-9");
  request.headers.Add("x-amz-content-sha256", empty_hash);
  const Credentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  const auto when = system_clock::time_point(std::chrono::seconds(1369353600));  // 20130524T000000Z
  SignV4(request, empty_hash, creds, SigningScope{"us-east-1", "s3"}, when);

  const sigv4::CanonicalRequest creq = sigv4::BuildCanonicalRequest(request, empty_hash, false);
  EXPECT_EQ(creq.text,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" +
                empty_hash +
                "\nx-amz-date:20130524T000000Z\n\n"
                "host;range;x-amz-content-sha256;x-amz-date\n" +
                empty_hash);
  EXPECT_EQ(request.headers.Get("Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Test, S3ModeUsesThePathAsSentWithoutDoubleEncoding) {
  http::HttpRequest request;
  request.url = BuildUrl("http://127.0.0.1:7480", Addressing::kPath, "b", "dir/my key+%/../x", {});
  EXPECT_EQ(request.url, "http://127.0.0.1:7480/b/dir/my%20key%2B%25/../x");
  request.headers.Set("Host", "127.0.0.1:7480");
  const auto s3 = sigv4::BuildCanonicalRequest(request, "UNSIGNED-PAYLOAD", false);
  EXPECT_EQ(s3.text.substr(0, s3.text.find('\n', 4)), "GET\n/b/dir/my%20key%2B%25/../x");
  const auto generic = sigv4::BuildCanonicalRequest(request, "UNSIGNED-PAYLOAD", true);
  EXPECT_EQ(generic.text.substr(0, generic.text.find('\n', 4)), "GET\n/b/dir/x");
}

TEST(SigV4S3Test, QueryFromBuildUrlIsAlreadyCanonical) {
  http::HttpRequest request;
  request.url = BuildUrl("http://h", Addressing::kPath, "b", "",
                         {{"prefix", "a b+c/"}, {"list-type", "2"}, {"uploads", ""}});
  EXPECT_EQ(request.url, "http://h/b?list-type=2&prefix=a%20b%2Bc%2F&uploads");
  request.headers.Set("Host", "h");
  const auto creq = sigv4::BuildCanonicalRequest(request, "x", false);
  EXPECT_NE(creq.text.find("\nlist-type=2&prefix=a%20b%2Bc%2F&uploads=\n"), std::string::npos)
      << creq.text;
}

TEST(SigV4S3Test, AddsHostSessionTokenAndSkipsTransportHeaders) {
  http::HttpRequest request;
  request.method = "PUT";
  request.url = "http://127.0.0.1:7480/b/k";
  request.headers.Set("Content-Length", "5");
  request.headers.Set("User-Agent", "x");
  request.headers.Set("Content-MD5", "abc==");
  request.headers.Set("x-amz-meta-a", "  1  2 ");
  SignV4(request, "h", {"AK", "SK", "TOKEN"}, {"region-a", "s3"}, kVectorTime);
  EXPECT_EQ(request.headers.Get("Host"), "127.0.0.1:7480");
  EXPECT_EQ(request.headers.Get("x-amz-security-token"), "TOKEN");
  const std::string auth = request.headers.Get("Authorization");
  EXPECT_NE(auth.find("Credential=AK/20150830/region-a/s3/aws4_request"), std::string::npos);
  EXPECT_NE(
      auth.find("SignedHeaders=content-md5;host;x-amz-date;x-amz-meta-a;x-amz-security-token,"),
      std::string::npos)
      << auth;
  EXPECT_EQ(auth.find("SK"), std::string::npos);
}

TEST(SigV4S3Test, SigningKeyMatchesAwsDocumentationExample) {
  // From the AWS General Reference "deriving the signing key" example.
  const auto key = sigv4::DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                           "us-east-1", "iam");
  EXPECT_EQ(checksum::Hex(key), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

// The cached key follows every input: a refreshed secret (rotated or session credentials), the
// next day, another region or service each derive a new key, never reuse the last one.
TEST(SigV4S3Test, CachedSigningKeyFollowsSecretDateRegionAndService) {
  const auto derived = [](std::string_view secret, std::string_view date, std::string_view region,
                          std::string_view service) {
    return checksum::Hex(sigv4::DeriveSigningKey(secret, date, region, service));
  };
  const auto cached = [](std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service) {
    return checksum::Hex(sigv4::CachedSigningKey(secret, date, region, service));
  };
  EXPECT_EQ(cached("old-secret", "20261122", "region-a", "s3"),
            derived("old-secret", "20261122", "region-a", "s3"));
  EXPECT_EQ(cached("old-secret", "20261122", "region-a", "s3"),
            derived("old-secret", "20261122", "region-a", "s3"));
  EXPECT_EQ(cached("new-secret", "20261122", "region-a", "s3"),
            derived("new-secret", "20261122", "region-a", "s3"));
  EXPECT_EQ(cached("new-secret", "20261123", "region-a", "s3"),
            derived("new-secret", "20261123", "region-a", "s3"));
  EXPECT_EQ(cached("new-secret", "20261123", "region-b", "s3"),
            derived("new-secret", "20261123", "region-b", "s3"));
  EXPECT_EQ(cached("new-secret", "20261123", "region-b", "s3express"),
            derived("new-secret", "20261123", "region-b", "s3express"));
  // A thread signing for both sides of a copy (two regions, alternating) derives each key once.
  const uint64_t before = sigv4::CachedSigningKeysDerived();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(cached("k", "20261124", "region-a", "s3"), derived("k", "20261124", "region-a", "s3"));
    EXPECT_EQ(cached("k", "20261124", "region-b", "s3"), derived("k", "20261124", "region-b", "s3"));
  }
  EXPECT_EQ(sigv4::CachedSigningKeysDerived() - before, 2u);
  // Signing twice with rotated secrets gives two different signatures.
  const auto sign = [](const std::string& secret) {
    http::HttpRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:7480/bucket/key";
    const Credentials credentials{
        .access_key_id = "AK", .secret_access_key = secret, .session_token = ""};
    const SigningScope scope{.region = "region-a", .service = "s3", .double_encode_path = false};
    SignV4(request, "UNSIGNED-PAYLOAD", credentials, scope, std::chrono::system_clock::time_point{});
    return std::string(*request.headers.Find("Authorization"));
  };
  EXPECT_NE(sign("secret-one"), sign("secret-two"));
}

}  // namespace
}  // namespace ferry::s3
