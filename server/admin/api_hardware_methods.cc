// A user's hardware tokens: assign, activate (within the activity limit), deactivate, unassign.

#include <boost/json.hpp>
#include <optional>

#include "server/admin/admin_api.h"
#include "server/admin/internal/api_common.h"

namespace otpd::server::admin {

namespace json = boost::json;
using base::Status;
using service::MethodKind;
using service::MethodRecord;
using service::Principal;

base::StatusOr<std::string> AdminApi::HardwareSerial(Call& c, std::string_view upn,
                                                     std::string_view id) {
  auto method = s_.methods->Get(c.by(), upn, id);
  if (method.ok() && method->kind() == MethodKind::kHardwareOath) {
    return std::string(method->serial());
  }
  if (!method.ok() && !base::IsNotFound(method.status())) return method.status();
  // Graph's clients often name the device instead of the method.
  auto token = s_.inventory->Get(id);
  if (token.ok() && token->assigned_to == service::NormaliseUpn(upn)) return token->serial;
  if (!token.ok() && !base::IsNotFound(token.status())) return token.status();
  return base::NotFoundError("the user has no hardware OATH method with that id");
}

Status AdminApi::TakeActivation() {
  const auto now = std::chrono::steady_clock::now();
  base::MutexLock lock(activations_mu_);
  while (!activations_.empty() && now - activations_.front() >= options_.activation_window) {
    activations_.pop_front();
  }
  if (activations_.size() >= options_.activations_per_window) {
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(
                          activations_.front() + options_.activation_window - now)
                          .count() +
                      1;
    return base::ResourceExhaustedError(
        "activity limit: at most " + std::to_string(options_.activations_per_window) +
        " activations per " + std::to_string(options_.activation_window.count()) +
        " seconds; retry after " + std::to_string(wait) + " s");
  }
  activations_.push_back(now);
  return base::OkStatus();
}

AdminApi::Result AdminApi::AssignHardwareMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const json::object* device = in.Object("device", FieldReader::kRequired);
  in.Allow("@odata.type");
  OTPD_RETURN_IF_ERROR(in.Finish());
  FieldReader d(*device, "device.");
  const std::string serial = d.String("id", FieldReader::kRequired);
  d.Allow("serialNumber");
  d.Allow("@odata.type");
  OTPD_RETURN_IF_ERROR(d.Finish());
  OTPD_RETURN_IF_ERROR(s_.inventory->Assign(serial, c.param(0), c.by()));
  OTPD_ASSIGN_OR_RETURN(service::TokenRecord token, s_.inventory->Get(serial));
  OTPD_ASSIGN_OR_RETURN(MethodRecord method, s_.methods->Get(c.by(), c.param(0), token.method_id));
  OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), method));
  ApiResponse r = Json(201, std::move(o));
  r.headers.emplace_back("Location",
                         c.Link("/v1.0/users/" + PercentEncode(c.param(0)) +
                                "/authentication/hardwareOathMethods/" + PercentEncode(method.id)));
  return r;
}

AdminApi::Result AdminApi::GetHardwareMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::string serial, HardwareSerial(c, c.param(0), c.param(1)));
  OTPD_ASSIGN_OR_RETURN(service::TokenRecord token, s_.inventory->Get(serial));
  OTPD_ASSIGN_OR_RETURN(MethodRecord method, s_.methods->Get(c.by(), c.param(0), token.method_id));
  OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), method));
  return Json(200, std::move(o));
}

AdminApi::Result AdminApi::ActivateHardwareMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string code = in.String("verificationCode", FieldReader::kRequired);
  std::optional<std::string> name = in.OptionalText("displayName");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_ASSIGN_OR_RETURN(std::string serial, HardwareSerial(c, c.param(0), c.param(1)));
  if (std::optional<ApiResponse> limited = ActivationLimited(c)) return std::move(*limited);
  return Activate(c, serial, code, std::move(name));
}

AdminApi::Result AdminApi::DeactivateHardwareMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::string serial, HardwareSerial(c, c.param(0), c.param(1)));
  OTPD_RETURN_IF_ERROR(s_.inventory->Deactivate(serial, c.by()));
  return NoContent();
}

AdminApi::Result AdminApi::AssignAndActivateBySerial(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string code = in.String("verificationCode", FieldReader::kRequired);
  const std::string serial = in.String("serialNumber", FieldReader::kRequired);
  std::optional<std::string> name = in.OptionalText("displayName");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_ASSIGN_OR_RETURN(service::TokenRecord token, s_.inventory->Get(serial));
  const std::string upn = service::NormaliseUpn(c.param(0));
  if (!token.assigned_to.empty() && token.assigned_to != upn) {
    return base::FailedPreconditionError("token " + serial + " is assigned to another user");
  }
  // Over the limit, nothing changes: the token is not assigned either.
  if (std::optional<ApiResponse> limited = ActivationLimited(c)) return std::move(*limited);
  if (token.assigned_to.empty()) {
    OTPD_RETURN_IF_ERROR(s_.inventory->Assign(serial, upn, c.by()));
  }
  return Activate(c, serial, code, std::move(name));
}

std::optional<ApiResponse> AdminApi::ActivationLimited(const Call& c) {
  Status limit = TakeActivation();
  if (limit.ok()) return std::nullopt;
  return ActivityLimit(limit, c.api, s_.clock->NowUnixSeconds(), options_.activation_window);
}

AdminApi::Result AdminApi::Activate(Call& c, const std::string& serial, const std::string& code,
                                    std::optional<std::string> name) {
  OTPD_ASSIGN_OR_RETURN(service::ActivationResult result,
                        s_.inventory->Activate(serial, code, c.by(), std::move(name)));
  return ActivationAnswer(serial, result);
}

AdminApi::Result AdminApi::UnassignHardwareMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::string serial, HardwareSerial(c, c.param(0), c.param(1)));
  OTPD_RETURN_IF_ERROR(s_.inventory->Unassign(serial, c.by()));
  return NoContent();
}

}  // namespace otpd::server::admin
