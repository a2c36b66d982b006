// Internal to the http module: FERRY_CURL_VERBOSE=1 traces requests and replies through the
// logger at level debug (libcurl's debug callback; ferry then defaults to --log-level debug),
// with secrets redacted, so that a trace can be pasted into a bug report:
//  - the values of credential-bearing headers, whatever their case: Authorization, the session
//    tokens (x-amz-security-token, x-amz-s3session-token), the SSO portal's
//    x-amz-sso_bearer_token, IMDSv2's x-aws-ec2-metadata-token, SSE-C keys, cookies, and any
//    header whose name holds "token" (not a "-ttl-seconds"), "secret", "password" or ends in
//    "-key" (a digest such as ...-customer-key-MD5 is kept);
//  - in a request line, the value of every query parameter not on a short list of harmless
//    ones (S3's listing, multipart and version parameters...): a webhook's token, a presigned
//    URL's signature and credential, an SNS confirmation token, whatever their names;
//  - a user name and password in any URL a line quotes ("http://user:pw@proxy").
//
// Pure except for DebugCallback (logs); thread-safe.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>
#include <vector>

namespace ferry::http::internal {

// A block of header lines ("Name: value\r\n"...), possibly starting with a request line, with
// the secrets above replaced by "<redacted>". Other lines are kept as they are.
std::string RedactHeaders(std::string_view block);

// `text` with the login of every "scheme://user:password@host" it quotes replaced by
// "<redacted>" ("scheme://<redacted>@host").
std::string RedactUrlLogins(std::string_view text);

// The trace lines (without line ends) of one debug callback: "* text", "> header" sent,
// "< header" received (redacted), "> [N bytes of body]". Empty lines are dropped.
std::vector<std::string> TraceLines(curl_infotype type, std::string_view data);

// CURLOPT_DEBUGFUNCTION: logs TraceLines at level debug, one log line each.
int DebugCallback(CURL* handle, curl_infotype type, char* data, size_t size, void* user);

}  // namespace ferry::http::internal
