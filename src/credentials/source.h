// Source: one place temporary (or fixed) credentials come from: STS AssumeRole, web identity,
// a credential_process, the ECS container endpoint, EC2's instance metadata, the SSO cache.
// Each source fetches a new set when asked; RefreshingProvider (refreshing.h) decides when.
//
// Implementations call out (HTTP through the process's one transport, or a child process) and
// may block for the length of one such call; they are thread-safe but are called by one thread
// at a time (the provider's refresh). Messages name the source (Describe), never a secret.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/status.h"
#include "s3/types.h"

namespace ferry::credentials {

// A set of credentials and when it stops working (nullopt: never, as far as ferry knows).
struct Expiring {
  s3::Credentials credentials;
  std::optional<std::chrono::system_clock::time_point> expiration;
};

class Source {
 public:
  virtual ~Source() = default;
  // A new set. Errors: kUnavailable (the service did not answer: worth trying again later),
  // kPermissionDenied / kUnauthenticated (refused), kInvalidArgument (a malformed answer or
  // setting), kNotFound (the source has nothing for this process: no role attached).
  virtual Result<Expiring> Fetch() = 0;
  // What it is, for messages: "role arn:aws:iam::1:role/x (profile \"p\")". Never a secret.
  virtual std::string Describe() const = 0;
};

}  // namespace ferry::credentials
