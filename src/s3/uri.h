// URI encoding by SigV4's rules and URL building for S3 requests (path-style and virtual-host).
//
// Called by the S3 client's request builder, the signer and the XML reply parsers (for
// encoding-type=url). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3/types.h"

namespace ferry::s3 {

// Percent-encodes every byte except the unreserved A-Z a-z 0-9 - . _ ~ as %XX (upper-case
// hex), as SigV4 requires. With `keep_slash`, '/' is kept too (object key paths).
std::string UriEncode(std::string_view s, bool keep_slash = false);
void AppendUriEncoded(std::string& out, std::string_view s, bool keep_slash = false);

// Decodes %XX escapes (invalid escapes are kept as they are). With `plus_as_space`, '+' becomes
// ' ': S3 replies with encoding-type=url encode a space as '+' and a '+' as %2B.
std::string UriDecode(std::string_view s, bool plus_as_space = false);

// True when `bucket` can be a DNS label prefix: 3-63 characters of a-z 0-9 '-' '.', starting and
// ending with a letter or digit, no "..", not shaped like an IPv4 address. With `https`, names
// with '.' are refused too (they do not match the endpoint's wildcard certificate).
bool IsDnsCompatibleBucket(std::string_view bucket, bool https);

// Query parameters as raw (unencoded) name/value pairs. An empty value is sent as the bare name
// ("?uploads"), which SigV4 canonicalizes as "uploads=".
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Builds the request URL. `endpoint` is scheme://host[:port] (no trailing slash). Path-style:
// endpoint/bucket/key; virtual-host (only when the bucket is DNS-compatible, otherwise
// path-style): scheme://bucket.host[:port]/key. The key is encoded with '/' kept; an empty
// bucket addresses the service, an empty key the bucket ("/bucket" path-style, "/" virtual-host).
// Query parameters are encoded and sorted by name then value, i.e. in canonical order.
std::string BuildUrl(std::string_view endpoint, Addressing addressing, std::string_view bucket,
                     std::string_view key, const QueryParams& query);

// The "/bucket/key[?versionId=v]" value of x-amz-copy-source, URL-encoded ('/' kept in the key).
std::string CopySource(std::string_view bucket, std::string_view key, std::string_view version_id);

// "s3://bucket/key" (or "s3://bucket" when the key is empty) for messages.
std::string DisplayName(std::string_view bucket, std::string_view key);

}  // namespace ferry::s3
