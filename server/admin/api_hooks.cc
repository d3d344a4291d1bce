// otpd's event delivery to hooks: each sink's state, its dead letters, redelivering them and
// enabling a sink that a receiver's 410 disabled. service::HookAdmin authorizes and answers, with
// the daemon's dispatcher or, for a stopped daemon (otpctl offline), from the store.

#include <boost/json.hpp>

#include "base/clock.h"
#include "server/admin/admin_api.h"
#include "server/admin/internal/api_common.h"

namespace otpd::server::admin {

namespace json = boost::json;

AdminApi::Result AdminApi::ListHooks(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::vector<service::SinkStats> sinks, s_.hooks->ListSinks(c.by()));
  json::array items;
  for (const service::SinkStats& s : sinks) {
    auto kind = s_.hook_kinds.find(s.name);
    json::object o;
    o["name"] = s.name;
    o["kind"] = kind == s_.hook_kinds.end() ? json::value(nullptr) : json::value(kind->second);
    o["state"] = s.disabled ? "disabled" : "enabled";
    o["cursor"] = s.cursor;
    o["lag"] = s.backlog;
    o["deadLetters"] = s.dead_letters;
    o["delivered"] = s.delivered;
    o["failedAttempts"] = s.failed_attempts;
    o["lastError"] = s.last_error.empty() ? json::value(nullptr) : json::value(s.last_error);
    items.push_back(std::move(o));
  }
  return Json(200, Page(std::move(items), ""));
}

AdminApi::Result AdminApi::ListDeadLetters(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::vector<service::DeadLetter> dead,
                        s_.hooks->DeadLetters(c.by(), c.param(0)));
  json::array items;
  for (const service::DeadLetter& d : dead) {
    json::object o;
    o["eventId"] = d.event_id;
    o["sequence"] = d.seq;
    o["type"] = d.type;
    o["user"] = d.user.empty() ? json::value(nullptr) : json::value(d.user);
    o["attempts"] = d.attempts;
    o["lastError"] = d.last_error;
    o["deadLetteredDateTime"] = OrNull(d.time);
    items.push_back(std::move(o));
  }
  return Json(200, Page(std::move(items), ""));
}

AdminApi::Result AdminApi::RedeliverDeadLetters(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.BodyOrEmpty());
  OTPD_RETURN_IF_ERROR(FieldReader(body).Finish());
  OTPD_ASSIGN_OR_RETURN(size_t n, s_.hooks->RedeliverDeadLetters(c.by(), c.param(0)));
  return Json(200, json::object{{"redelivered", n}});
}

AdminApi::Result AdminApi::EnableHook(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.BodyOrEmpty());
  OTPD_RETURN_IF_ERROR(FieldReader(body).Finish());
  OTPD_RETURN_IF_ERROR(s_.hooks->EnableSink(c.by(), c.param(0)));
  return NoContent();
}

}  // namespace otpd::server::admin
