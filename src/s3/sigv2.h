// AWS Signature Version 2 for S3 (the REST authentication of older S3-compatible stores; a
// remote's `signature = "v2"`): Authorization: AWS KEYID:base64(HMAC-SHA1(secret,
// StringToSign)) with
//   StringToSign = METHOD \n Content-MD5 \n Content-Type \n Date \n
//                  CanonicalizedAmzHeaders CanonicalizedResource
// The date travels as x-amz-date (RFC 1123), so the Date line is empty and x-amz-date is one
// of the x-amz-* headers (lower-cased names, sorted, "name:value\n", values trimmed).
// CanonicalizedResource is "/bucket" (whatever the addressing), the URL's encoded key path,
// and the sub-resources S3 signs ("?acl", "?uploadId=..&partNumber=..", "versionId", ...,
// response-* overrides), sorted by name, values decoded.
//
// Called by the S3 client for every request of a v2 client (s3/client.cc). Pure; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "http/transport.h"
#include "s3/types.h"

namespace ferry::s3 {

// The StringToSign of `request` (which must carry every header to sign, x-amz-date included)
// for an object (or bucket, `key` empty) of `bucket` ("" for the service). Exposed for tests
// and for debugging a mismatch.
std::string SigV2StringToSign(const http::HttpRequest& request, std::string_view bucket,
                              bool virtual_host);

// Signs `request` in place: x-amz-date from `now`, x-amz-security-token when the credentials
// have a session token, and Authorization.
void SignV2(http::HttpRequest& request, std::string_view bucket, bool virtual_host,
            const Credentials& credentials, std::chrono::system_clock::time_point now);

}  // namespace ferry::s3
