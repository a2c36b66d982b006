// The precompiled header of every test target when FERRY_TEST_PCH is on (cmake/BuildSpeed.cmake):
// what most test files parse - gtest, nlohmann-json and the standard headers the tests include
// most. Only headers that define no names outside their own namespaces: a test file sees these
// declarations whether it includes them or not.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>
