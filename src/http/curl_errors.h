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
//   this side's TLS files or settings (CA file, client certificate, cipher, CRL file)
//                                                                              -> kInvalidArgument
//   aborted by the progress callback (stop requested)                          -> kCancelled
//   the server's certificate fails the check (chain, host name, pinned key, status)
//                                                                              -> kUnauthenticated
//   everything else                                                            -> kInternal
// The message is "METHOD URL: detail (curl N)" (the URL without its query), but for a
// certificate that fails the check: "TLS certificate of scheme://host[:port] not trusted:
// detail (curl N)", then "; " and `untrusted_hint` when that is not empty.
// `detail` is curl's error buffer (may be empty). CURLE_WRITE_ERROR caused by a sink is not
// mapped here: the transport returns the sink's own status instead.
Status CurlCodeToStatus(CURLcode code, std::string_view detail, std::string_view method,
                        std::string_view url, std::string_view untrusted_hint = {});

}  // namespace ferry::http::internal
