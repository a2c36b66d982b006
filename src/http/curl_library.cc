#include "http/curl_library.h"

// The forwarders below define libcurl's own functions; its compile-time type checks of
// curl_easy_setopt's argument are macros that would rename them.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include <cstdarg>
#include <string>

#include "base/shared_library.h"

namespace ferry::http {
namespace {

// Every libcurl function ferry calls, typed from libcurl's own declarations.
#define FERRY_CURL_FUNCTIONS(X) \
  X(curl_global_init)           \
  X(curl_easy_init)             \
  X(curl_easy_cleanup)          \
  X(curl_easy_setopt)           \
  X(curl_easy_getinfo)          \
  X(curl_easy_perform)          \
  X(curl_easy_strerror)         \
  X(curl_multi_init)            \
  X(curl_multi_cleanup)         \
  X(curl_multi_setopt)          \
  X(curl_multi_add_handle)      \
  X(curl_multi_remove_handle)   \
  X(curl_multi_socket_action)   \
  X(curl_multi_info_read)       \
  X(curl_free)                  \
  X(curl_url)                   \
  X(curl_url_cleanup)           \
  X(curl_url_set)               \
  X(curl_url_get)

struct CurlFunctions {
#define FERRY_CURL_SLOT(name) decltype(&::name) name = nullptr;
  FERRY_CURL_FUNCTIONS(FERRY_CURL_SLOT)
#undef FERRY_CURL_SLOT
};

CurlFunctions g_curl;

Status LoadCurlOnce() {
  FERRY_ASSIGN_OR_RETURN(
      SharedLibrary lib,
      SharedLibrary::Open("libcurl.so.4", "requests to S3-compatible stores", "libcurl4"));
#define FERRY_CURL_RESOLVE(name) FERRY_RETURN_IF_ERROR(lib.ResolveInto(#name, g_curl.name));
  FERRY_CURL_FUNCTIONS(FERRY_CURL_RESOLVE)
#undef FERRY_CURL_RESOLVE
  if (CURLcode rc = g_curl.curl_global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    return Status::NotSupported("curl_global_init failed: " +
                                std::string(g_curl.curl_easy_strerror(rc)));
  }
  return Status::Ok();
}

OnceLoader g_curl_loader(&LoadCurlOnce);

// The table, for a forwarder.
const CurlFunctions& Curl() {
  g_curl_loader.RequireLoaded();
  return g_curl;
}

// curl_easy_setopt and curl_multi_setopt take one argument whose type follows from the
// option's number: libcurl numbers options by type (CURLOPTTYPE_LONG, _OBJECTPOINT,
// _FUNCTIONPOINT, _OFF_T, _BLOB), the same rule its own implementation reads them by.
template <class Code, class Handle, class Option>
Code ForwardOption(Code (*fn)(Handle*, Option, ...), Handle* handle, Option option,
                   va_list ap) {
  if (option < CURLOPTTYPE_OBJECTPOINT) return fn(handle, option, va_arg(ap, long));
  if (option < CURLOPTTYPE_FUNCTIONPOINT) return fn(handle, option, va_arg(ap, void*));
  if (option < CURLOPTTYPE_OFF_T) return fn(handle, option, va_arg(ap, void (*)()));
  if (option < CURLOPTTYPE_BLOB) return fn(handle, option, va_arg(ap, curl_off_t));
  return fn(handle, option, va_arg(ap, void*));
}

}  // namespace

Status LoadCurl() { return g_curl_loader.Get(); }

}  // namespace ferry::http

using ferry::http::Curl;
using ferry::http::ForwardOption;

// The forwarders: libcurl's functions, as declared in its headers.
extern "C" {

CURLcode curl_global_init(long flags) { return Curl().curl_global_init(flags); }
CURL* curl_easy_init(void) { return Curl().curl_easy_init(); }
void curl_easy_cleanup(CURL* curl) { Curl().curl_easy_cleanup(curl); }
CURLcode curl_easy_perform(CURL* curl) { return Curl().curl_easy_perform(curl); }
const char* curl_easy_strerror(CURLcode code) { return Curl().curl_easy_strerror(code); }
CURLM* curl_multi_init(void) { return Curl().curl_multi_init(); }
CURLMcode curl_multi_cleanup(CURLM* multi) { return Curl().curl_multi_cleanup(multi); }
CURLMcode curl_multi_add_handle(CURLM* multi, CURL* curl) {
  return Curl().curl_multi_add_handle(multi, curl);
}
CURLMcode curl_multi_remove_handle(CURLM* multi, CURL* curl) {
  return Curl().curl_multi_remove_handle(multi, curl);
}
CURLMcode curl_multi_socket_action(CURLM* multi, curl_socket_t s, int ev_bitmask,
                                   int* running_handles) {
  return Curl().curl_multi_socket_action(multi, s, ev_bitmask, running_handles);
}
CURLMsg* curl_multi_info_read(CURLM* multi, int* msgs_in_queue) {
  return Curl().curl_multi_info_read(multi, msgs_in_queue);
}
void curl_free(void* p) { Curl().curl_free(p); }
CURLU* curl_url(void) { return Curl().curl_url(); }
void curl_url_cleanup(CURLU* handle) { Curl().curl_url_cleanup(handle); }
CURLUcode curl_url_set(CURLU* handle, CURLUPart what, const char* part, unsigned int flags) {
  return Curl().curl_url_set(handle, what, part, flags);
}
CURLUcode curl_url_get(CURLU* handle, CURLUPart what, char** part, unsigned int flags) {
  return Curl().curl_url_get(handle, what, part, flags);
}

// curl's own signatures put an enum before the "...": clang warns that va_start after a
// parameter of a type that undergoes promotion is undefined, but an enum with int's range is
// passed as an int on every ABI curl supports, and the signatures are curl's, not ours.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvarargs"
#endif
CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  va_list ap;
  va_start(ap, option);
  const CURLcode rc = ForwardOption(Curl().curl_easy_setopt, curl, option, ap);
  va_end(ap);
  return rc;
}

CURLMcode curl_multi_setopt(CURLM* multi, CURLMoption option, ...) {
  va_list ap;
  va_start(ap, option);
  const CURLMcode rc = ForwardOption(Curl().curl_multi_setopt, multi, option, ap);
  va_end(ap);
  return rc;
}

// Every CURLINFO_* takes a pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  va_list ap;
  va_start(ap, info);
  void* out = va_arg(ap, void*);
  va_end(ap);
  return Curl().curl_easy_getinfo(curl, info, out);
}
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

}  // extern "C"
