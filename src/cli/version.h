// `ferry --version`: the version, the commit it was built from and the libraries (with their
// versions) it was built against.
#pragma once

#include <string>

namespace ferry::cli {

// Several lines, the last without a newline:
//   ferry 0.1.0 (commit 0123456789ab)
//   built with: libcurl 7.88.1, OpenSSL 3.0.19, ...
std::string VersionText();

// The version alone: "0.1.0".
std::string VersionNumber();

}  // namespace ferry::cli
