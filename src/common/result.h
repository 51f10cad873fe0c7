#pragma once
// Result<T>: a T or a non-OK Status (std::expected is not usable with g++ 12 / clang 14 here).
//
// Construct from a value or from a failed Status; constructing from an OK Status is a bug and is
// turned into an internal error rather than UB. Accessing value() of a failed Result aborts.
#include <cstdlib>
#include <optional>
#include <utility>

#include "common/status.h"

namespace auri {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    Check();
    return *value_;
  }
  const T& value() const& {
    Check();
    return *value_;
  }
  T&& value() && {
    Check();
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void Check() const {
    if (!value_) std::abort();
  }
  std::optional<T> value_;
  Status status_;
};

}  // namespace auri

#define AURI_CONCAT_INNER(a, b) a##b
#define AURI_CONCAT(a, b) AURI_CONCAT_INNER(a, b)

// ASSIGN_OR_RETURN(auto x, ComputeX()); returns the Status from the enclosing function on failure.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(AURI_CONCAT(auri_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
