// Status and Result<T>: runtime failures as values.
//
// Every fallible operation in ferry returns a Status (no value) or a Result<T> (a value or a
// non-OK Status). Exceptions never cross a module boundary; adapters around throwing libraries
// convert at their edge. Codes follow absl::StatusCode meanings. Whether a failure is worth
// another try is decided in one place, Classify() below, for every retry layer (the S3 client's
// request loop, the engine, the jobs' retry decision).
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ferry {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kFailedPrecondition,
  kUnavailable,  // transient: network faults, 500/503/SlowDown, timeouts
  kDataLoss,     // checksum mismatch, truncated body
  kCancelled,
  kNotSupported,
  kInternal,
};

std::string_view ErrorCodeName(ErrorCode code);

// What a failure is about, when the layer that mapped it knows. Only kBucket changes the
// retry rule: a missing bucket is final, a missing key may be a race with a writer.
enum class ErrorSubject { kUnspecified, kObject, kBucket };

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
  static Status PermissionDenied(std::string m) {
    return {ErrorCode::kPermissionDenied, std::move(m)};
  }
  static Status Unauthenticated(std::string m) {
    return {ErrorCode::kUnauthenticated, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {ErrorCode::kFailedPrecondition, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Status DataLoss(std::string m) { return {ErrorCode::kDataLoss, std::move(m)}; }
  static Status Cancelled(std::string m) { return {ErrorCode::kCancelled, std::move(m)}; }
  static Status NotSupported(std::string m) { return {ErrorCode::kNotSupported, std::move(m)}; }
  static Status Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  ErrorSubject subject() const { return subject_; }
  // A copy marked as being about `subject` (set by the adapter that maps the error).
  Status WithSubject(ErrorSubject subject) const;
  // The same request may be sent again: Classify(*this) == Retryability::kRetryRequest.
  bool transient() const;

  // Returns a copy whose message is "<doing>: <message>" (code and subject kept). OK stays OK.
  Status WithContext(std::string_view doing) const;
  // "NotFound: message" (for logs and tests).
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  ErrorSubject subject_ = ErrorSubject::kUnspecified;
  std::string message_;
};

// The one error classification: what retrying can do about a failure.
//   kRetryRequest  the same request again, after a backoff: kUnavailable (network faults, 5xx,
//                  SlowDown/429, timeouts). The S3 client's request loop retries these.
//   kRetryWork     not the same request, but the work done again from fresh reads may succeed:
//                  kFailedPrecondition (a source changed since listed, a lost lease),
//                  kDataLoss (a transfer corrupted on the way), kNotFound of an object (a key
//                  deleted or not yet visible), kCancelled (work stopped, e.g. a job given
//                  back), kInternal (an unexpected reply). The engine and the jobs retry these
//                  (up to their attempt limits), never the request loop.
//   kFinal         retrying cannot help; fail at once: kPermissionDenied, kUnauthenticated
//                  (an operator must act), kInvalidArgument, kNotSupported, kAlreadyExists,
//                  kNotFound of a bucket (ErrorSubject::kBucket). OK is kFinal too (nothing to
//                  retry).
enum class Retryability { kRetryRequest, kRetryWork, kFinal };
Retryability Classify(const Status& status);
std::string_view RetryabilityName(Retryability r);
// Worth another attempt at some level (request or work): Classify(status) != kFinal.
bool IsRetryable(const Status& status);

// A T or a non-OK Status. Constructing from an OK Status is a programming error (aborts).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(runtime/explicit)
  Result(Status status);                     // NOLINT(runtime/explicit)

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] void CheckFailed(const char* expr, const char* file, int line);

template <class T>
Result<T>::Result(Status status) : v_(std::move(status)) {
  if (std::get<1>(v_).ok()) CheckFailed("Result built from an OK Status", __FILE__, __LINE__);
}

}  // namespace ferry

#define FERRY_CHECK(cond) \
  ((cond) ? (void)0 : ::ferry::CheckFailed(#cond, __FILE__, __LINE__))

#define FERRY_CONCAT_INNER(a, b) a##b
#define FERRY_CONCAT(a, b) FERRY_CONCAT_INNER(a, b)

#define FERRY_RETURN_IF_ERROR(expr)               \
  do {                                            \
    ::ferry::Status ferry_status_ = (expr);       \
    if (!ferry_status_.ok()) return ferry_status_; \
  } while (0)

#define FERRY_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  decl = std::move(tmp).value()

#define FERRY_ASSIGN_OR_RETURN(decl, expr) \
  FERRY_ASSIGN_OR_RETURN_IMPL(FERRY_CONCAT(ferry_result_, __LINE__), decl, expr)
