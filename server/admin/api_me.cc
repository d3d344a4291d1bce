// otpd's own: who the caller is (GET /v1.0/me), so that a client such as the console can offer
// only what the caller's roles allow. The service layer still checks every call.

#include <boost/json.hpp>

#include "server/admin/admin_api.h"
#include "server/admin/internal/api_common.h"

namespace otpd::server::admin {

namespace json = boost::json;

AdminApi::Result AdminApi::Me(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  const service::Principal& by = c.by();
  // "apikey:NAME" names a key; the owner is "uid:N".
  std::string_view name = by.actor;
  if (name.starts_with("apikey:")) name.remove_prefix(7);
  json::object o;
  o["name"] = name;
  o["actor"] = by.actor;
  o["owner"] = by.owner;
  o["roles"] = Strings(by.owner ? std::vector<std::string>{"owner"} : by.roles.Names());
  o["userPrincipalName"] = by.user.empty() ? json::value(nullptr) : json::value(by.user);
  return Json(200, std::move(o));
}

}  // namespace otpd::server::admin
