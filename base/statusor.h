// StatusOr<T> holds either a value of type T or a non-OK Status explaining why there is none.
//
// Accessing the value of a StatusOr that holds an error is a programming error and aborts.
// Thread-safety: as for T.

#ifndef OTPD_BASE_STATUSOR_H_
#define OTPD_BASE_STATUSOR_H_

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "base/status.h"

namespace otpd::base {

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // Holds `status`, which must not be OK.
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = InternalError("StatusOr constructed from an OK status");
  }
  StatusOr(const T& value) : value_(value) {}        // NOLINT: implicit by design
  StatusOr(T&& value) : value_(std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T& value() & {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void CheckOk() const {
    if (!status_.ok()) {
      std::fprintf(stderr, "StatusOr::value() on an error: %s\n", status_.ToString().c_str());
      std::abort();
    }
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace otpd::base

#define OTPD_STATUS_CONCAT_INNER_(a, b) a##b
#define OTPD_STATUS_CONCAT_(a, b) OTPD_STATUS_CONCAT_INNER_(a, b)

// Declares or assigns `lhs` from the value of a StatusOr expression, or returns its Status from
// the enclosing function.  Usage: OTPD_ASSIGN_OR_RETURN(auto key, ParseKey(text));
#define OTPD_ASSIGN_OR_RETURN(lhs, expr) \
  OTPD_ASSIGN_OR_RETURN_IMPL_(OTPD_STATUS_CONCAT_(otpd_statusor_, __LINE__), lhs, expr)

#define OTPD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).status();    \
  lhs = std::move(tmp).value()

#endif  // OTPD_BASE_STATUSOR_H_
