#include "s3/sigv2.h"

#include <gtest/gtest.h>

namespace ferry::s3 {
namespace {

http::HttpRequest Request(std::string method, std::string url) {
  http::HttpRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  return r;
}

TEST(SigV2Test, StringToSignOfAnObjectGet) {
  http::HttpRequest r = Request("GET", "http://127.0.0.1:7480/photos/puppy%20one.jpg");
  r.headers.Set("x-amz-date", "Tue, 27 Mar 2007 19:36:42 GMT");
  EXPECT_EQ(SigV2StringToSign(r, "photos", /*virtual_host=*/false),
            "GET\n\n\n\nx-amz-date:Tue, 27 Mar 2007 19:36:42 GMT\n/photos/puppy%20one.jpg");
  // virtual hosts: the bucket comes from the host, and is put in front of the path
  http::HttpRequest v = Request("GET", "https://photos.s3.example.com/puppy%20one.jpg");
  v.headers.Set("x-amz-date", "Tue, 27 Mar 2007 19:36:42 GMT");
  EXPECT_EQ(SigV2StringToSign(v, "photos", /*virtual_host=*/true),
            "GET\n\n\n\nx-amz-date:Tue, 27 Mar 2007 19:36:42 GMT\n/photos/puppy%20one.jpg");
}

TEST(SigV2Test, ContentHeadersAmzHeadersAndSubresources) {
  http::HttpRequest r = Request(
      "PUT", "http://h/b/k?partNumber=2&uploadId=abc%2Fd&prefix=ignored&versionId=v1&acl");
  r.headers.Set("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==");
  r.headers.Set("Content-Type", "text/plain");
  r.headers.Set("X-Amz-Meta-B", " two ");
  r.headers.Add("x-amz-meta-b", "three");
  r.headers.Set("x-amz-meta-a", "one");
  r.headers.Set("Range", "bytes=0-1");  // not signed
  EXPECT_EQ(SigV2StringToSign(r, "b", false),
            "PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/plain\n\n"
            "x-amz-meta-a:one\nx-amz-meta-b:two,three\n"
            "/b/k?acl&partNumber=2&uploadId=abc/d&versionId=v1");
}

TEST(SigV2Test, SignSetsTheDateTokenAndAuthorization) {
  http::HttpRequest r = Request("GET", "http://h/b/k");
  SignV2(r, "b", false, Credentials{"AKID", "secret", "tok"},
         std::chrono::system_clock::time_point(std::chrono::seconds(1175024202)));
  EXPECT_EQ(r.headers.Get("x-amz-date"), "Tue, 27 Mar 2007 19:36:42 GMT");
  EXPECT_EQ(r.headers.Get("x-amz-security-token"), "tok");
  const std::string auth = r.headers.Get("Authorization");
  ASSERT_TRUE(auth.starts_with("AWS AKID:"));
  // base64 of a 20-byte HMAC-SHA1, computed independently (python3 hmac) over
  // "GET\n\n\n\nx-amz-date:Tue, 27 Mar 2007 19:36:42 GMT\nx-amz-security-token:tok\n/b/k"
  EXPECT_EQ(auth, "AWS AKID:pg6lplybVMjcjZH/O5hJWgjW8ns=");
}

}  // namespace
}  // namespace ferry::s3
