#include "base/shared_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace ferry {

Result<SharedLibrary> SharedLibrary::Open(const char* soname, std::string_view needed_for,
                                          std::string_view package) {
  // RTLD_LOCAL: symbols are found through this handle only, so the library's names cannot
  // collide with the forwarding functions of the same names in ferry itself.
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Status::NotSupported("cannot load " + std::string(soname) + " (needed for " +
                                std::string(needed_for) + "; install " + std::string(package) +
                                "): " + (why ? why : "unknown error"));
  }
  return SharedLibrary(handle, soname);
}

Result<void*> SharedLibrary::Resolve(const char* name) const {
  dlerror();  // clear a stale error
  void* address = dlsym(handle_, name);
  if (address == nullptr) {
    const char* why = dlerror();
    return Status::NotSupported(soname_ + " lacks " + name + ": " + (why ? why : "null symbol"));
  }
  return address;
}

Status OnceLoader::Get() {
  std::call_once(once_, [this] {
    status_ = load_();
    loaded_.store(status_.ok(), std::memory_order_release);
  });
  return status_;
}

void OnceLoader::RequireLoaded() {
  if (loaded_.load(std::memory_order_acquire)) return;
  if (Status s = Get(); !s.ok()) {
    std::fprintf(stderr, "ferry: %s\n", s.message().c_str());
    std::abort();
  }
}

}  // namespace ferry
