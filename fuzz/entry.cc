// libFuzzer's entry point for one target: FERRY_FUZZ_NAME names its function (fuzz/CMakeLists.txt
// sets it per executable).
#include "fuzz/fuzz_target.h"

// FERRY_FUZZ_NAME expanded before it is pasted into the function's name
#define FERRY_FUZZ_FN2(name) FerryFuzz_##name
#define FERRY_FUZZ_FN(name) FERRY_FUZZ_FN2(name)

int FERRY_FUZZ_FN(FERRY_FUZZ_NAME)(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return FERRY_FUZZ_FN(FERRY_FUZZ_NAME)(data, size);
}
