// A user's authentication methods: the routes every kind's collection answers alike (made from
// the kinds' GraphMethodKind entries), the list of every method, and what authenticator apps and
// phones add to them.

#include <boost/json.hpp>
#include <optional>
#include <set>

#include "server/admin/admin_api.h"
#include "server/admin/internal/api_common.h"
#include "server/admin/internal/graph_method_kinds.h"
#include "tokenio/qr.h"

namespace otpd::server::admin {

namespace json = boost::json;
using service::MethodKind;
using service::MethodRecord;
using service::Principal;

namespace {

// The kind whose collection the route's path names (/v1.0/users/{upn}/authentication/<it>/...).
base::StatusOr<MethodKind> CollectionKind(const AdminApi::Call& c) {
  const service::MethodKindSpec* kind = service::FindMethodKindByCollection(c.target.segments[4]);
  if (kind == nullptr) return base::NotFoundError("no such collection of methods");
  return kind->kind;
}

std::string MethodLink(const AdminApi::Call& c, std::string_view id) {
  return c.Link("/v1.0/users/" + PercentEncode(c.param(0)) + "/authentication/" +
                c.target.segments[4] + "/" + PercentEncode(id));
}

}  // namespace

base::StatusOr<json::object> AdminApi::MethodJson(const Principal& viewer,
                                                  const MethodRecord& m) const {
  json::object o;
  o["@odata.type"] = OdataType(m.kind());
  o["id"] = m.id;
  o["createdDateTime"] = OrNull(m.created);
  const MethodView view{.viewer = viewer,
                        .now = s_.clock->NowUnixSeconds(),
                        .device = [this](std::string_view serial) -> base::StatusOr<json::value> {
                          auto token = s_.inventory->Get(serial);
                          if (base::IsNotFound(token.status())) return json::value(nullptr);
                          if (!token.ok()) return token.status();
                          OTPD_ASSIGN_OR_RETURN(json::object device, DeviceJson(*token));
                          return json::value(std::move(device));
                        }};
  OTPD_RETURN_IF_ERROR(DescribeGraphMethodKind(m.kind()).show(view, m, o));
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

// ---- every kind's collection -------------------------------------------------------------------

AdminApi::Result AdminApi::ListKindMethods(Call& c) {
  OTPD_ASSIGN_OR_RETURN(const MethodKind kind, CollectionKind(c));
  const GraphMethodKind& graph = DescribeGraphMethodKind(kind);
  Paging paging;
  if (graph.filter_field.empty()) {
    OTPD_RETURN_IF_ERROR(c.NoQuery());
  } else {
    OTPD_ASSIGN_OR_RETURN(paging, ReadPaging(c.target, {graph.filter_field}));
    if (!paging.after.empty()) return base::InvalidArgumentError("this list has one page");
  }
  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, s_.methods->List(c.by(), c.param(0)));
  json::array items;
  for (const MethodRecord& m : methods) {
    if (m.kind() != kind) continue;
    if (!graph.filter_field.empty() &&
        !Passes(paging.filter, graph.filter_field, graph.filter_value(m))) {
      continue;
    }
    OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
    items.push_back(std::move(o));
  }
  return Json(200, Page(std::move(items), ""));
}

AdminApi::Result AdminApi::GetKindMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(const MethodKind kind, CollectionKind(c));
  OTPD_ASSIGN_OR_RETURN(MethodRecord m, MethodOfKind(c, c.param(0), c.param(1), kind));
  OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
  return Json(200, std::move(o));
}

AdminApi::Result AdminApi::CreateKindMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(const MethodKind kind, CollectionKind(c));
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  auto payload = DescribeGraphMethodKind(kind).read_new(in);
  in.Allow("@odata.type");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_RETURN_IF_ERROR(payload.status());
  OTPD_ASSIGN_OR_RETURN(MethodRecord m, s_.methods->Add(c.by(), c.param(0), std::move(*payload)));
  OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
  ApiResponse r = Json(201, std::move(o));
  r.headers.emplace_back("Location", MethodLink(c, m.id));
  return r;
}

AdminApi::Result AdminApi::UpdateKindMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(const MethodKind kind, CollectionKind(c));
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  OTPD_ASSIGN_OR_RETURN(MethodRecord m, MethodOfKind(c, c.param(0), c.param(1), kind));
  FieldReader in(body);
  const base::Status changed = DescribeGraphMethodKind(kind).read_change(in, m.payload);
  in.Allow("@odata.type");
  in.Allow("id");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_RETURN_IF_ERROR(changed);
  OTPD_RETURN_IF_ERROR(
      s_.methods->Update(c.by(), c.param(0), c.param(1), std::move(m.payload)).status());
  return NoContent();
}

AdminApi::Result AdminApi::DeleteMethodRoute(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  // The path names the kind: a phone id under emailMethods is not found, as in Graph.
  OTPD_ASSIGN_OR_RETURN(const MethodKind kind, CollectionKind(c));
  OTPD_RETURN_IF_ERROR(MethodOfKind(c, c.param(0), c.param(1), kind).status());
  OTPD_RETURN_IF_ERROR(s_.methods->DeleteMethod(c.by(), c.param(0), c.param(1)));
  return NoContent();
}

base::StatusOr<json::object> AdminApi::AnyMethodJson(const Call& c, const MethodRecord& m) const {
  if (m.kind() == MethodKind::kTemporaryAccessPass) {
    // With its usability, which takes the pass's use state.
    auto tap = TapJson(c.by(), c.param(0));
    if (!base::IsNotFound(tap.status())) return tap;
  }
  return MethodJson(c.by(), m);
}

AdminApi::Result AdminApi::ListMethods(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(std::vector<MethodRecord> methods, s_.methods->List(c.by(), c.param(0)));
  json::array items;
  for (const MethodRecord& m : methods) {
    OTPD_ASSIGN_OR_RETURN(json::object o, AnyMethodJson(c, m));
    items.push_back(std::move(o));
  }
  return Json(200, Page(std::move(items), ""));
}

AdminApi::Result AdminApi::GetMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(MethodRecord m, s_.methods->Get(c.by(), c.param(0), c.param(1)));
  OTPD_ASSIGN_OR_RETURN(json::object o, AnyMethodJson(c, m));
  return Json(200, std::move(o));
}

// ---- authenticator apps ------------------------------------------------------------------------

AdminApi::Result AdminApi::EnrolSoftwareMethod(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string name = in.Text("displayName");
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
  r.headers.emplace_back("Location", MethodLink(c, enrolment.method.id));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
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

// ---- phones ------------------------------------------------------------------------------------

AdminApi::Result AdminApi::SetSmsSignIn(Call& c, bool enabled) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(MethodRecord m,
                        MethodOfKind(c, c.param(0), c.param(1), MethodKind::kPhone));
  std::get<service::PhonePayload>(m.payload).sms_sign_in = enabled;
  OTPD_RETURN_IF_ERROR(
      s_.methods->Update(c.by(), c.param(0), c.param(1), std::move(m.payload)).status());
  return NoContent();
}

AdminApi::Result AdminApi::EnableSmsSignIn(Call& c) { return SetSmsSignIn(c, true); }
AdminApi::Result AdminApi::DisableSmsSignIn(Call& c) { return SetSmsSignIn(c, false); }

}  // namespace otpd::server::admin
