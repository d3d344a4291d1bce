#include "server/admin/admin_api.h"

#include <boost/json.hpp>
#include <optional>
#include <set>

#include "base/codec.h"
#include "server/admin/graph.h"
#include "service/audit.h"
#include "service/importer.h"
#include "service/token_file.h"
#include "tokenio/qr.h"

namespace otpd::server::admin {

namespace json = boost::json;
namespace bhttp = boost::beast::http;
using base::Status;
using service::MethodKind;
using service::MethodRecord;
using service::Principal;

// The request being answered: the call, its parsed target and the route's path parameters.
struct AdminApi::Call {
  const ApiCall& api;
  Target target;
  std::vector<std::string> params;  // the route's {…} segments, in order

  const Principal& by() const { return api.principal; }
  const http::Request& request() const { return *api.request; }
  const std::string& param(size_t i) const { return params.at(i); }

  // The JSON object body, or InvalidArgument.
  base::StatusOr<json::object> Body() const { return ParseObjectBody(request().body()); }
  // Refuses any query parameter (for routes that take none).
  Status NoQuery() const {
    if (!target.query.empty()) {
      return base::InvalidArgumentError("this request takes no query parameters");
    }
    return base::OkStatus();
  }
  // The URL of `path` (already encoded) for links.
  std::string Link(std::string_view path) const { return api.origin + std::string(path); }
};

struct AdminApi::Route {
  bhttp::verb verb;
  // Literal segments and "{name}" for a parameter.
  std::vector<std::string_view> pattern;
  Result (AdminApi::*handler)(Call&);
  std::string name;  // "GET /v1.0/users/{upn}", for metrics
};

namespace {

constexpr std::string_view kDevices =
    "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices";

ApiResponse Json(unsigned status, json::value body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}
ApiResponse NoContent(unsigned status = 204) {
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

std::string_view SmsSignInState(const service::PhonePayload& phone) {
  if (phone.type != service::PhoneType::kMobile) return "notSupported";
  return phone.sms_sign_in ? "ready" : "notEnabled";
}

std::string_view OdataType(MethodKind kind) {
  switch (kind) {
    case MethodKind::kHardwareOath:
      return "#microsoft.graph.hardwareOathAuthenticationMethod";
    case MethodKind::kSoftwareOath:
      return "#microsoft.graph.softwareOathAuthenticationMethod";
    case MethodKind::kPhone:
      return "#microsoft.graph.phoneAuthenticationMethod";
    case MethodKind::kEmail:
      return "#microsoft.graph.emailAuthenticationMethod";
    case MethodKind::kPassword:
      return "#microsoft.graph.passwordAuthenticationMethod";
    case MethodKind::kTemporaryAccessPass:
      return "#microsoft.graph.temporaryAccessPassAuthenticationMethod";
  }
  return "#microsoft.graph.authenticationMethod";
}

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

Status Read(const Principal& by) { return service::Authorize(by, service::Permission::kRead); }

}  // namespace

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
        route.pattern.push_back(path.substr(start, slash - start));
        start = slash + 1;
      }
      r.push_back(std::move(route));
    };
    const std::string devices(kDevices);
    // Literal strings must outlive the routes: they are static.
    static const std::string kDeviceList = devices;
    static const std::string kDeviceOne = devices + "/{id}";
    add(V::get, kDeviceList, &AdminApi::ListDevices);
    add(V::post, kDeviceList, &AdminApi::CreateDevices);
    add(V::get, kDeviceOne, &AdminApi::GetDevice);
    add(V::patch, kDeviceOne, &AdminApi::UpdateDevice);
    add(V::delete_, kDeviceOne, &AdminApi::DeleteDevice);

    add(V::get, "/v1.0/users/{upn}/authentication/hardwareOathMethods",
        &AdminApi::ListHardwareMethods);
    add(V::post, "/v1.0/users/{upn}/authentication/hardwareOathMethods",
        &AdminApi::AssignHardwareMethod);
    add(V::post,
        "/v1.0/users/{upn}/authentication/hardwareOathMethods/assignAndActivateBySerialNumber",
        &AdminApi::AssignAndActivateBySerial);
    add(V::get, "/v1.0/users/{upn}/authentication/hardwareOathMethods/{id}",
        &AdminApi::GetHardwareMethod);
    add(V::delete_, "/v1.0/users/{upn}/authentication/hardwareOathMethods/{id}",
        &AdminApi::UnassignHardwareMethod);
    add(V::post, "/v1.0/users/{upn}/authentication/hardwareOathMethods/{id}/activate",
        &AdminApi::ActivateHardwareMethod);
    add(V::post, "/v1.0/users/{upn}/authentication/hardwareOathMethods/{id}/deactivate",
        &AdminApi::DeactivateHardwareMethod);

    add(V::get, "/v1.0/users/{upn}/authentication/softwareOathMethods",
        &AdminApi::ListSoftwareMethods);
    add(V::post, "/v1.0/users/{upn}/authentication/softwareOathMethods",
        &AdminApi::EnrolSoftwareMethod);
    add(V::get, "/v1.0/users/{upn}/authentication/softwareOathMethods/{id}",
        &AdminApi::GetSoftwareMethod);
    add(V::delete_, "/v1.0/users/{upn}/authentication/softwareOathMethods/{id}",
        &AdminApi::DeleteMethodRoute);
    add(V::post, "/v1.0/users/{upn}/authentication/softwareOathMethods/{id}/confirm",
        &AdminApi::ConfirmSoftwareMethod);

    add(V::get, "/v1.0/users/{upn}/authentication/phoneMethods", &AdminApi::ListPhoneMethods);
    add(V::post, "/v1.0/users/{upn}/authentication/phoneMethods", &AdminApi::AddPhoneMethod);
    add(V::get, "/v1.0/users/{upn}/authentication/phoneMethods/{id}", &AdminApi::GetPhoneMethod);
    add(V::patch, "/v1.0/users/{upn}/authentication/phoneMethods/{id}",
        &AdminApi::UpdatePhoneMethod);
    add(V::delete_, "/v1.0/users/{upn}/authentication/phoneMethods/{id}",
        &AdminApi::DeleteMethodRoute);
    add(V::post, "/v1.0/users/{upn}/authentication/phoneMethods/{id}/enableSmsSignIn",
        &AdminApi::EnableSmsSignIn);
    add(V::post, "/v1.0/users/{upn}/authentication/phoneMethods/{id}/disableSmsSignIn",
        &AdminApi::DisableSmsSignIn);

    add(V::get, "/v1.0/users/{upn}/authentication/emailMethods", &AdminApi::ListEmailMethods);
    add(V::post, "/v1.0/users/{upn}/authentication/emailMethods", &AdminApi::AddEmailMethod);
    add(V::get, "/v1.0/users/{upn}/authentication/emailMethods/{id}", &AdminApi::GetEmailMethod);
    add(V::patch, "/v1.0/users/{upn}/authentication/emailMethods/{id}",
        &AdminApi::UpdateEmailMethod);
    add(V::delete_, "/v1.0/users/{upn}/authentication/emailMethods/{id}",
        &AdminApi::DeleteMethodRoute);

    add(V::get, "/v1.0/users/{upn}/authentication/methods", &AdminApi::ListMethods);

    add(V::get, "/v1.0/users", &AdminApi::ListUsers);
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
    r.body = json::parse(GraphErrorBody(e.code, message, api.request_id, now));
    r.route = std::move(route);
    return r;
  };

  auto target = ParseTarget(request.target());
  if (!target.ok()) return error(target.status(), "unmatched");
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
    if (!result.ok()) return error(result.status(), route.name);
    result->route = route.name;
    return std::move(*result);
  }
  ApiResponse r = error(base::NotFoundError(""), "unmatched");
  if (path_matched) {
    r.status = 405;
    r.body = json::parse(GraphErrorBody("notAllowed", "this resource does not take that method",
                                        api.request_id, now));
  } else {
    r.body = json::parse(GraphErrorBody("itemNotFound",
                                        "no such resource; see docs/admin-api.md for every path",
                                        api.request_id, now));
  }
  return r;
}

// ---- the hardware-token inventory ---------------------------------------------------------------

base::StatusOr<json::object> AdminApi::DeviceJson(const service::TokenRecord& t) const {
  OTPD_ASSIGN_OR_RETURN(service::CredentialState state, service::LoadCredentialState(*s_.store, t));
  json::object o;
  o["@odata.type"] = "#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice";
  o["id"] = t.serial;
  o["displayName"] = t.display_name.empty() ? json::value(nullptr) : json::value(t.display_name);
  o["serialNumber"] = t.serial;
  o["manufacturer"] = t.manufacturer;
  o["model"] = t.model;
  o["secretKey"] = nullptr;
  o["timeIntervalInSeconds"] =
      t.params.type == engine::OtpType::kTotp ? json::value(t.params.period) : json::value(nullptr);
  o["hashFunction"] = HashFunctionName(t.params.algorithm);
  o["status"] = service::TokenStatusName(t.status);
  if (t.assigned_to.empty()) {
    o["assignedTo"] = nullptr;
  } else {
    json::object who;
    who["id"] = t.assigned_to;
    who["displayName"] = t.assigned_to;
    o["assignedTo"] = std::move(who);
  }
  o["lastUsedDateTime"] = OrNull(state.last_used);
  o["type"] = engine::OtpTypeName(t.params.type);
  o["digits"] = t.params.digits;
  if (t.params.type == engine::OtpType::kHotp) o["counter"] = state.token.watermark;
  o["batch"] = t.batch;
  o["activationFailures"] = t.activation_failures;
  o["createdDateTime"] = OrNull(t.created);
  return o;
}

AdminApi::Result AdminApi::ListDevices(Call& c) {
  OTPD_RETURN_IF_ERROR(Read(c.by()));
  static const std::set<std::string_view> kFields = {
      "status", "serialNumber", "manufacturer", "model", "batch", "assignedTo/id", "type"};
  OTPD_ASSIGN_OR_RETURN(Paging paging, ReadPaging(c.target, kFields));
  service::TokenFilter filter;
  filter.after = paging.after;
  json::array items;
  std::string last;
  bool more = false;
  Status failed;
  OTPD_RETURN_IF_ERROR(s_.inventory->List(filter, [&](const service::TokenRecord& t) {
    const bool keep = Passes(paging.filter, "status", service::TokenStatusName(t.status)) &&
                      Passes(paging.filter, "serialNumber", t.serial) &&
                      Passes(paging.filter, "manufacturer", t.manufacturer) &&
                      Passes(paging.filter, "model", t.model) &&
                      Passes(paging.filter, "batch", t.batch) &&
                      Passes(paging.filter, "assignedTo/id", t.assigned_to) &&
                      Passes(paging.filter, "type", engine::OtpTypeName(t.params.type));
    if (!keep) return true;
    if (items.size() == paging.top) {
      more = true;
      return false;
    }
    auto device = DeviceJson(t);
    if (!device.ok()) {
      failed = device.status();
      return false;
    }
    items.push_back(std::move(*device));
    last = t.serial;
    return true;
  }));
  OTPD_RETURN_IF_ERROR(failed);
  return Json(200,
              Page(std::move(items), more ? NextLink(c.api.origin, kDevices, c.target, last) : ""));
}

AdminApi::Result AdminApi::GetDevice(Call& c) {
  OTPD_RETURN_IF_ERROR(Read(c.by()));
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(service::TokenRecord token, s_.inventory->Get(c.param(0)));
  OTPD_ASSIGN_OR_RETURN(json::object device, DeviceJson(token));
  return Json(200, std::move(device));
}

AdminApi::Result AdminApi::UpdateDevice(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  service::TokenInventory::Update update;
  update.display_name = in.OptionalString("displayName");
  update.manufacturer = in.OptionalString("manufacturer");
  update.model = in.OptionalString("model");
  if (in.OptionalString("secretKey")) {
    return base::InvalidArgumentError("secretKey cannot be changed: import the token again");
  }
  for (std::string_view fixed : {"serialNumber", "timeIntervalInSeconds", "hashFunction", "status",
                                 "assignedTo", "type", "digits"}) {
    if (body.contains(fixed)) {
      return base::InvalidArgumentError(std::string(fixed) + " cannot be changed");
    }
  }
  in.Allow("@odata.type");
  in.Allow("id");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_RETURN_IF_ERROR(s_.inventory->UpdateToken(c.param(0), update, c.by()).status());
  return NoContent();
}

AdminApi::Result AdminApi::DeleteDevice(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_RETURN_IF_ERROR(s_.inventory->Delete(c.param(0), c.by()));
  return NoContent();
}

AdminApi::Result AdminApi::CreateDevices(Call& c) {
  std::string_view type = c.request()[bhttp::field::content_type];
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.empty() || boost::beast::iequals(type, "application/json")) {
    boost::system::error_code ec;
    json::parse_options options;
    options.max_depth = 16;
    json::value body = json::parse(c.request().body(), ec, {}, options);
    if (ec) return base::InvalidArgumentError("malformed JSON: " + ec.message());
    return ImportJsonDevices(c, body);
  }
  return ImportTokenFile(c);
}

AdminApi::Result AdminApi::ImportTokenFile(Call& c) {
  static const std::set<std::string_view> kParams = {"format", "replace", "allowDuplicateSeeds",
                                                     "dryRun", "fileName"};
  for (const auto& [name, value] : c.target.query) {
    if (!kParams.contains(name)) {
      return base::InvalidArgumentError(
          name.size() <= 64 ? "the query parameter " + name + " is not supported here"
                            : std::string("a query parameter is not supported here"));
    }
  }
  std::optional<tokenio::Format> format;
  std::string_view type = c.request()[bhttp::field::content_type];
  if (std::optional<std::string_view> f = c.target.Param("format")) {
    OTPD_ASSIGN_OR_RETURN(format, tokenio::ParseFormatName(*f));
  } else if (type.starts_with("application/pskc+xml")) {
    format = tokenio::Format::kPskc;
  } else if (!type.starts_with("text/csv") && !type.starts_with("application/xml") &&
             !type.starts_with("text/xml") && !type.starts_with("application/octet-stream")) {
    return base::InvalidArgumentError(
        "Content-Type must be application/json (devices), text/csv (Entra or OATH CSV) or "
        "application/pskc+xml (PSKC)");
  }
  tokenio::PskcSecrets secrets;
  secrets.now_unix = s_.clock->NowUnixSeconds();
  if (std::string_view key = c.request()["X-Otpd-Pskc-Key"]; !key.empty()) {
    auto decoded = base::HexDecode(key);
    if (!decoded.ok() ||
        (decoded->size() != 16 && decoded->size() != 24 && decoded->size() != 32)) {
      return base::InvalidArgumentError(
          "X-Otpd-Pskc-Key must be an AES key of 16, 24 or 32 bytes in hex");
    }
    secrets.pre_shared_key = std::move(*decoded);
  }
  if (std::string_view password = c.request()["X-Otpd-Pskc-Password"]; !password.empty()) {
    secrets.password = base::SecretBytes::FromString(password);
  }
  OTPD_ASSIGN_OR_RETURN(bool dry, Switch(c.target, "dryRun"));
  OTPD_ASSIGN_OR_RETURN(bool replace, Switch(c.target, "replace"));
  OTPD_ASSIGN_OR_RETURN(bool duplicates, Switch(c.target, "allowDuplicateSeeds"));

  auto file = service::ParseTokenBytes(c.request().body(), format, secrets);
  if (!file.ok()) return file.status().WithContext("the token file");
  service::ImportOptions options;
  options.dry_run = dry;
  options.replace = replace;
  options.allow_duplicate_seeds = duplicates;
  options.file_name = std::string(c.target.Param("fileName").value_or("admin API upload"));
  options.file_sha256 = file->sha256;
  options.format = std::string(tokenio::FormatName(file->format));
  options.principal = c.by();
  service::Importer importer(*s_.store, *s_.keys, *s_.clock, s_.inventory_options, options,
                             s_.invalidator);
  OTPD_RETURN_IF_ERROR(service::FeedImporter(*file, importer));
  OTPD_ASSIGN_OR_RETURN(service::ImportReport report, importer.Finish());
  return Json(200, ReportJson(report, tokenio::FormatName(file->format), dry));
}

AdminApi::Result AdminApi::ImportJsonDevices(Call& c, const json::value& body) {
  static const std::set<std::string_view> kParams = {"allowDuplicateSeeds", "dryRun"};
  for (const auto& [name, value] : c.target.query) {
    if (!kParams.contains(name)) {
      return base::InvalidArgumentError(
          name.size() <= 64 ? "the query parameter " + name + " is not supported here"
                            : std::string("a query parameter is not supported here"));
    }
  }
  OTPD_ASSIGN_OR_RETURN(bool dry, Switch(c.target, "dryRun"));
  OTPD_ASSIGN_OR_RETURN(bool duplicates, Switch(c.target, "allowDuplicateSeeds"));
  const bool single = body.is_object();
  if (!single && !body.is_array()) {
    return base::InvalidArgumentError("the body must be a device object or an array of them");
  }
  std::vector<const json::object*> objects;
  if (single) {
    objects.push_back(&body.as_object());
  } else {
    if (body.as_array().empty()) return base::InvalidArgumentError("the array holds no devices");
    for (const json::value& v : body.as_array()) {
      if (!v.is_object()) {
        return base::InvalidArgumentError("item " + std::to_string(objects.size() + 1) +
                                          " of the array is not an object");
      }
      objects.push_back(&v.as_object());
    }
  }

  // Every object is checked before anything is stored: a malformed one refuses the whole request.
  service::TokenFile file;
  file.format = tokenio::Format::kOathCsv;  // nominal: rows are counted by position
  file.sha256 = base::HexEncode(base::Sha256(c.request().body()));
  for (size_t i = 0; i < objects.size(); ++i) {
    const std::string where = single ? "" : "[" + std::to_string(i) + "].";
    FieldReader in(*objects[i], where);
    tokenio::TokenRecord t;
    t.position = i + 1;
    t.serial = in.String("serialNumber", FieldReader::kRequired);
    std::string secret = in.String("secretKey", FieldReader::kRequired);
    t.manufacturer = in.String("manufacturer");
    t.model = in.String("model");
    std::optional<std::string> display_name = in.OptionalString("displayName");
    std::optional<int64_t> period = in.OptionalInt("timeIntervalInSeconds", 1, 86400);
    std::optional<std::string> hash = in.OptionalString("hashFunction");
    std::optional<std::string> type = in.OptionalString("type");
    std::optional<int64_t> digits = in.OptionalInt("digits", engine::kMinDigits, 8);
    std::optional<int64_t> counter = in.OptionalInt("counter", 0, INT64_MAX);
    const json::object* assign = in.Object("assignTo");
    in.Allow("@odata.type");
    in.Allow("id");
    in.Allow("status");
    OTPD_RETURN_IF_ERROR(in.Finish());
    if (display_name && !display_name->empty()) {
      return base::InvalidArgumentError(
          where + "displayName is set by activation or PATCH, not at creation");
    }
    if (assign != nullptr) {
      FieldReader who(*assign, where + "assignTo.");
      t.upn = who.String("id", FieldReader::kRequired);
      OTPD_RETURN_IF_ERROR(who.Finish());
    }
    if (t.serial.empty() || t.serial.size() > 128) {
      return base::InvalidArgumentError(where + "serialNumber must have 1 to 128 characters");
    }
    if (type) {
      auto parsed = engine::ParseOtpType(*type);
      if (!parsed.ok()) return base::InvalidArgumentError(where + "type must be totp or hotp");
      t.params.type = *parsed;
    }
    if (hash) {
      auto algorithm = engine::ParseHashAlgorithm(*hash);
      if (!algorithm.ok()) {
        return base::InvalidArgumentError(
            where + "hashFunction must be hmacsha1, hmacsha256 or hmacsha512");
      }
      t.params.algorithm = *algorithm;
    }
    if (period) t.params.period = static_cast<uint32_t>(*period);
    if (digits) t.params.digits = static_cast<int>(*digits);
    if (counter) {
      if (t.params.type != engine::OtpType::kHotp) {
        return base::InvalidArgumentError(where + "counter is for HOTP tokens (type \"hotp\")");
      }
      t.counter = static_cast<uint64_t>(*counter);
    }
    if (Status valid = t.params.Validate(); !valid.ok()) return valid.WithContext(where + "device");
    auto seed = base::Base32Decode(secret);
    if (!seed.ok() || secret.size() > 128) {
      return base::InvalidArgumentError(
          where + "secretKey must be Base32 (A-Z, 2-7), at most 128 characters");
    }
    if (seed->size() < 16) {
      return base::InvalidArgumentError(where + "secretKey must hold at least 128 bits");
    }
    t.seed = std::move(*seed);
    file.rows.tokens.push_back(std::move(t));
  }
  if (single && !dry) {
    auto existing = s_.inventory->Get(file.rows.tokens.front().serial);
    if (existing.ok()) {
      return base::AlreadyExistsError("a token with serial number " + existing->serial +
                                      " exists already");
    }
    if (!base::IsNotFound(existing.status())) return existing.status();
  }

  service::ImportOptions options;
  options.dry_run = dry;
  options.allow_duplicate_seeds = duplicates;
  options.file_name = "admin API devices";
  options.file_sha256 = file.sha256;
  options.format = "json";
  options.principal = c.by();
  service::Importer importer(*s_.store, *s_.keys, *s_.clock, s_.inventory_options, options,
                             s_.invalidator);
  const std::string first_serial = file.rows.tokens.front().serial;
  OTPD_RETURN_IF_ERROR(service::FeedImporter(file, importer));
  OTPD_ASSIGN_OR_RETURN(service::ImportReport report, importer.Finish());
  if (!single) return Json(200, ReportJson(report, "json", dry));
  if (report.failed > 0) {
    return base::InvalidArgumentError(report.failures.front().reason);
  }
  if (dry) return Json(200, ReportJson(report, "json", dry));
  OTPD_ASSIGN_OR_RETURN(service::TokenRecord token, s_.inventory->Get(first_serial));
  OTPD_ASSIGN_OR_RETURN(json::object device, DeviceJson(token));
  ApiResponse r = Json(201, std::move(device));
  r.headers.emplace_back("Location",
                         c.Link(std::string(kDevices) + "/" + PercentEncode(first_serial)));
  return r;
}

// ---- a user's hardware tokens ------------------------------------------------------------------

base::StatusOr<json::object> AdminApi::MethodJson(const Principal& viewer,
                                                  const MethodRecord& m) const {
  json::object o;
  o["@odata.type"] = OdataType(m.kind());
  o["id"] = m.id;
  o["createdDateTime"] = OrNull(m.created);
  if (const auto* hw = std::get_if<service::HardwareOathPayload>(&m.payload)) {
    auto token = s_.inventory->Get(hw->serial);
    if (token.ok()) {
      OTPD_ASSIGN_OR_RETURN(json::object device, DeviceJson(*token));
      o["device"] = std::move(device);
    } else if (base::IsNotFound(token.status())) {
      o["device"] = nullptr;
    } else {
      return token.status();
    }
  } else if (const auto* sw = std::get_if<service::SoftwareOathPayload>(&m.payload)) {
    o["displayName"] = sw->display_name;
    o["secretKey"] = nullptr;
    const bool lapsed = !sw->confirmed && sw->expires <= s_.clock->NowUnixSeconds();
    o["status"] = sw->confirmed ? "active" : lapsed ? "expired" : "pending";
    if (!sw->confirmed) o["expiresDateTime"] = OrNull(sw->expires);
  } else if (const auto* phone = std::get_if<service::PhonePayload>(&m.payload)) {
    o["phoneNumber"] = service::PhoneNumberFor(viewer, phone->number);
    o["phoneType"] = service::PhoneTypeName(phone->type);
    o["smsSignInState"] = SmsSignInState(*phone);
  } else if (const auto* email = std::get_if<service::EmailPayload>(&m.payload)) {
    o["emailAddress"] = email->address;
  }
  return o;
}

base::StatusOr<MethodRecord> AdminApi::MethodOfKind(Call& c, std::string_view upn,
                                                    std::string_view id, MethodKind kind) {
  OTPD_ASSIGN_OR_RETURN(MethodRecord m, s_.methods->Get(c.by(), upn, id));
  if (m.kind() != kind) {
    return base::NotFoundError("the user has no " + std::string(service::MethodKindName(kind)) +
                               " method with that id");
  }
  return m;
}

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

namespace {

// A 429 for the activation limit, with Retry-After.
ApiResponse ActivityLimit(const Status& why, std::string_view request_id, int64_t now,
                          std::chrono::seconds window) {
  ApiResponse r;
  r.status = 429;
  r.body = json::parse(GraphErrorBody("activityLimitReached", why.message(), request_id, now));
  r.headers.emplace_back("Retry-After", std::to_string(window.count()));
  return r;
}

// The outcome of an activation as the API answers it.
base::StatusOr<ApiResponse> ActivationAnswer(const service::ActivationResult& result) {
  if (result.outcome == service::ActivationOutcome::kActivated) return NoContent();
  return base::InvalidArgumentError("the verification code is not right for this token (" +
                                    std::to_string(result.failures) +
                                    " wrong activation codes so far)");
}

}  // namespace

AdminApi::Result AdminApi::ListHardwareMethods(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, s_.methods->List(c.by(), c.param(0)));
  json::array items;
  for (const MethodRecord& m : methods) {
    if (m.kind() != MethodKind::kHardwareOath) continue;
    OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
    items.push_back(std::move(o));
  }
  return Json(200, Page(std::move(items), ""));
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
  std::optional<std::string> name = in.OptionalString("displayName");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_ASSIGN_OR_RETURN(std::string serial, HardwareSerial(c, c.param(0), c.param(1)));
  if (Status limit = TakeActivation(); !limit.ok()) {
    return ActivityLimit(limit, c.api.request_id, s_.clock->NowUnixSeconds(),
                         options_.activation_window);
  }
  OTPD_ASSIGN_OR_RETURN(service::ActivationResult result,
                        s_.inventory->Activate(serial, code, c.by(), std::move(name)));
  return ActivationAnswer(result);
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
  std::optional<std::string> name = in.OptionalString("displayName");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_ASSIGN_OR_RETURN(service::TokenRecord token, s_.inventory->Get(serial));
  const std::string upn = service::NormaliseUpn(c.param(0));
  if (token.assigned_to.empty()) {
    OTPD_RETURN_IF_ERROR(s_.inventory->Assign(serial, upn, c.by()));
  } else if (token.assigned_to != upn) {
    return base::FailedPreconditionError("token " + serial + " is assigned to another user");
  }
  if (Status limit = TakeActivation(); !limit.ok()) {
    return ActivityLimit(limit, c.api.request_id, s_.clock->NowUnixSeconds(),
                         options_.activation_window);
  }
  OTPD_ASSIGN_OR_RETURN(service::ActivationResult result,
                        s_.inventory->Activate(serial, code, c.by(), std::move(name)));
  return ActivationAnswer(result);
}

AdminApi::Result AdminApi::UnassignHardwareMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::string serial, HardwareSerial(c, c.param(0), c.param(1)));
  OTPD_RETURN_IF_ERROR(s_.inventory->Unassign(serial, c.by()));
  return NoContent();
}

// ---- software tokens ---------------------------------------------------------------------------

AdminApi::Result AdminApi::ListSoftwareMethods(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, s_.methods->List(c.by(), c.param(0)));
  json::array items;
  for (const MethodRecord& m : methods) {
    if (m.kind() != MethodKind::kSoftwareOath) continue;
    OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
    items.push_back(std::move(o));
  }
  return Json(200, Page(std::move(items), ""));
}

AdminApi::Result AdminApi::EnrolSoftwareMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string name = in.String("displayName");
  in.Allow("@odata.type");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_ASSIGN_OR_RETURN(service::Enrolment enrolment,
                        s_.methods->EnrolSoftwareToken(c.by(), c.param(0), name));
  OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), enrolment.method));
  // Shown in this response only: the secret, the URI an app scans and the same as a QR code.
  o["secretKey"] = enrolment.secret_base32.view();
  o["otpauthUri"] = enrolment.uri.view();
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes svg, tokenio::QrSvg(enrolment.uri.view()));
  o["qrCodeSvg"] = svg.view();
  ApiResponse r = Json(201, std::move(o));
  r.headers.emplace_back("Location", c.Link("/v1.0/users/" + PercentEncode(c.param(0)) +
                                            "/authentication/softwareOathMethods/" +
                                            PercentEncode(enrolment.method.id)));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

AdminApi::Result AdminApi::GetSoftwareMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(MethodRecord m,
                        MethodOfKind(c, c.param(0), c.param(1), MethodKind::kSoftwareOath));
  OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
  return Json(200, std::move(o));
}

AdminApi::Result AdminApi::ConfirmSoftwareMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string code = in.String("verificationCode", FieldReader::kRequired);
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_RETURN_IF_ERROR(MethodOfKind(c, c.param(0), c.param(1), MethodKind::kSoftwareOath).status());
  OTPD_RETURN_IF_ERROR(s_.methods->ConfirmSoftwareToken(c.by(), c.param(0), c.param(1), code));
  return NoContent();
}

AdminApi::Result AdminApi::DeleteMethodRoute(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  // The path names the kind: a phone id under emailMethods is not found, as in Graph.
  const std::string& collection = c.target.segments[4];
  const MethodKind kind = collection == "phoneMethods"   ? MethodKind::kPhone
                          : collection == "emailMethods" ? MethodKind::kEmail
                                                         : MethodKind::kSoftwareOath;
  OTPD_RETURN_IF_ERROR(MethodOfKind(c, c.param(0), c.param(1), kind).status());
  OTPD_RETURN_IF_ERROR(s_.methods->DeleteMethod(c.by(), c.param(0), c.param(1)));
  return NoContent();
}

// ---- phones and email --------------------------------------------------------------------------

AdminApi::Result AdminApi::ListPhoneMethods(Call& c) {
  static const std::set<std::string_view> kFields = {"phoneType"};
  OTPD_ASSIGN_OR_RETURN(Paging paging, ReadPaging(c.target, kFields));
  if (!paging.after.empty()) return base::InvalidArgumentError("this list has one page");
  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, s_.methods->List(c.by(), c.param(0)));
  json::array items;
  for (const MethodRecord& m : methods) {
    const auto* phone = std::get_if<service::PhonePayload>(&m.payload);
    if (phone == nullptr || !Passes(paging.filter, "phoneType", PhoneTypeName(phone->type))) {
      continue;
    }
    OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
    items.push_back(std::move(o));
  }
  return Json(200, Page(std::move(items), ""));
}

AdminApi::Result AdminApi::AddPhoneMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string number = in.String("phoneNumber", FieldReader::kRequired);
  const std::string type_name = in.String("phoneType", FieldReader::kRequired);
  in.Allow("@odata.type");
  OTPD_RETURN_IF_ERROR(in.Finish());
  std::optional<service::PhoneType> type = service::ParsePhoneType(type_name);
  if (!type) {
    return base::InvalidArgumentError("phoneType must be mobile, alternateMobile or office");
  }
  OTPD_ASSIGN_OR_RETURN(MethodRecord m, s_.methods->AddPhone(c.by(), c.param(0), *type, number));
  OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
  ApiResponse r = Json(201, std::move(o));
  r.headers.emplace_back("Location", c.Link("/v1.0/users/" + PercentEncode(c.param(0)) +
                                            "/authentication/phoneMethods/" + m.id));
  return r;
}

AdminApi::Result AdminApi::GetPhoneMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(MethodRecord m,
                        MethodOfKind(c, c.param(0), c.param(1), MethodKind::kPhone));
  OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
  return Json(200, std::move(o));
}

AdminApi::Result AdminApi::UpdatePhoneMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  std::optional<std::string> number = in.OptionalString("phoneNumber");
  std::optional<std::string> type_name = in.OptionalString("phoneType");
  in.Allow("@odata.type");
  in.Allow("id");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_ASSIGN_OR_RETURN(MethodRecord m,
                        MethodOfKind(c, c.param(0), c.param(1), MethodKind::kPhone));
  const auto& phone = std::get<service::PhonePayload>(m.payload);
  if (type_name && *type_name != service::PhoneTypeName(phone.type)) {
    return base::InvalidArgumentError(
        "phoneType cannot change: delete this phone and add one of the other type");
  }
  OTPD_RETURN_IF_ERROR(
      s_.methods->UpdatePhone(c.by(), c.param(0), c.param(1), std::move(number), std::nullopt)
          .status());
  return NoContent();
}

AdminApi::Result AdminApi::EnableSmsSignIn(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_RETURN_IF_ERROR(MethodOfKind(c, c.param(0), c.param(1), MethodKind::kPhone).status());
  OTPD_RETURN_IF_ERROR(
      s_.methods->UpdatePhone(c.by(), c.param(0), c.param(1), std::nullopt, true).status());
  return NoContent();
}

AdminApi::Result AdminApi::DisableSmsSignIn(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_RETURN_IF_ERROR(MethodOfKind(c, c.param(0), c.param(1), MethodKind::kPhone).status());
  OTPD_RETURN_IF_ERROR(
      s_.methods->UpdatePhone(c.by(), c.param(0), c.param(1), std::nullopt, false).status());
  return NoContent();
}

AdminApi::Result AdminApi::ListEmailMethods(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, s_.methods->List(c.by(), c.param(0)));
  json::array items;
  for (const MethodRecord& m : methods) {
    if (m.kind() != MethodKind::kEmail) continue;
    OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
    items.push_back(std::move(o));
  }
  return Json(200, Page(std::move(items), ""));
}

AdminApi::Result AdminApi::AddEmailMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string address = in.String("emailAddress", FieldReader::kRequired);
  in.Allow("@odata.type");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_ASSIGN_OR_RETURN(MethodRecord m, s_.methods->AddEmail(c.by(), c.param(0), address));
  OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
  ApiResponse r = Json(201, std::move(o));
  r.headers.emplace_back("Location", c.Link("/v1.0/users/" + PercentEncode(c.param(0)) +
                                            "/authentication/emailMethods/" + m.id));
  return r;
}

AdminApi::Result AdminApi::GetEmailMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(MethodRecord m,
                        MethodOfKind(c, c.param(0), c.param(1), MethodKind::kEmail));
  OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
  return Json(200, std::move(o));
}

AdminApi::Result AdminApi::UpdateEmailMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string address = in.String("emailAddress", FieldReader::kRequired);
  in.Allow("@odata.type");
  in.Allow("id");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_RETURN_IF_ERROR(MethodOfKind(c, c.param(0), c.param(1), MethodKind::kEmail).status());
  OTPD_RETURN_IF_ERROR(s_.methods->UpdateEmail(c.by(), c.param(0), address).status());
  return NoContent();
}

AdminApi::Result AdminApi::ListMethods(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, s_.methods->List(c.by(), c.param(0)));
  json::array items;
  for (const MethodRecord& m : methods) {
    OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
    items.push_back(std::move(o));
  }
  return Json(200, Page(std::move(items), ""));
}

// ---- users -------------------------------------------------------------------------------------

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
  const std::string name = in.String("displayName");
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

AdminApi::Result AdminApi::PatchUser(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  std::optional<std::string> name = in.OptionalString("displayName");
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

// ---- API keys, backups, audit ------------------------------------------------------------------

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
  const std::string name = in.String("name", FieldReader::kRequired);
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
  OTPD_RETURN_IF_ERROR(service::Authorize(c.by(), service::Permission::kBackup));
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string path = in.String("path", FieldReader::kRequired);
  OTPD_RETURN_IF_ERROR(in.Finish());
  if (path.empty() || path[0] != '/') {
    return base::InvalidArgumentError("path must be an absolute path on the daemon's machine");
  }
  if (!s_.backup) return base::UnimplementedError("this daemon cannot write backups");
  service::AuditRecord audit = service::MakeAudit(*s_.clock, c.by(), "backup", "backup");
  auto written = s_.backup(path);
  if (!written.ok()) {
    OTPD_RETURN_IF_ERROR(service::RecordRefusal(*s_.store, audit, written.status()));
    return written.status();
  }
  storage::WriteBatch batch;
  audit.detail = path;
  service::AddAudit(batch, audit);
  OTPD_RETURN_IF_ERROR(s_.store->Commit(std::move(batch), storage::Durability::kDurable));
  return Json(200, std::move(*written));
}

AdminApi::Result AdminApi::ListAudit(Call& c) {
  OTPD_RETURN_IF_ERROR(Read(c.by()));
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
  OTPD_RETURN_IF_ERROR(service::ListAudit(
      *s_.store, filter, paging.after, [&](std::string_view key, const service::AuditRecord& a) {
        if (!Passes(paging.filter, "target", a.target) ||
            !Passes(paging.filter, "actor", a.actor) ||
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
      }));
  return Json(200, Page(std::move(items),
                        more ? NextLink(c.api.origin, "/v1.0/audit", c.target, last) : ""));
}

}  // namespace otpd::server::admin
