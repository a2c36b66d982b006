// Internal to the http module: the one place where libcurl's CURLcode becomes a Status.
//
// Called by CurlTransport after curl_easy_perform fails. Pure; thread-safe.
#pragma once

#include <curl/curl.h>

#include <string_view>

#include "base/status.h"

namespace ferry::http::internal {

// Maps a failed transfer to a Status whose message names the request and curl's own detail:
//   timeouts, connect/resolve failures, resets, send/recv errors, partial bodies -> kUnavailable
//   malformed URL, unsupported scheme                                         -> kInvalidArgument
//   aborted by the progress callback (stop requested)                          -> kCancelled
//   TLS certificate problems                                                   ->
//   kFailedPrecondition everything else -> kInternal
// `detail` is curl's error buffer (may be empty). CURLE_WRITE_ERROR caused by a sink is not
// mapped here: the transport returns the sink's own status instead.
Status CurlCodeToStatus(CURLcode code, std::string_view detail, std::string_view method,
                        std::string_view url);

}  // namespace ferry::http::internal
