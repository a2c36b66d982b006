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

Status Status::WithSubject(ErrorSubject subject) const {
  Status s = *this;
  if (!s.ok()) s.subject_ = subject;
  return s;
}

bool Status::transient() const { return Classify(*this) == Retryability::kRetryRequest; }

Status Status::WithContext(std::string_view doing) const {
  if (ok()) return *this;
  std::string m(doing);
  m += ": ";
  m += message_;
  Status s(code_, std::move(m));
  s.subject_ = subject_;
  return s;
}

Retryability Classify(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kUnavailable:
      return Retryability::kRetryRequest;
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kDataLoss:
    case ErrorCode::kCancelled:
    case ErrorCode::kInternal:
      return Retryability::kRetryWork;
    case ErrorCode::kNotFound:
      return status.subject() == ErrorSubject::kBucket ? Retryability::kFinal
                                                       : Retryability::kRetryWork;
    case ErrorCode::kOk:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kNotSupported:
      return Retryability::kFinal;
  }
  return Retryability::kFinal;
}

std::string_view RetryabilityName(Retryability r) {
  switch (r) {
    case Retryability::kRetryRequest: return "retry-request";
    case Retryability::kRetryWork: return "retry-work";
    case Retryability::kFinal: return "final";
  }
  return "unknown";
}

bool IsRetryable(const Status& status) { return Classify(status) != Retryability::kFinal; }

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
