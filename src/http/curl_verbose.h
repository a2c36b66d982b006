// Internal to the http module: FERRY_CURL_VERBOSE=1 traces requests and replies through the
// logger at level debug (libcurl's debug callback; ferry then defaults to --log-level debug),
// with secrets redacted: the values of Authorization, x-amz-security-token and any other
// credential-bearing header never reach the trace.
//
// Pure except for DebugCallback (logs); thread-safe.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>
#include <vector>

namespace ferry::http::internal {

// A block of header lines ("Name: value\r\n"...) with the values of secret headers replaced
// by "<redacted>". Other lines are kept as they are.
std::string RedactHeaders(std::string_view block);

// The trace lines (without line ends) of one debug callback: "* text", "> header" sent,
// "< header" received (redacted), "> [N bytes of body]". Empty lines are dropped.
std::vector<std::string> TraceLines(curl_infotype type, std::string_view data);

// CURLOPT_DEBUGFUNCTION: logs TraceLines at level debug, one log line each.
int DebugCallback(CURL* handle, curl_infotype type, char* data, size_t size, void* user);

}  // namespace ferry::http::internal
