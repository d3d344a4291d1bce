// A user's software tokens, phone and email methods, and the list of every method.

#include <boost/json.hpp>
#include <optional>
#include <set>

#include "server/admin/admin_api.h"
#include "server/admin/internal/api_common.h"
#include "tokenio/qr.h"

namespace otpd::server::admin {

namespace json = boost::json;
using service::MethodKind;
using service::MethodRecord;

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
  const service::MethodKindSpec* kind = service::FindMethodKindByCollection(c.target.segments[4]);
  if (kind == nullptr) return base::NotFoundError("no such collection of methods");
  OTPD_RETURN_IF_ERROR(MethodOfKind(c, c.param(0), c.param(1), kind->kind).status());
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
    if (m.kind() == MethodKind::kTemporaryAccessPass) {
      // With its usability, which takes the pass's use state.
      auto tap = TapJson(c.by(), c.param(0));
      if (tap.ok()) {
        items.push_back(std::move(*tap));
        continue;
      }
      if (!base::IsNotFound(tap.status())) return tap.status();
    }
    OTPD_ASSIGN_OR_RETURN(json::object o, MethodJson(c.by(), m));
    items.push_back(std::move(o));
  }
  return Json(200, Page(std::move(items), ""));
}

}  // namespace otpd::server::admin
