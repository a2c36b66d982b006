// ScopedEnv: for tests of code that reads the process environment (the AWS variables, HOME).
// Unsets the variables it is given and restores their old values when it goes away; Home()
// points HOME at a fresh folder of its own (removed at the end), with `.aws/` in it.
//
// Not thread-safe (the environment is the process's): use it in tests that run one at a time
// within their binary, as gtest runs them.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace ferry::testing {

class ScopedEnv {
 public:
  explicit ScopedEnv(std::initializer_list<const char*> names) {
    for (const char* name : names) Save(name);
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
    if (!home_.empty()) std::filesystem::remove_all(home_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

  // A fresh HOME named after the running test ("<tag>-<pid>-<test>"), with `.aws/` made.
  const std::filesystem::path& Home(const std::string& tag) {
    Save("HOME");
    home_ = std::filesystem::temp_directory_path() /
            (tag + "-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(home_);
    std::filesystem::create_directories(home_ / ".aws");
    setenv("HOME", home_.c_str(), 1);
    return home_;
  }

 private:
  void Save(const char* name) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    unsetenv(name);
  }

  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
  std::filesystem::path home_;
};

}  // namespace ferry::testing
