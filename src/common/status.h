#pragma once
// Status: the outcome of an operation that can fail, as a value (leveldb style).
//
// A Status is either OK or carries a code, a lowercase message saying what failed and on what, and
// an optional hint the operator can act on. Library exceptions are caught at adapter edges and
// turned into Status; a Status is translated in exactly two places: to an HTTP response
// (api/errors) and to a CLI exit code (cli/exit_codes). Cheap to copy when OK. Thread-compatible.
#include <string>
#include <string_view>
#include <utility>

namespace auri {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong (usage, config, request body)
  kNotFound,            // the thing named does not exist
  kAlreadyExists,       // a create collided with an existing thing
  kFailedPrecondition,  // refused: the system is not in a state where this is safe
  kUnavailable,         // a dependency (PostgreSQL, Redis, a repository) cannot be reached
  kDeadlineExceeded,    // a wait ran past its deadline
  kPermissionDenied,    // authenticated but not allowed
  kUnauthenticated,     // no or bad credentials
  kResourceExhausted,   // a size or rate limit was hit
  kCheckFailed,         // the command ran, but a verification it performs failed
  kInternal,            // a bug or an unexpected library failure
};

// Returns the stable lowercase name of a code, e.g. "unavailable".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::string hint = {})
      : code_(code), message_(std::move(message)), hint_(std::move(hint)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

  // Returns a copy whose message is "<context>: <message>"; the code and hint are kept.
  Status WithContext(std::string_view context) const;
  // Returns a copy with the hint replaced.
  Status WithHint(std::string hint) const;

  // "<code name>: <message>" plus "\nhint: <hint>" when there is one; "ok" for OK.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string hint_;
};

// Convenience constructors, one per code, so call sites read as a sentence.
inline Status InvalidArgument(std::string m, std::string h = {}) {
  return {StatusCode::kInvalidArgument, std::move(m), std::move(h)};
}
inline Status NotFound(std::string m, std::string h = {}) {
  return {StatusCode::kNotFound, std::move(m), std::move(h)};
}
inline Status AlreadyExists(std::string m, std::string h = {}) {
  return {StatusCode::kAlreadyExists, std::move(m), std::move(h)};
}
inline Status FailedPrecondition(std::string m, std::string h = {}) {
  return {StatusCode::kFailedPrecondition, std::move(m), std::move(h)};
}
inline Status Unavailable(std::string m, std::string h = {}) {
  return {StatusCode::kUnavailable, std::move(m), std::move(h)};
}
inline Status DeadlineExceeded(std::string m, std::string h = {}) {
  return {StatusCode::kDeadlineExceeded, std::move(m), std::move(h)};
}
inline Status PermissionDenied(std::string m, std::string h = {}) {
  return {StatusCode::kPermissionDenied, std::move(m), std::move(h)};
}
inline Status Unauthenticated(std::string m, std::string h = {}) {
  return {StatusCode::kUnauthenticated, std::move(m), std::move(h)};
}
inline Status ResourceExhausted(std::string m, std::string h = {}) {
  return {StatusCode::kResourceExhausted, std::move(m), std::move(h)};
}
inline Status CheckFailed(std::string m, std::string h = {}) {
  return {StatusCode::kCheckFailed, std::move(m), std::move(h)};
}
inline Status Internal(std::string m, std::string h = {}) {
  return {StatusCode::kInternal, std::move(m), std::move(h)};
}

}  // namespace auri

// Returns early from the enclosing function (which returns Status or Result<T>) when `expr` fails.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    ::auri::Status auri_status_ = (expr);        \
    if (!auri_status_.ok()) return auri_status_; \
  } while (0)
