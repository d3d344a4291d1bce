#include "service/sign_in.h"

namespace otpd::service {

std::string_view OutcomeReason(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAccepted:
      return "ok";
    case Outcome::kBadCode:
      return "bad_code";
    case Outcome::kReplayed:
      return "replayed";
    case Outcome::kLocked:
      return "locked";
    case Outcome::kDrift:
      return "drift";
    case Outcome::kNotActivated:
      return "not_activated";
    case Outcome::kRegistrationRequired:
      return "registration_required";
    case Outcome::kNoMethod:
      return "no_method";
    case Outcome::kUnknownUser:
      return "unknown_user";
    case Outcome::kBadRequest:
      return "bad_request";
    case Outcome::kUnavailable:
      return "unavailable";
    case Outcome::kUnauthorized:
      return "unauthorized";
  }
  return "unavailable";
}

std::optional<MethodKind> ParseMethodKind(std::string_view name) {
  for (MethodKind k : {MethodKind::kHardwareOath, MethodKind::kSoftwareOath, MethodKind::kPhone,
                       MethodKind::kEmail}) {
    if (name == MethodKindName(k)) return k;
  }
  return std::nullopt;
}

std::string_view MethodKindName(MethodKind kind) {
  switch (kind) {
    case MethodKind::kHardwareOath:
      return "hardware_oath";
    case MethodKind::kSoftwareOath:
      return "software_oath";
    case MethodKind::kPhone:
      return "phone";
    case MethodKind::kEmail:
      return "email";
  }
  return "hardware_oath";
}

}  // namespace otpd::service
