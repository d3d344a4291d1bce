// One GraphMethodKind per kind of method, in service::MethodKind's order (checked below).

#include "server/admin/internal/graph_method_kinds.h"

#include <array>
#include <optional>
#include <utility>
#include <variant>

#include "server/admin/internal/api_common.h"
#include "service/admin/method_admin.h"

namespace otpd::server::admin {

namespace json = boost::json;
using service::MethodKind;
using service::MethodRecord;

namespace {

// ---- hardware tokens ---------------------------------------------------------------------------

base::Status ShowHardware(const MethodView& view, const MethodRecord& m, json::object& o) {
  OTPD_ASSIGN_OR_RETURN(o["device"], view.device(m.serial()));
  return base::OkStatus();
}

// ---- authenticator apps ------------------------------------------------------------------------

base::Status ShowSoftware(const MethodView& view, const MethodRecord& m, json::object& o) {
  const auto& app = std::get<service::SoftwareOathPayload>(m.payload);
  o["displayName"] = app.display_name;
  o["secretKey"] = nullptr;  // shown once, when the app is enrolled
  const bool lapsed = !app.confirmed && app.expires <= view.now;
  o["status"] = app.confirmed ? "active" : lapsed ? "expired" : "pending";
  if (!app.confirmed) o["expiresDateTime"] = OrNull(app.expires);
  return base::OkStatus();
}

// ---- phones ------------------------------------------------------------------------------------

std::string_view SmsSignInState(const service::PhonePayload& phone) {
  if (phone.type != service::PhoneType::kMobile) return "notSupported";
  return phone.sms_sign_in ? "ready" : "notEnabled";
}

base::Status ShowPhone(const MethodView& view, const MethodRecord& m, json::object& o) {
  const auto& phone = std::get<service::PhonePayload>(m.payload);
  o["phoneNumber"] = service::PhoneNumberFor(view.viewer, phone.number);
  o["phoneType"] = service::PhoneTypeName(phone.type);
  o["smsSignInState"] = SmsSignInState(phone);
  return base::OkStatus();
}

base::StatusOr<MethodRecord::Payload> ReadNewPhone(FieldReader& in) {
  service::PhonePayload phone;
  phone.number = in.String("phoneNumber", FieldReader::kRequired);
  const std::string type = in.String("phoneType", FieldReader::kRequired);
  std::optional<service::PhoneType> parsed = service::ParsePhoneType(type);
  if (!parsed) {
    return base::InvalidArgumentError("phoneType must be mobile, alternateMobile or office");
  }
  phone.type = *parsed;
  return MethodRecord::Payload(std::move(phone));
}

base::Status ReadPhoneChange(FieldReader& in, MethodRecord::Payload& payload) {
  auto& phone = std::get<service::PhonePayload>(payload);
  if (std::optional<std::string> number = in.OptionalString("phoneNumber")) {
    phone.number = std::move(*number);
  }
  std::optional<std::string> type = in.OptionalString("phoneType");
  if (type && *type != service::PhoneTypeName(phone.type)) {
    return base::InvalidArgumentError(
        "phoneType cannot change: delete this phone and add one of the other type");
  }
  return base::OkStatus();
}

// ---- email -------------------------------------------------------------------------------------

base::Status ShowEmail(const MethodView&, const MethodRecord& m, json::object& o) {
  o["emailAddress"] = std::get<service::EmailPayload>(m.payload).address;
  return base::OkStatus();
}

base::StatusOr<MethodRecord::Payload> ReadNewEmail(FieldReader& in) {
  return MethodRecord::Payload(
      service::EmailPayload{.address = in.String("emailAddress", FieldReader::kRequired)});
}

base::Status ReadEmailChange(FieldReader& in, MethodRecord::Payload& payload) {
  std::get<service::EmailPayload>(payload).address =
      in.String("emailAddress", FieldReader::kRequired);
  return base::OkStatus();
}

// ---- the password and temporary access passes --------------------------------------------------

base::Status ShowPassword(const MethodView&, const MethodRecord&, json::object& o) {
  o["password"] = nullptr;  // as Graph: never returned
  return base::OkStatus();
}

base::Status ShowPass(const MethodView&, const MethodRecord& m, json::object& o) {
  const auto& pass = std::get<service::TemporaryAccessPassPayload>(m.payload);
  o["startDateTime"] = OrNull(pass.start);
  o["lifetimeInMinutes"] = pass.lifetime_minutes;
  o["isUsableOnce"] = pass.usable_once;
  return base::OkStatus();
}

constexpr std::array<GraphMethodKind, 6> kGraphKinds = {{
    // Assigned, activated and unassigned through routes of their own.
    {.kind = MethodKind::kHardwareOath, .show = ShowHardware, .list = true},
    // Enrolled and confirmed through routes of their own.
    {.kind = MethodKind::kSoftwareOath,
     .show = ShowSoftware,
     .list = true,
     .get = true,
     .remove = true},
    {.kind = MethodKind::kPhone,
     .show = ShowPhone,
     .list = true,
     .get = true,
     .remove = true,
     .read_new = ReadNewPhone,
     .read_change = ReadPhoneChange,
     .filter_field = "phoneType",
     .filter_value =
         [](const MethodRecord& m) {
           return std::string(
               service::PhoneTypeName(std::get<service::PhonePayload>(m.payload).type));
         }},
    {.kind = MethodKind::kEmail,
     .show = ShowEmail,
     .list = true,
     .get = true,
     .remove = true,
     .read_new = ReadNewEmail,
     .read_change = ReadEmailChange},
    // Listed and read; reset through the administrator's actions.
    {.kind = MethodKind::kPassword, .show = ShowPassword, .list = true, .get = true},
    // Created, shown (with whether it is usable) and deleted through routes of their own.
    {.kind = MethodKind::kTemporaryAccessPass, .show = ShowPass},
}};

template <size_t... I>
constexpr bool InKindOrder(std::index_sequence<I...>) {
  return ((kGraphKinds[I].kind == static_cast<MethodKind>(I) && kGraphKinds[I].show != nullptr) &&
          ...);
}
static_assert(kGraphKinds.size() == std::variant_size_v<MethodRecord::Payload>,
              "one GraphMethodKind per kind of method");
static_assert(InKindOrder(std::make_index_sequence<kGraphKinds.size()>{}),
              "kGraphKinds must list the kinds in MethodKind's order, each with `show`");

}  // namespace

const GraphMethodKind& DescribeGraphMethodKind(MethodKind kind) {
  return kGraphKinds[static_cast<size_t>(kind)];
}

}  // namespace otpd::server::admin
