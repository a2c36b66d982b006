// The environment as the credential sources read it (AWS_* variables, HOME). Not a public API.
#pragma once

#include <cstdlib>
#include <string>

namespace ferry::credentials {

// The value of the environment variable `name`; empty when it is not set.
inline std::string EnvOrEmpty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace ferry::credentials
