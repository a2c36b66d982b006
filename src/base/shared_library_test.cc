#include "base/shared_library.h"

#include <cstring>

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(SharedLibraryTest, AMissingLibraryIsOneErrorNamingItsPurposeAndPackage) {
  Result<SharedLibrary> lib =
      SharedLibrary::Open("libferry-no-such-library.so.7", "the tests", "ferry-test-package");
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.status().code(), ErrorCode::kNotSupported);
  EXPECT_EQ(lib.status().message().rfind(
                "cannot load libferry-no-such-library.so.7 (needed for the tests; install "
                "ferry-test-package): ",
                0),
            0u)
      << lib.status().message();
  EXPECT_EQ(lib.status().message().find('\n'), std::string::npos);
  EXPECT_EQ(Classify(lib.status()), Retryability::kFinal);
}

TEST(SharedLibraryTest, ResolvesFunctionsWithTheirOwnTypes) {
  Result<SharedLibrary> lib = SharedLibrary::Open("libc.so.6", "the tests", "libc6");
  ASSERT_TRUE(lib.ok()) << lib.status().ToString();
  decltype(&::strlen) fn = nullptr;
  ASSERT_TRUE(lib->ResolveInto("strlen", fn).ok());
  ASSERT_NE(fn, nullptr);
  EXPECT_EQ(fn("ferry"), 5u);

  Result<void*> missing = lib->Resolve("ferry_no_such_function");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotSupported);
  EXPECT_NE(missing.status().message().find("libc.so.6 lacks ferry_no_such_function"),
            std::string::npos)
      << missing.status().message();
}

}  // namespace
}  // namespace ferry
