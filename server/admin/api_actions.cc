// The authentication administrator's actions on one user: reset the password (a Graph
// longRunningOperation), require MFA registration again, revoke remembered MFA sessions, app
// passwords and temporary access passes. The services authorize, audit and emit the events.

#include <boost/json.hpp>
#include <optional>

#include "base/clock.h"
#include "server/admin/admin_api.h"
#include "server/admin/internal/api_common.h"
#include "service/credentials/passwords.h"

namespace otpd::server::admin {

namespace json = boost::json;
using service::kPasswordMethodId;

namespace {

constexpr size_t kMaxBulkUsers = 1000;

// 404 unless the path names the password method.
base::Status PasswordMethod(const std::string& id) {
  if (id != kPasswordMethodId) {
    return base::NotFoundError("the password method's id is " + std::string(kPasswordMethodId));
  }
  return base::OkStatus();
}

std::string UserPath(const std::string& upn) {
  return "/v1.0/users/" + PercentEncode(upn) + "/authentication/";
}

json::object AppPasswordJson(const service::AppPasswordRecord& p) {
  json::object o;
  o["id"] = p.id;
  o["displayName"] = p.display_name;
  o["createdDateTime"] = OrNull(p.created);
  o["lastUsedDateTime"] = nullptr;  // not recorded
  return o;
}

json::object TapViewJson(const service::TapView& view) {
  const auto& tap = std::get<service::TemporaryAccessPassPayload>(view.method.payload);
  json::object o;
  o["@odata.type"] = OdataType(service::MethodKind::kTemporaryAccessPass);
  o["id"] = view.method.id;
  o["createdDateTime"] = OrNull(view.method.created);
  o["startDateTime"] = OrNull(tap.start);
  o["lifetimeInMinutes"] = tap.lifetime_minutes;
  o["isUsableOnce"] = tap.usable_once;
  o["isUsable"] = view.usable();
  o["methodUsabilityReason"] = service::TapUsabilityName(view.usability);
  return o;
}

}  // namespace

// ---- password ----------------------------------------------------------------------------------

AdminApi::Result AdminApi::ResetPassword(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_RETURN_IF_ERROR(PasswordMethod(c.param(1)));
  OTPD_ASSIGN_OR_RETURN(json::object body, c.BodyOrEmpty());
  FieldReader in(body);
  std::optional<std::string> given = in.OptionalString("newPassword");
  OTPD_RETURN_IF_ERROR(in.Finish());
  std::optional<std::string_view> password;
  if (given) password = *given;
  auto reset = s_.user_actions->ResetPassword(c.by(), c.param(0), password);
  if (given) base::Wipe(given->data(), given->size());
  if (!reset.ok()) return reset.status();
  ApiResponse r = NoContent(202);
  if (reset->generated) r = Json(202, json::object{{"newPassword", reset->generated->view()}});
  r.headers.emplace_back("Location",
                         c.Link(UserPath(c.param(0)) + "operations/" + reset->operation_id));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

AdminApi::Result AdminApi::GetResetPasswordOperation(Call& c) {
  OTPD_RETURN_IF_ERROR(PasswordMethod(c.param(1)));
  c.params.erase(c.params.begin() + 1);
  return GetOperation(c);
}

// A user's longRunningOperation: password resets are the only operations otpd makes.
AdminApi::Result AdminApi::GetOperation(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(service::PasswordResetOperation op,
                        s_.user_actions->GetPasswordReset(c.by(), c.param(0), c.param(1)));
  json::object o;
  o["@odata.type"] = "#microsoft.graph.longRunningOperation";
  o["id"] = op.id;
  o["status"] = op.status;
  o["statusDetail"] = nullptr;
  o["createdDateTime"] = base::FormatIsoTime(op.time_micros / 1'000'000);
  o["lastActionDateTime"] = base::FormatIsoTime(op.time_micros / 1'000'000);
  o["resourceLocation"] =
      c.Link(UserPath(c.param(0)) + "methods/" + std::string(kPasswordMethodId));
  return Json(200, std::move(o));
}

// ---- registration and sessions -----------------------------------------------------------------

AdminApi::Result AdminApi::RequireReregistration(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.BodyOrEmpty());
  OTPD_RETURN_IF_ERROR(FieldReader(body).Finish());
  OTPD_ASSIGN_OR_RETURN(service::ReregistrationResult result,
                        s_.user_actions->RequireReregistration(c.by(), c.param(0)));
  json::array devices;
  for (const std::string& serial : result.deactivated_tokens) {
    devices.push_back(json::object{{"id", serial}, {"serialNumber", serial}});
  }
  json::array methods;
  for (const service::DeletedMethod& m : result.deleted_methods) {
    methods.push_back(
        json::object{{"id", m.id}, {"@odata.type", OdataType(m.kind)}, {"detail", m.detail}});
  }
  return Json(200, json::object{{"deactivatedDevices", std::move(devices)},
                                {"deletedMethods", std::move(methods)}});
}

AdminApi::Result AdminApi::RevokeMfaSessions(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.BodyOrEmpty());
  OTPD_RETURN_IF_ERROR(FieldReader(body).Finish());
  OTPD_RETURN_IF_ERROR(s_.user_actions->RevokeMfaSessions(c.by(), c.param(0)).status());
  return Json(200, json::object{{"value", true}});
}

// Graph's signInPreferences: the user's preferred second factor; otpd has no system-preferred
// method of its own.
AdminApi::Result AdminApi::GetSignInPreferences(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::string preferred,
                        s_.user_actions->PreferredMethod(c.by(), c.param(0)));
  return Json(200, json::object{
                       {"@odata.type", "#microsoft.graph.signInPreferences"},
                       {"userPreferredMethodForSecondaryAuthentication",
                        preferred.empty() ? json::value(nullptr) : json::value(preferred)},
                       {"isSystemPreferredAuthenticationMethodEnabled", false},
                       {"systemPreferredAuthenticationMethod", nullptr},
                   });
}

AdminApi::Result AdminApi::UpdateSignInPreferences(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string preferred =
      in.String("userPreferredMethodForSecondaryAuthentication", FieldReader::kRequired);
  if (std::optional<bool> system = in.OptionalBool("isSystemPreferredAuthenticationMethodEnabled");
      system.value_or(false)) {
    return base::InvalidArgumentError(
        "isSystemPreferredAuthenticationMethodEnabled: otpd has no system-preferred method");
  }
  in.Allow("@odata.type");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_RETURN_IF_ERROR(s_.user_actions->SetPreferredMethod(
      c.by(), c.param(0), preferred == "none" ? std::string() : preferred));
  return NoContent();
}

// ---- app passwords -----------------------------------------------------------------------------

AdminApi::Result AdminApi::ListAppPasswords(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::vector<service::AppPasswordRecord> list,
                        s_.app_passwords->List(c.by(), c.param(0)));
  json::array items;
  for (const auto& p : list) items.push_back(AppPasswordJson(p));
  return Json(200, Page(std::move(items), ""));
}

AdminApi::Result AdminApi::CreateAppPassword(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string name = in.Text("displayName", FieldReader::kRequired);
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_ASSIGN_OR_RETURN(service::CreatedAppPassword created,
                        s_.app_passwords->Create(c.by(), c.param(0), name));
  json::object o = AppPasswordJson(created.record);
  o.erase("lastUsedDateTime");
  o["password"] = created.password.view();  // shown this once; only its hash is kept
  ApiResponse r = Json(201, std::move(o));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

AdminApi::Result AdminApi::DeleteAppPassword(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_RETURN_IF_ERROR(s_.app_passwords->Delete(c.by(), c.param(0), c.param(1)));
  return NoContent();
}

AdminApi::Result AdminApi::DeleteAllAppPasswords(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(size_t deleted, s_.app_passwords->DeleteAll(c.by(), c.param(0)));
  return Json(200, json::object{{"deleted", deleted}});
}

AdminApi::Result AdminApi::DeleteUsersAppPasswords(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  std::optional<std::vector<std::string>> users = in.OptionalStringArray("users");
  OTPD_RETURN_IF_ERROR(in.Finish());
  if (!users) return base::InvalidArgumentError("users is required");
  if (users->size() > kMaxBulkUsers) {
    return base::InvalidArgumentError("users: at most " + std::to_string(kMaxBulkUsers) +
                                      " per request");
  }
  // A caller who may not manage methods at all is refused as a whole; per-user refusals (a user
  // holding an administrative role) are per-user results.
  OTPD_ASSIGN_OR_RETURN(std::vector<service::AppPasswordDeletion> deletions,
                        s_.app_passwords->DeleteForUsers(c.by(), *users));
  json::array value;
  for (const service::AppPasswordDeletion& d : deletions) {
    json::object o;
    o["userPrincipalName"] = d.user;
    o["deleted"] = d.deleted;
    if (d.status.ok()) {
      o["error"] = nullptr;
    } else {
      const GraphError e = ClassifyStatus(d.status);
      const std::string_view message = e.http_status == 500
                                           ? "an internal error occurred; see the daemon's log"
                                           : d.status.message();
      o["error"] = json::object{{"code", e.code}, {"message", message}};
    }
    value.push_back(std::move(o));
  }
  return Json(200, json::object{{"value", std::move(value)}});
}

// ---- temporary access passes -------------------------------------------------------------------

base::StatusOr<json::object> AdminApi::TapJson(const service::Principal& viewer,
                                               std::string_view upn) const {
  OTPD_ASSIGN_OR_RETURN(service::TapView view, s_.taps->Get(viewer, upn));
  return TapViewJson(view);
}

AdminApi::Result AdminApi::ListTaps(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  json::array items;
  auto view = s_.taps->Get(c.by(), c.param(0));
  if (view.ok()) {
    items.push_back(TapViewJson(*view));
  } else if (!base::IsNotFound(view.status())) {
    return view.status();
  } else {
    // No pass, or no user: only the second is an error.
    OTPD_RETURN_IF_ERROR(s_.methods->List(c.by(), c.param(0)).status());
  }
  return Json(200, Page(std::move(items), ""));
}

AdminApi::Result AdminApi::CreateTap(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.BodyOrEmpty());
  FieldReader in(body);
  std::optional<std::string> start = in.OptionalString("startDateTime");
  std::optional<int64_t> lifetime = in.OptionalInt("lifetimeInMinutes", 0, UINT32_MAX);
  std::optional<bool> once = in.OptionalBool("isUsableOnce");
  in.Allow("@odata.type");
  OTPD_RETURN_IF_ERROR(in.Finish());
  service::TapRequest request;
  if (lifetime) request.lifetime_minutes = static_cast<uint32_t>(*lifetime);
  request.usable_once = once.value_or(false);
  if (start) {
    auto micros = base::ParseIsoTimeMicros(*start);
    if (!micros.ok()) return micros.status().WithContext("startDateTime");
    request.start = *micros / 1'000'000;
  }
  OTPD_ASSIGN_OR_RETURN(service::CreatedTap created, s_.taps->Create(c.by(), c.param(0), request));
  json::object o = TapViewJson(created.tap);
  o["temporaryAccessPass"] = created.pass.view();  // shown this once
  ApiResponse r = Json(201, std::move(o));
  r.headers.emplace_back("Location", c.Link(UserPath(c.param(0)) + "temporaryAccessPassMethods/" +
                                            PercentEncode(created.tap.method.id)));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

AdminApi::Result AdminApi::GetTap(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(service::TapView view, s_.taps->Get(c.by(), c.param(0)));
  if (view.method.id != c.param(1)) {
    return base::NotFoundError("the user has no temporary access pass with that id");
  }
  return Json(200, TapViewJson(view));
}

AdminApi::Result AdminApi::DeleteTap(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  // The id is checked inside the change, under the user's fence: a pass that replaced this one
  // meanwhile is not deleted in its place.
  OTPD_RETURN_IF_ERROR(s_.taps->Delete(c.by(), c.param(0), c.param(1)));
  return NoContent();
}

}  // namespace otpd::server::admin
