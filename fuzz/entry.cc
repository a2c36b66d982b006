// libFuzzer's entry point for one target: FERRY_FUZZ_FN names its function (fuzz/CMakeLists.txt
// sets it per executable).
#include "fuzz/fuzz_target.h"

FERRY_FUZZ_TARGET(FERRY_FUZZ_NAME);

#define FERRY_FUZZ_CALL2(name) FerryFuzz_##name
#define FERRY_FUZZ_CALL(name) FERRY_FUZZ_CALL2(name)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return FERRY_FUZZ_CALL(FERRY_FUZZ_NAME)(data, size);
}
