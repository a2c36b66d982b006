// A fuzz target: a function that takes any bytes and must return without a crash, a throw that
// escapes, a leak or undefined behaviour, and with its own invariants kept (Require). Each one
// exercises one of ferry's parsers of what others send it (see docs/design/hardening.md).
//
// A target file defines its function with FERRY_FUZZ_TARGET(name) { ... }. The same function is
// built two ways (fuzz/CMakeLists.txt):
//   - fuzz_<name>: a libFuzzer executable (clang, -DFERRY_FUZZ=ON; entry.cc calls the function),
//     run by scripts/fuzz.sh;
//   - fuzz_replay_test: a unit test of every build that feeds each target its seed corpus
//     (fuzz/corpus/<name>/) and every input that once broke it (fuzz/regressions/<name>/).
// Thread-safety: a target may be called from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#define FERRY_FUZZ_TARGET(name) \
  int FerryFuzz_##name(const uint8_t* data, size_t size)

namespace ferry::fuzz {

using TargetFn = int (*)(const uint8_t* data, size_t size);

struct Target {
  const char* name;  // as in fuzz_<name>, fuzz/corpus/<name>/
  TargetFn fn;
};

// Every target, in the order of fuzz/targets.cc.
std::span<const Target> AllTargets();

// Aborts (a crash libFuzzer reports with the input) when an invariant does not hold.
inline void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ferry::fuzz
