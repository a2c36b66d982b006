#include "http/curl_tls.h"

#include <mutex>
#include <optional>

namespace ferry::http::internal {
namespace {

struct BuiltinCa {
  std::optional<std::string> file;  // nullopt: libcurl was built without one
  std::optional<std::string> dir;
};

BuiltinCa g_builtin;
std::once_flag g_builtin_once;

std::optional<std::string> Info(CURL* h, CURLINFO what) {
  char* value = nullptr;
  if (curl_easy_getinfo(h, what, &value) != CURLE_OK || value == nullptr) return std::nullopt;
  return std::string(value);
}

const char* OrNull(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

}  // namespace

void RememberBuiltinCa(CURL* fresh) {
  std::call_once(g_builtin_once, [fresh] {
    g_builtin.file = Info(fresh, CURLINFO_CAINFO);
    g_builtin.dir = Info(fresh, CURLINFO_CAPATH);
  });
}

void ApplyTls(CURL* h, HandleTls& applied, const std::string& ca_bundle, bool verify) {
  if (applied.ca_bundle != ca_bundle) {
    if (ca_bundle.empty()) {
      curl_easy_setopt(h, CURLOPT_CAINFO, OrNull(g_builtin.file));
      curl_easy_setopt(h, CURLOPT_CAPATH, OrNull(g_builtin.dir));
    } else {
      // this bundle's CAs, not the system's as well
      curl_easy_setopt(h, CURLOPT_CAINFO, ca_bundle.c_str());
      curl_easy_setopt(h, CURLOPT_CAPATH, static_cast<const char*>(nullptr));
    }
    applied.ca_bundle = ca_bundle;
  }
  if (applied.verify != verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    applied.verify = verify;
  }
}

}  // namespace ferry::http::internal
