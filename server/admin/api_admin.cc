// otpd's own resources: API keys, online backups and the audit log.

#include <boost/json.hpp>
#include <optional>
#include <set>

#include "base/codec.h"
#include "server/admin/admin_api.h"
#include "server/admin/internal/api_common.h"
#include "service/admin/audit.h"
#include "service/admin/backups.h"

namespace otpd::server::admin {

namespace json = boost::json;

namespace {

json::object ApiKeyJson(const service::ApiKeyRecord& k) {
  json::object o;
  o["id"] = k.id;
  o["name"] = k.name;
  o["roles"] = Strings(k.roles);
  o["user"] = k.user.empty() ? json::value(nullptr) : json::value(k.user);
  o["createdDateTime"] = OrNull(k.created);
  o["createdBy"] = k.created_by;
  return o;
}

}  // namespace

AdminApi::Result AdminApi::ListApiKeys(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::vector<service::ApiKeyRecord> keys, s_.api_keys->List(c.by()));
  json::array items;
  for (const auto& k : keys) items.push_back(ApiKeyJson(k));
  return Json(200, Page(std::move(items), ""));
}

AdminApi::Result AdminApi::CreateApiKey(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string name = in.Text("name", FieldReader::kRequired);
  std::optional<std::vector<std::string>> roles = in.OptionalStringArray("roles");
  const std::string user = in.String("user");
  OTPD_RETURN_IF_ERROR(in.Finish());
  if (!roles) return base::InvalidArgumentError("roles is required");
  OTPD_ASSIGN_OR_RETURN(service::CreatedApiKey created,
                        s_.api_keys->Create(c.by(), name, *roles, user));
  json::object o = ApiKeyJson(created.record);
  o["key"] = created.key.view();  // shown this once; only its hash is kept
  ApiResponse r = Json(201, std::move(o));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

AdminApi::Result AdminApi::RevokeApiKey(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_RETURN_IF_ERROR(s_.api_keys->Revoke(c.by(), c.param(0)));
  return NoContent();
}

AdminApi::Result AdminApi::Backup(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string path = in.String("path", FieldReader::kRequired);
  OTPD_RETURN_IF_ERROR(in.Finish());
  if (path.empty() || path[0] != '/') {
    return base::InvalidArgumentError("path must be an absolute path on the daemon's machine");
  }
  json::value written;
  OTPD_RETURN_IF_ERROR(
      service::CreateBackup(*s_.store, *s_.clock, c.by(), path, [&]() -> base::Status {
        OTPD_ASSIGN_OR_RETURN(written, s_.backup(path));
        return base::OkStatus();
      }));
  return Json(200, std::move(written));
}

AdminApi::Result AdminApi::ListAudit(Call& c) {
  static const std::set<std::string_view> kFields = {"target", "actor", "action"};
  OTPD_ASSIGN_OR_RETURN(Paging paging,
                        ReadPaging(c.target, kFields, {"target", "actor", "action", "since"}));
  service::AuditFilter filter;
  filter.target = std::string(c.target.Param("target").value_or(""));
  filter.actor = std::string(c.target.Param("actor").value_or(""));
  filter.action = std::string(c.target.Param("action").value_or(""));
  if (std::optional<std::string_view> since = c.target.Param("since")) {
    auto micros = base::ParseIsoTimeMicros(*since);
    if (!micros.ok()) return micros.status().WithContext("since");
    filter.since_micros = *micros;
  }
  json::array items;
  std::string last;
  bool more = false;
  auto add = [&](std::string_view key, const service::AuditRecord& a) {
    if (!Passes(paging.filter, "target", a.target) || !Passes(paging.filter, "actor", a.actor) ||
        !Passes(paging.filter, "action", a.action)) {
      return true;
    }
    if (items.size() == paging.top) {
      more = true;
      return false;
    }
    json::object o;
    o["id"] = EncodeSkipToken(key);
    o["activityDateTime"] = base::FormatIsoTimeMicros(a.time_micros);
    o["actor"] = a.actor;
    o["action"] = a.action;
    o["target"] = a.target;
    o["result"] = a.result;
    o["detail"] = a.detail;
    o["requestId"] = a.request_id;
    items.push_back(std::move(o));
    last = std::string(key);
    return true;
  };
  OTPD_RETURN_IF_ERROR(service::ListAudit(c.by(), *s_.store, filter, paging.after, add));
  return Json(200, Page(std::move(items),
                        more ? NextLink(c.api.origin, "/v1.0/audit", c.target, last) : ""));
}

}  // namespace otpd::server::admin
