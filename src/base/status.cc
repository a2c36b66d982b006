#include "base/status.h"

#include <cstdio>
#include <cstdlib>

namespace ferry {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kAlreadyExists: return "AlreadyExists";
    case ErrorCode::kPermissionDenied: return "PermissionDenied";
    case ErrorCode::kUnauthenticated: return "Unauthenticated";
    case ErrorCode::kFailedPrecondition: return "FailedPrecondition";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kDataLoss: return "DataLoss";
    case ErrorCode::kCancelled: return "Cancelled";
    case ErrorCode::kNotSupported: return "NotSupported";
    case ErrorCode::kInternal: return "Internal";
  }
  return "Unknown";
}

Status Status::WithContext(std::string_view doing) const {
  if (ok()) return *this;
  std::string m(doing);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(ErrorCodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

void CheckFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "ferry: internal check failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace ferry
