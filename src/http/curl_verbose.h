// Internal to the http module: FERRY_CURL_VERBOSE=1 traces requests and replies on stderr
// (libcurl's debug callback) with secrets redacted: the values of Authorization,
// x-amz-security-token and any other credential-bearing header never reach the trace.
//
// Pure except for DebugCallback (writes stderr); thread-safe.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>

namespace ferry::http::internal {

// A block of header lines ("Name: value\r\n"...) with the values of secret headers replaced
// by "<redacted>". Other lines are kept as they are.
std::string RedactHeaders(std::string_view block);

// CURLOPT_DEBUGFUNCTION: informational text and headers (redacted); bodies are summarised by
// their length only.
int DebugCallback(CURL* handle, curl_infotype type, char* data, size_t size, void* user);

}  // namespace ferry::http::internal
