// Internal to the http module: the TLS settings of libcurl easy handles, applied per request.
//
// A pooled handle serves requests of every remote, each with its own CA bundle and check
// (TlsSettings). ApplyTls gives a handle the settings of its next request, touching libcurl only
// when they differ from the handle's last ones (in steady state a handle keeps serving one
// remote: no call at all). libcurl matches a kept connection (and a TLS session to resume) to
// a request only when the CA file, CA directory and both checks are the same, so a connection
// made without a check never carries a request that asks for one.
//
// Thread-safety: a handle and its HandleTls belong to one request at a time.
#pragma once

#include <curl/curl.h>

#include <string>

namespace ferry::http::internal {

// What one easy handle was last given; a new handle has libcurl's defaults.
struct HandleTls {
  std::string ca_bundle;  // "": libcurl's built-in CA file and directory (the system's)
  bool verify = true;     // peer and host name checked
};

// libcurl's built-in CA file and directory, read once from `fresh`, a handle no CA option was
// set on yet (CURLINFO_CAINFO answers the handle's current value, not a constant).
void RememberBuiltinCa(CURL* fresh);

// Gives `h` the CA bundle `ca_bundle` (its CAs only; "": the built-in file and directory) and
// the peer and host name checks on or off, unless `applied` says it has them; updates `applied`.
// RememberBuiltinCa must have run before a handle goes back to the built-in CAs.
void ApplyTls(CURL* h, HandleTls& applied, const std::string& ca_bundle, bool verify);

}  // namespace ferry::http::internal
