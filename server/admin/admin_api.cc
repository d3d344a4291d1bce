#include "server/admin/admin_api.h"

#include <boost/json.hpp>
#include <variant>

#include "server/admin/graph.h"
#include "server/admin/internal/api_common.h"
#include "server/admin/internal/graph_method_kinds.h"

namespace otpd::server::admin {

namespace json = boost::json;
namespace bhttp = boost::beast::http;
using base::Status;

AdminApi::AdminApi(AdminServices services, AdminApiOptions options)
    : s_(std::move(services)), options_(options) {}

const std::vector<AdminApi::Route>& AdminApi::Routes() {
  using V = bhttp::verb;
  static const std::vector<Route> routes = [] {
    std::vector<Route> r;
    auto add = [&r](V verb, std::string_view path, Result (AdminApi::*handler)(Call&)) {
      Route route{verb, {}, handler, std::string(bhttp::to_string(verb)) + " " + std::string(path)};
      size_t start = 1;
      while (start <= path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) slash = path.size();
        route.pattern.emplace_back(path.substr(start, slash - start));
        start = slash + 1;
      }
      r.push_back(std::move(route));
    };
    const std::string devices(kDevices);
    add(V::get, devices, &AdminApi::ListDevices);
    add(V::post, devices, &AdminApi::CreateDevices);
    add(V::patch, devices, &AdminApi::CreateDevicesDelta);
    add(V::get, devices + "/{id}", &AdminApi::GetDevice);
    add(V::patch, devices + "/{id}", &AdminApi::UpdateDevice);
    add(V::delete_, devices + "/{id}", &AdminApi::DeleteDevice);
    // The imports that filled the inventory (api_devices.cc).
    add(V::get, "/v1.0/admin/importBatches", &AdminApi::ListImportBatches);
    add(V::delete_, "/v1.0/admin/importBatches/{id}", &AdminApi::DiscardImportBatch);

    // What a kind's collection does beyond the routes every kind answers alike.
    const std::string hardware = "/v1.0/users/{upn}/authentication/hardwareOathMethods";
    add(V::post, hardware, &AdminApi::AssignHardwareMethod);
    add(V::post, hardware + "/assignAndActivateBySerialNumber",
        &AdminApi::AssignAndActivateBySerial);
    add(V::get, hardware + "/{id}", &AdminApi::GetHardwareMethod);
    add(V::delete_, hardware + "/{id}", &AdminApi::UnassignHardwareMethod);
    add(V::post, hardware + "/{id}/activate", &AdminApi::ActivateHardwareMethod);
    add(V::post, hardware + "/{id}/deactivate", &AdminApi::DeactivateHardwareMethod);
    const std::string software = "/v1.0/users/{upn}/authentication/softwareOathMethods";
    add(V::post, software, &AdminApi::EnrolSoftwareMethod);
    add(V::post, software + "/{id}/confirm", &AdminApi::ConfirmSoftwareMethod);
    const std::string phones = "/v1.0/users/{upn}/authentication/phoneMethods";
    add(V::post, phones + "/{id}/enableSmsSignIn", &AdminApi::EnableSmsSignIn);
    add(V::post, phones + "/{id}/disableSmsSignIn", &AdminApi::DisableSmsSignIn);
    // The routes every kind's collection answers alike, as its GraphMethodKind says.
    for (size_t i = 0; i < std::variant_size_v<service::MethodRecord::Payload>; ++i) {
      const auto kind = static_cast<service::MethodKind>(i);
      const std::string_view collection = service::DescribeMethodKind(kind).collection;
      if (collection.empty()) continue;
      const GraphMethodKind& graph = DescribeGraphMethodKind(kind);
      const std::string list = "/v1.0/users/{upn}/authentication/" + std::string(collection);
      const std::string one = list + "/{id}";
      if (graph.list) add(V::get, list, &AdminApi::ListKindMethods);
      if (graph.read_new != nullptr) add(V::post, list, &AdminApi::CreateKindMethod);
      if (graph.get) add(V::get, one, &AdminApi::GetKindMethod);
      if (graph.read_change != nullptr) add(V::patch, one, &AdminApi::UpdateKindMethod);
      if (graph.remove) add(V::delete_, one, &AdminApi::DeleteMethodRoute);
    }

    add(V::get, "/v1.0/users/{upn}/authentication/methods", &AdminApi::ListMethods);
    add(V::get, "/v1.0/users/{upn}/authentication/methods/{id}", &AdminApi::GetMethod);

    // The administrator's actions (api_actions.cc). The password method's id is fixed, as in
    // Graph; passwordMethods/ is Graph's other path to it.
    add(V::post, "/v1.0/users/{upn}/authentication/methods/{pw}/resetPassword",
        &AdminApi::ResetPassword);
    add(V::post, "/v1.0/users/{upn}/authentication/passwordMethods/{pw}/resetPassword",
        &AdminApi::ResetPassword);
    add(V::get, "/v1.0/users/{upn}/authentication/operations/{id}", &AdminApi::GetOperation);
    // Where earlier answers' Location pointed.
    add(V::get, "/v1.0/users/{upn}/authentication/methods/{pw}/resetPasswordOperations/{id}",
        &AdminApi::GetResetPasswordOperation);
    add(V::get,
        "/v1.0/users/{upn}/authentication/passwordMethods/{pw}/resetPasswordOperations/{id}",
        &AdminApi::GetResetPasswordOperation);
    add(V::post, "/v1.0/users/{upn}/authentication/requireReregistration",
        &AdminApi::RequireReregistration);
    add(V::get, "/v1.0/users/{upn}/authentication/signInPreferences",
        &AdminApi::GetSignInPreferences);
    add(V::patch, "/v1.0/users/{upn}/authentication/signInPreferences",
        &AdminApi::UpdateSignInPreferences);
    add(V::post, "/v1.0/users/{upn}/authentication/revokeMfaSessions",
        &AdminApi::RevokeMfaSessions);
    add(V::get, "/v1.0/users/{upn}/authentication/appPasswords", &AdminApi::ListAppPasswords);
    add(V::post, "/v1.0/users/{upn}/authentication/appPasswords", &AdminApi::CreateAppPassword);
    add(V::delete_, "/v1.0/users/{upn}/authentication/appPasswords",
        &AdminApi::DeleteAllAppPasswords);
    add(V::delete_, "/v1.0/users/{upn}/authentication/appPasswords/{id}",
        &AdminApi::DeleteAppPassword);
    add(V::post, "/v1.0/admin/appPasswords/delete", &AdminApi::DeleteUsersAppPasswords);
    add(V::get, "/v1.0/users/{upn}/authentication/temporaryAccessPassMethods", &AdminApi::ListTaps);
    add(V::post, "/v1.0/users/{upn}/authentication/temporaryAccessPassMethods",
        &AdminApi::CreateTap);
    add(V::get, "/v1.0/users/{upn}/authentication/temporaryAccessPassMethods/{id}",
        &AdminApi::GetTap);
    add(V::delete_, "/v1.0/users/{upn}/authentication/temporaryAccessPassMethods/{id}",
        &AdminApi::DeleteTap);

    // otpd's event delivery to hooks (api_hooks.cc).
    add(V::get, "/v1.0/admin/hooks", &AdminApi::ListHooks);
    add(V::get, "/v1.0/admin/hooks/{name}/deadLetters", &AdminApi::ListDeadLetters);
    add(V::post, "/v1.0/admin/hooks/{name}/redeliver", &AdminApi::RedeliverDeadLetters);
    add(V::post, "/v1.0/admin/hooks/{name}/enable", &AdminApi::EnableHook);

    add(V::get, "/v1.0/users", &AdminApi::ListUsers);
    add(V::post, "/v1.0/users", &AdminApi::CreateUser);
    add(V::get, "/v1.0/users/{upn}", &AdminApi::GetUser);
    add(V::put, "/v1.0/users/{upn}", &AdminApi::PutUser);
    add(V::patch, "/v1.0/users/{upn}", &AdminApi::PatchUser);
    add(V::delete_, "/v1.0/users/{upn}", &AdminApi::DeleteUser);
    add(V::post, "/v1.0/users/{upn}/unlock", &AdminApi::UnlockUser);

    add(V::get, "/v1.0/admin/apiKeys", &AdminApi::ListApiKeys);
    add(V::post, "/v1.0/admin/apiKeys", &AdminApi::CreateApiKey);
    add(V::delete_, "/v1.0/admin/apiKeys/{id}", &AdminApi::RevokeApiKey);
    add(V::post, "/v1.0/admin/backup", &AdminApi::Backup);
    add(V::get, "/v1.0/audit", &AdminApi::ListAudit);
    add(V::get, "/v1.0/me", &AdminApi::Me);
    return r;
  }();
  return routes;
}

bool AdminApi::TakesTokenFile(const http::RequestHeader& header) {
  if (header.method() != bhttp::verb::post) return false;
  std::string_view target = header.target();
  target = target.substr(0, target.find('?'));
  while (!target.empty() && target.back() == '/') target.remove_suffix(1);
  return target == kDevices;
}

ApiResponse AdminApi::Handle(const ApiCall& api) {
  const http::Request& request = *api.request;
  const int64_t now = s_.clock->NowUnixSeconds();
  auto error = [&](const Status& status, std::string route) {
    GraphError e = ClassifyStatus(status);
    ApiResponse r;
    r.status = e.http_status;
    std::string_view message = status.message();
    // Internal failures are logged by the daemon; the caller learns only that one happened.
    if (e.http_status == 500) message = "an internal error occurred; see the daemon's log";
    r.body =
        json::parse(GraphErrorBody(e.code, message, api.request_id, api.client_request_id, now));
    r.route = std::move(route);
    return r;
  };

  auto target = ParseTarget(request.target());
  if (!target.ok()) return error(target.status(), "unmatched");
  // Graph's beta endpoint: the same resources (Graph makes many devices at once only in beta).
  if (!target->segments.empty() && target->segments[0] == "beta") target->segments[0] = "v1.0";
  if (!target->select.empty() && request.method() != bhttp::verb::get) {
    return error(base::InvalidArgumentError("$select applies to GET requests"), "unmatched");
  }
  Call call{api, std::move(*target), {}};
  const std::vector<std::string>& segments = call.target.segments;

  bool path_matched = false;
  for (const Route& route : Routes()) {
    if (route.pattern.size() != segments.size()) continue;
    std::vector<std::string> params;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      std::string_view p = route.pattern[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        params.push_back(segments[i]);
      } else {
        match = p == segments[i];
      }
    }
    if (!match) continue;
    path_matched = true;
    if (route.verb != request.method()) continue;
    call.params = std::move(params);
    Result result = (this->*route.handler)(call);
    if (result.ok() && result->body) {
      if (Status s = ApplySelect(call.target.select, *result->body); !s.ok()) result = s;
    }
    if (!result.ok()) return error(result.status(), route.name);
    result->route = route.name;
    return std::move(*result);
  }
  ApiResponse r = error(base::NotFoundError(""), "unmatched");
  if (path_matched) {
    r.status = 405;
    r.body = json::parse(GraphErrorBody("notAllowed", "this resource does not take that method",
                                        api.request_id, api.client_request_id, now));
  } else {
    r.body = json::parse(GraphErrorBody("itemNotFound",
                                        "no such resource; see docs/admin-api.md for every path",
                                        api.request_id, api.client_request_id, now));
  }
  return r;
}

}  // namespace otpd::server::admin
