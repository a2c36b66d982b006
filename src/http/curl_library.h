// libcurl, loaded on first use (see base/shared_library.h for why it is not linked).
//
// curl_library.cc defines every libcurl function ferry calls (curl_easy_init, curl_easy_setopt,
// curl_multi_*, ...) as a forwarder to the same function in libcurl.so.4, so the code in
// src/http uses libcurl's API as documented. LoadCurl() must have succeeded before the first of
// those calls; CurlTransport::Send checks it, so a machine without libcurl gets one clear error
// on its first request instead of failing to start ferry at all.
//
// Thread-safety: LoadCurl may be called from any thread; the first call loads the library and
// runs curl_global_init once, later calls return the same status.
#pragma once

#include "base/status.h"

namespace ferry::http {

// Loads libcurl.so.4 and runs curl_global_init(CURL_GLOBAL_DEFAULT), once per process.
// NotSupported (final, never retried) when the library or one of its functions is missing.
Status LoadCurl();

}  // namespace ferry::http
