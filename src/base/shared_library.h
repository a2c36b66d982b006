// SharedLibrary: a system library opened when it is first needed, not when ferry starts.
//
// libcurl, libpq and libmicrohttpd each pull in libssl and a chain of 20-odd libraries (Kerberos,
// LDAP, GnuTLS, ...). Linked at build time, the dynamic loader maps and initializes all of them
// at every start (OpenSSL reads its configuration and registers its ciphers from libssl's
// constructor): 15-20 ms that `ferry archive pack` of a local folder, `ferry --help` or a sync
// between two folders never use. So ferry reaches those three through tables of function
// pointers filled here on first use (see http/curl_library.cc, state/pg_library.cc,
// cli/commands/metrics_server.cc); the rest of the code calls their usual C functions.
//
// Thread-safety: Open and Resolve may be called from any thread. A library stays loaded until
// the process exits (never dlclose'd: its functions may be running on other threads).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry {

class SharedLibrary {
 public:
  // Opens `soname` (e.g. "libcurl.so.4"). `needed_for` completes the error, which names the
  // library, what it is for and the Debian package that ships it:
  //   "cannot load libpq.so.5 (needed for a postgres:// state store; install libpq5): ..."
  // NotSupported (final: retrying cannot help) when it cannot be loaded.
  static Result<SharedLibrary> Open(const char* soname, std::string_view needed_for,
                                    std::string_view package);

  // The address of `name`, or NotSupported when this version of the library lacks it.
  Result<void*> Resolve(const char* name) const;

  // Resolves `name` into a function pointer of the type of `*fn` (declared with decltype of the
  // library's own prototype, so the types always match its header).
  template <class Fn>
  Status ResolveInto(const char* name, Fn*& fn) const {
    FERRY_ASSIGN_OR_RETURN(void* address, Resolve(name));
    fn = reinterpret_cast<Fn*>(address);
    return Status::Ok();
  }

 private:
  SharedLibrary(void* handle, std::string soname) : handle_(handle), soname_(std::move(soname)) {}

  void* handle_;
  std::string soname_;
};

// Loads a library's table once per process, on first use: Get runs `load` the first time
// (whichever thread gets there first; the others wait for it) and returns its status on every
// call. For the forwarding functions of a table: RequireLoaded loads if nothing has yet and
// ends ferry with one line naming the library when it cannot be loaded, as a forwarder has no
// status to return (every path into one checks Get first, so this is a bug in ferry).
class OnceLoader {
 public:
  explicit OnceLoader(Status (*load)()) : load_(load) {}
  Status Get();
  void RequireLoaded();

 private:
  Status (*const load_)();
  std::once_flag once_;
  Status status_;
  std::atomic<bool> loaded_{false};
};

}  // namespace ferry
