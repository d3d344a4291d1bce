#include <boost/json.hpp>
#include <optional>

#include "base/codec.h"
#include "server/admin/internal/api_common.h"

namespace otpd::server::admin {

namespace json = boost::json;
using base::Status;
using service::MethodKind;
using service::Principal;

ApiResponse Json(unsigned status, json::value body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}
ApiResponse NoContent(unsigned status) {
  ApiResponse r;
  r.status = status;
  return r;
}

json::value OrNull(int64_t unix_seconds) {
  if (unix_seconds == 0) return nullptr;
  return json::value(base::FormatIsoTime(unix_seconds));
}

// A list page: {"value": [...], "@odata.nextLink": ...} (no link on the last page).
json::object Page(json::array items, const std::string& next_link) {
  json::object out;
  out["value"] = std::move(items);
  if (!next_link.empty()) out["@odata.nextLink"] = next_link;
  return out;
}

// The link to the page after `last_key`, keeping the other query options.
std::string NextLink(const std::string& origin, std::string_view path, const Target& target,
                     std::string_view last_key) {
  std::string link = origin + std::string(path) + "?";
  bool first = true;
  for (const auto& [name, value] : target.query) {
    if (name == "$skiptoken") continue;
    link += (first ? "" : "&") + PercentEncode(name) + "=" + PercentEncode(value);
    first = false;
  }
  if (!target.select.empty()) {
    std::string names;
    for (const std::string& name : target.select) names += (names.empty() ? "" : ",") + name;
    link += std::string(first ? "" : "&") + "$select=" + PercentEncode(names);
    first = false;
  }
  link += std::string(first ? "" : "&") + "$skiptoken=" + EncodeSkipToken(last_key);
  return link;
}

// True when every clause on `field` holds for `value`.
bool Passes(const std::vector<FilterClause>& filter, std::string_view field,
            std::string_view value) {
  for (const FilterClause* c : ClausesOn(filter, field)) {
    if (!c->Matches(value)) return false;
  }
  return true;
}

std::string_view HashFunctionName(engine::HashAlgorithm a) {
  switch (a) {
    case engine::HashAlgorithm::kSha1:
      return "hmacsha1";
    case engine::HashAlgorithm::kSha256:
      return "hmacsha256";
    case engine::HashAlgorithm::kSha512:
      return "hmacsha512";
  }
  return "hmacsha1";
}

std::string_view OdataType(MethodKind kind) { return service::DescribeMethodKind(kind).odata_type; }

json::array Strings(const std::vector<std::string>& values) {
  json::array out;
  for (const std::string& v : values) out.emplace_back(v);
  return out;
}

json::object UserJson(const service::UserSummary& u, int64_t now) {
  json::object o;
  o["id"] = u.user.upn;
  o["userPrincipalName"] = u.user.upn;
  o["displayName"] =
      u.user.display_name.empty() ? json::value(nullptr) : json::value(u.user.display_name);
  o["roles"] = Strings(u.user.roles);
  o["mfaRegistrationRequired"] = u.user.mfa_registration_required;
  o["createdDateTime"] = OrNull(u.user.created);
  o["lastModifiedDateTime"] = OrNull(u.user.updated);
  o["methodCount"] = u.methods;
  o["signInFailures"] = u.lockout.failures;
  o["lockedUntilDateTime"] =
      u.lockout.locked_until > now ? OrNull(u.lockout.locked_until) : json::value(nullptr);
  return o;
}

json::array RowsJson(const std::vector<tokenio::RowError>& rows) {
  json::array out;
  for (const tokenio::RowError& row : rows) {
    json::object o;
    o["position"] = row.position;
    o["serialNumber"] = row.serial;
    o["reason"] = row.reason;
    out.push_back(std::move(o));
  }
  return out;
}

json::object ReportJson(const service::ImportReport& report, std::string_view format, bool dry) {
  json::object o;
  o["batchId"] = report.batch_id;
  o["format"] = format;
  o["dryRun"] = dry;
  o["imported"] = report.imported;
  o["updated"] = report.updated;
  o["unchanged"] = report.unchanged;
  o["failed"] = report.failed;
  o["usersCreated"] = report.users_created;
  o["resumed"] = report.resumed;
  o["failures"] = RowsJson(report.failures);
  o["warnings"] = RowsJson(report.warnings);
  return o;
}

// "true"/"false" query switches.
base::StatusOr<bool> Switch(const Target& target, std::string_view name) {
  std::optional<std::string_view> v = target.Param(name);
  if (!v || *v == "false") return false;
  if (*v == "true" || v->empty()) return true;
  return base::InvalidArgumentError(std::string(name) + " must be true or false");
}

// Keeps `fields` of one object, and its annotations.
Status SelectFields(const std::vector<std::string>& fields, json::object& object) {
  for (const std::string& field : fields) {
    if (!object.contains(field)) {
      return base::InvalidArgumentError("$select: this resource has no property " + field);
    }
  }
  json::object kept;
  for (auto& [key, value] : object) {
    const bool annotation = key.starts_with("@odata.");
    if (annotation || std::find(fields.begin(), fields.end(), key) != fields.end()) {
      kept[key] = std::move(value);
    }
  }
  object = std::move(kept);
  return base::OkStatus();
}

Status ApplySelect(const std::vector<std::string>& fields, json::value& body) {
  if (fields.empty() || !body.is_object()) return base::OkStatus();
  json::object& object = body.as_object();
  // A page: each item, and the page's own members (value, @odata.nextLink) stay.
  if (const auto it = object.find("value"); it != object.end() && it->value().is_array()) {
    for (json::value& item : it->value().as_array()) {
      if (item.is_object()) OTPD_RETURN_IF_ERROR(SelectFields(fields, item.as_object()));
    }
    return base::OkStatus();
  }
  return SelectFields(fields, object);
}

// A 429 for the activation limit, with Retry-After.
ApiResponse ActivityLimit(const Status& why, const ApiCall& call, int64_t now,
                          std::chrono::seconds window) {
  ApiResponse r;
  r.status = 429;
  r.body = json::parse(GraphErrorBody("activityLimitReached", why.message(), call.request_id,
                                      call.client_request_id, now));
  r.headers.emplace_back("Retry-After", std::to_string(window.count()));
  return r;
}

// The outcome of an activation as the API answers it.
base::StatusOr<ApiResponse> ActivationAnswer(std::string_view serial,
                                             const service::ActivationResult& result) {
  if (result.outcome == service::ActivationOutcome::kActivated) return NoContent();
  return base::InvalidArgumentError(service::ActivationRefusal(serial, result));
}

}  // namespace otpd::server::admin
