// Users: list, read, create or replace, update, delete, unlock.

#include <boost/json.hpp>
#include <optional>
#include <set>

#include "server/admin/admin_api.h"
#include "server/admin/internal/api_common.h"

namespace otpd::server::admin {

namespace json = boost::json;

AdminApi::Result AdminApi::ListUsers(Call& c) {
  static const std::set<std::string_view> kFields = {"userPrincipalName", "id", "displayName",
                                                     "mfaRegistrationRequired"};
  OTPD_ASSIGN_OR_RETURN(Paging paging, ReadPaging(c.target, kFields));
  // A startswith on the UPN narrows the scan itself.
  std::string prefix;
  for (const FilterClause* clause : ClausesOn(paging.filter, "userPrincipalName")) {
    if (clause->op == FilterClause::Op::kStartsWith)
      prefix = service::NormaliseUpn(clause->values[0]);
  }
  const int64_t now = s_.clock->NowUnixSeconds();
  json::array items;
  std::string last;
  bool more = false;
  OTPD_RETURN_IF_ERROR(
      s_.users->List(c.by(), prefix, paging.after, [&](const service::UserSummary& u) {
        const bool keep = Passes(paging.filter, "userPrincipalName", u.user.upn) &&
                          Passes(paging.filter, "id", u.user.upn) &&
                          Passes(paging.filter, "displayName", u.user.display_name) &&
                          Passes(paging.filter, "mfaRegistrationRequired",
                                 u.user.mfa_registration_required ? "true" : "false");
        if (!keep) return true;
        if (items.size() == paging.top) {
          more = true;
          return false;
        }
        items.push_back(UserJson(u, now));
        last = u.user.upn;
        return true;
      }));
  return Json(200, Page(std::move(items),
                        more ? NextLink(c.api.origin, "/v1.0/users", c.target, last) : ""));
}

AdminApi::Result AdminApi::GetUser(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(service::UserSummary u, s_.users->Get(c.by(), c.param(0)));
  return Json(200, UserJson(u, s_.clock->NowUnixSeconds()));
}

AdminApi::Result AdminApi::PutUser(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string name = in.Text("displayName");
  if (std::optional<std::string> upn = in.OptionalString("userPrincipalName");
      upn && service::NormaliseUpn(*upn) != service::NormaliseUpn(c.param(0))) {
    return base::InvalidArgumentError("userPrincipalName differs from the one in the path");
  }
  in.Allow("id");
  OTPD_RETURN_IF_ERROR(in.Finish());
  bool created = false;
  OTPD_RETURN_IF_ERROR(s_.users->Put(c.by(), c.param(0), name, &created).status());
  OTPD_ASSIGN_OR_RETURN(service::UserSummary u, s_.users->Get(c.by(), c.param(0)));
  ApiResponse r = Json(created ? 201 : 200, UserJson(u, s_.clock->NowUnixSeconds()));
  if (created) {
    r.headers.emplace_back("Location", c.Link("/v1.0/users/" + PercentEncode(u.user.upn)));
  }
  return r;
}

// Graph's create-user body: the user and its password, made together. mailNickname (an Exchange
// alias) is taken and not kept; otpd has no disabled users, so accountEnabled must be true.
AdminApi::Result AdminApi::CreateUser(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  service::NewUser user;
  user.upn = in.String("userPrincipalName", FieldReader::kRequired);
  user.display_name = in.Text("displayName", FieldReader::kRequired);
  const std::optional<bool> enabled = in.OptionalBool("accountEnabled");
  in.OptionalString("mailNickname");
  in.Allow("@odata.type");
  std::string password;
  if (const json::object* profile = in.Object("passwordProfile", FieldReader::kRequired)) {
    FieldReader p(*profile, "passwordProfile.");
    password = p.String("password", FieldReader::kRequired);
    user.must_change = p.OptionalBool("forceChangePasswordNextSignIn").value_or(true);
    p.OptionalBool("forceChangePasswordNextSignInWithMfa");
    OTPD_RETURN_IF_ERROR(p.Finish());
  }
  OTPD_RETURN_IF_ERROR(in.Finish());
  if (enabled == false) {
    return base::InvalidArgumentError(
        "accountEnabled must be true: otpd keeps no disabled users (delete the user instead)");
  }
  user.password = password;
  auto created = s_.user_actions->CreateUser(c.by(), user);
  base::Wipe(password.data(), password.size());
  if (!created.ok()) return created.status();
  OTPD_ASSIGN_OR_RETURN(service::UserSummary u, s_.users->Get(c.by(), created->upn));
  ApiResponse r = Json(201, UserJson(u, s_.clock->NowUnixSeconds()));
  r.headers.emplace_back("Location", c.Link("/v1.0/users/" + PercentEncode(u.user.upn)));
  return r;
}

AdminApi::Result AdminApi::PatchUser(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  std::optional<std::string> name = in.OptionalText("displayName");
  std::optional<std::vector<std::string>> roles = in.OptionalStringArray("roles");
  in.Allow("id");
  in.Allow("userPrincipalName");
  OTPD_RETURN_IF_ERROR(in.Finish());
  if (body.contains("userPrincipalName") &&
      (!body.at("userPrincipalName").is_string() ||
       service::NormaliseUpn(std::string(body.at("userPrincipalName").as_string())) !=
           service::NormaliseUpn(c.param(0)))) {
    return base::InvalidArgumentError("userPrincipalName cannot be changed");
  }
  OTPD_RETURN_IF_ERROR(
      s_.users->Patch(c.by(), c.param(0), std::move(name), std::move(roles)).status());
  return NoContent();
}

AdminApi::Result AdminApi::DeleteUser(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_RETURN_IF_ERROR(s_.users->Delete(c.by(), c.param(0)));
  return NoContent();
}

AdminApi::Result AdminApi::UnlockUser(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  if (!c.request().body().empty()) {
    OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
    OTPD_RETURN_IF_ERROR(FieldReader(body).Finish());
  }
  OTPD_ASSIGN_OR_RETURN(
      std::optional<engine::LockoutState> before,
      service::UnlockUser(*s_.users->directory(), *s_.clock, c.param(0), c.by(), s_.invalidator));
  json::object o;
  o["wasLocked"] = before.has_value() && before->locked_until > s_.clock->NowUnixSeconds();
  o["failuresCleared"] = before ? before->failures : 0;
  return Json(200, std::move(o));
}

}  // namespace otpd::server::admin
