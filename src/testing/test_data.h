// Generated test data, the same for the same seed: text that compresses about 4:1 and random
// bytes that do not compress (an archive stores them raw).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace ferry::testing {

// `n` letters of a four-letter alphabet.
inline std::string Text(size_t n, int seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 16) {
    uint32_t bits = rng();
    for (size_t j = i; j < std::min(n, i + 16); ++j, bits >>= 2) {
      s[j] = static_cast<char>('a' + (bits & 3));
    }
  }
  return s;
}

// Fills `out` with bytes of a seeded generator (splitmix64, eight bytes a step): test code is
// compiled at -O0, where a std::mt19937 call per byte made generating a test's 21 MiB half of
// its CPU under the sanitizers.
inline void FillRandom(void* out, size_t n, uint64_t seed) {
  auto* p = static_cast<unsigned char*>(out);
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(p + i, &z, std::min<size_t>(8, n - i));
  }
}

// `n` random bytes (they do not compress).
inline std::string Random(size_t n, int seed) {
  std::string s(n, '\0');
  FillRandom(s.data(), n, static_cast<uint64_t>(seed));
  return s;
}

// The same as a vector of bytes.
inline std::vector<std::byte> RandomBytes(size_t n, uint64_t seed) {
  std::vector<std::byte> v(n);
  FillRandom(v.data(), n, seed);
  return v;
}

}  // namespace ferry::testing
