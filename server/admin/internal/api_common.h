// What the admin API's route files share: the request being answered (AdminApi::Call), the route
// table's entry, and the helpers that shape Graph's JSON (pages, links, dates, method types).
// Private to server/admin/.

#ifndef OTPD_SERVER_ADMIN_INTERNAL_API_COMMON_H_
#define OTPD_SERVER_ADMIN_INTERNAL_API_COMMON_H_

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "server/admin/admin_api.h"
#include "server/admin/graph.h"
#include "server/admin/odata.h"
#include "service/admin/importer.h"
#include "service/admin/inventory.h"
#include "service/admin/method_admin.h"
#include "service/admin/roles.h"
#include "service/admin/user_admin.h"
#include "tokenio/token_record.h"

namespace otpd::server::admin {

inline constexpr std::string_view kDevices =
    "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices";

// The request being answered: the call, its parsed target and the route's path parameters.
struct AdminApi::Call {
  const ApiCall& api;
  Target target;
  std::vector<std::string> params;  // the route's {…} segments, in order

  const service::Principal& by() const { return api.principal; }
  const http::Request& request() const { return *api.request; }
  const std::string& param(size_t i) const { return params.at(i); }

  // The JSON object body, or InvalidArgument.
  base::StatusOr<boost::json::object> Body() const { return ParseObjectBody(request().body()); }
  // The same for an optional body: an empty one reads as {}.
  base::StatusOr<boost::json::object> BodyOrEmpty() const {
    if (request().body().empty()) return boost::json::object();
    return Body();
  }
  // Refuses any query parameter (for routes that take none).
  base::Status NoQuery() const {
    if (!target.query.empty()) {
      return base::InvalidArgumentError("this request takes no query parameters");
    }
    return base::OkStatus();
  }
  // The URL of `path` (already encoded) for links.
  std::string Link(std::string_view path) const { return api.origin + std::string(path); }
};

struct AdminApi::Route {
  boost::beast::http::verb verb;
  // Literal segments and "{name}" for a parameter.
  std::vector<std::string> pattern;
  Result (AdminApi::*handler)(Call&);
  std::string name;  // "GET /v1.0/users/{upn}", for metrics
};

// An answer with a JSON body, and one without (202/204).
ApiResponse Json(unsigned status, boost::json::value body);
ApiResponse NoContent(unsigned status = 204);

// An ISO 8601 time, or null for 0 (never happened).
boost::json::value OrNull(int64_t unix_seconds);

// A list page: {"value": [...], "@odata.nextLink": ...} (no link on the last page).
boost::json::object Page(boost::json::array items, const std::string& next_link);

// The link to the page after `last_key`, keeping the other query options.
std::string NextLink(const std::string& origin, std::string_view path, const Target& target,
                     std::string_view last_key);

// True when every clause on `field` holds for `value`.
bool Passes(const std::vector<FilterClause>& filter, std::string_view field,
            std::string_view value);

// Graph's names: "hmacsha1", a method's @odata.type.
std::string_view HashFunctionName(engine::HashAlgorithm a);
std::string_view OdataType(service::MethodKind kind);

boost::json::array Strings(const std::vector<std::string>& values);
boost::json::object UserJson(const service::UserSummary& u, int64_t now);
boost::json::array RowsJson(const std::vector<tokenio::RowError>& rows);
boost::json::object ReportJson(const service::ImportReport& report, std::string_view format,
                               bool dry);

// Keeps only `fields` ($select) of an answer's object, or of each item of a list page, with
// their OData annotations ("@odata.type"). InvalidArgument naming a field the resource does not
// have. A list's items are checked one by one: an empty list accepts any name.
base::Status ApplySelect(const std::vector<std::string>& fields, boost::json::value& body);

// "true"/"false" query switches; absent is false, a bare name is true.
base::StatusOr<bool> Switch(const Target& target, std::string_view name);

// A 429 for the activation limit, with Retry-After.
ApiResponse ActivityLimit(const base::Status& why, const ApiCall& call, int64_t now,
                          std::chrono::seconds window);

// The outcome of an activation of `serial` as the API answers it: 204, or 400 saying why the
// code was refused (wrong, already used, malformed) and the refusals so far.
base::StatusOr<ApiResponse> ActivationAnswer(std::string_view serial,
                                             const service::ActivationResult& result);

}  // namespace otpd::server::admin

#endif  // OTPD_SERVER_ADMIN_INTERNAL_API_COMMON_H_
