#include "base/status.h"

namespace otpd::base {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kCancelled:
      return "Cancelled";
    case StatusCode::kUnknown:
      return "Unknown";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kDeadlineExceeded:
      return "DeadlineExceeded";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kPermissionDenied:
      return "PermissionDenied";
    case StatusCode::kResourceExhausted:
      return "ResourceExhausted";
    case StatusCode::kFailedPrecondition:
      return "FailedPrecondition";
    case StatusCode::kAborted:
      return "Aborted";
    case StatusCode::kOutOfRange:
      return "OutOfRange";
    case StatusCode::kUnimplemented:
      return "Unimplemented";
    case StatusCode::kInternal:
      return "Internal";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kDataLoss:
      return "DataLoss";
    case StatusCode::kUnauthenticated:
      return "Unauthenticated";
  }
  return "Unknown";
}

Status::Status(StatusCode code, std::string_view message) {
  if (code != StatusCode::kOk) rep_ = std::make_unique<Rep>(Rep{code, std::string(message)});
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(rep_->code));
  out += ": ";
  out += rep_->message;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += rep_->message;
  return Status(rep_->code, msg);
}

std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

#define OTPD_STATUS_FACTORY(Name, Code) \
  Status Name(std::string_view message) { return Status(StatusCode::Code, message); }

OTPD_STATUS_FACTORY(CancelledError, kCancelled)
OTPD_STATUS_FACTORY(UnknownError, kUnknown)
OTPD_STATUS_FACTORY(InvalidArgumentError, kInvalidArgument)
OTPD_STATUS_FACTORY(DeadlineExceededError, kDeadlineExceeded)
OTPD_STATUS_FACTORY(NotFoundError, kNotFound)
OTPD_STATUS_FACTORY(AlreadyExistsError, kAlreadyExists)
OTPD_STATUS_FACTORY(PermissionDeniedError, kPermissionDenied)
OTPD_STATUS_FACTORY(ResourceExhaustedError, kResourceExhausted)
OTPD_STATUS_FACTORY(FailedPreconditionError, kFailedPrecondition)
OTPD_STATUS_FACTORY(AbortedError, kAborted)
OTPD_STATUS_FACTORY(OutOfRangeError, kOutOfRange)
OTPD_STATUS_FACTORY(UnimplementedError, kUnimplemented)
OTPD_STATUS_FACTORY(InternalError, kInternal)
OTPD_STATUS_FACTORY(UnavailableError, kUnavailable)
OTPD_STATUS_FACTORY(DataLossError, kDataLoss)
OTPD_STATUS_FACTORY(UnauthenticatedError, kUnauthenticated)

#undef OTPD_STATUS_FACTORY

}  // namespace otpd::base
