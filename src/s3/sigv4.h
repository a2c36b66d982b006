// AWS Signature Version 4 for request headers, written as the specification's named steps:
//   1. canonical request   2. string to sign   3. signing key   4. signature
// then the Authorization header.
//
// Called by the S3 client for every request (and by tests against AWS's published vectors in
// tests/data/sigv4/). Pure: the time and credentials are inputs; thread-safe.
//
// What gets signed: every header present on the request except the transport's own
// (Authorization, Content-Length, Expect, User-Agent, Connection, Transfer-Encoding, Accept and
// X-Amzn-Trace-Id), so host, content-md5, content-type, range and all x-amz-* headers are
// covered. The request builder, not the signer, decides S3 policy headers such as
// x-amz-content-sha256.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "checksum/checksum.h"
#include "http/transport.h"
#include "s3/types.h"

namespace ferry::s3 {

struct SigningScope {
  std::string region;
  std::string service = "s3";
  // false (S3): the URL's path is the canonical URI exactly as sent. S3 keys are URI-encoded
  // once by the request builder, and S3 neither normalizes nor re-encodes them.
  // true (every other AWS service, and the generic SigV4 test suite): the path is normalized
  // (".", ".." and empty segments removed) and URI-encoded again ("%20" becomes "%2520").
  bool double_encode_path = false;
};

// The named steps, exposed for tests and for debugging signature mismatches.
namespace sigv4 {

struct CanonicalRequest {
  std::string text;            // the canonical request
  std::string signed_headers;  // "host;x-amz-date"
};

// Step 1. `request` must already carry every header to sign (including x-amz-date and host).
CanonicalRequest BuildCanonicalRequest(const http::HttpRequest& request,
                                       std::string_view payload_sha256_hex,
                                       bool double_encode_path);
// "20150830/us-east-1/service/aws4_request"
std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service);
// Step 2.
std::string BuildStringToSign(std::string_view amz_date, std::string_view credential_scope,
                              std::string_view canonical_request);
// Step 3. `date` is YYYYMMDD.
checksum::Sha256Digest DeriveSigningKey(std::string_view secret_access_key, std::string_view date,
                                        std::string_view region, std::string_view service);
// DeriveSigningKey through a cache of the last four keys this thread derived (four HMACs saved
// per request; a copy signs for two regions); a different secret, date, region or service
// derives again. The reference is valid until this thread's next call.
// CachedSigningKeysDerived: how many keys this thread's cache derived so far (for tests).
uint64_t CachedSigningKeysDerived();
const checksum::Sha256Digest& CachedSigningKey(std::string_view secret_access_key,
                                               std::string_view date, std::string_view region,
                                               std::string_view service);
// Step 4: lower-case hex HMAC-SHA256 of the string to sign.
std::string Signature(const checksum::Sha256Digest& signing_key, std::string_view string_to_sign);

// The host[:port] of an absolute URL ("" when there is none).
std::string_view UrlAuthority(std::string_view url);

}  // namespace sigv4

// Signs `request` in place: sets Host (from the URL, unless present), x-amz-date (from `now`),
// x-amz-security-token (when the credentials have a session token) and Authorization.
// `payload_sha256_hex` is the hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
void SignV4(http::HttpRequest& request, std::string_view payload_sha256_hex,
            const Credentials& credentials, const SigningScope& scope,
            std::chrono::system_clock::time_point now);

}  // namespace ferry::s3
