// One MethodKindSpec per kind of method (service/model/method_kind.h), with each kind's stored
// JSON members. The table's order is MethodKind's and MethodRecord::Payload's: the build checks
// both, so a new kind is one enumerator, one payload alternative and one spec here.

#include <array>
#include <utility>
#include <variant>

#include "service/internal/record_json.h"
#include "service/model/records.h"
#include "service/model/text_checks.h"

namespace otpd::service {
namespace {

using internal::kRequired;
using internal::Reader;
using internal::Writer;

// A kind's payload members, one list for both directions (service/internal/record_json.h).
template <typename P, typename Fields>
void EncodePayload(const MethodRecord& method, Writer& out) {
  Fields{}(out, std::get<P>(method.payload));
}

template <typename P, typename Fields>
void DecodePayload(Reader& in, MethodRecord& method) {
  P payload;
  Fields{}(in, payload);
  method.payload = std::move(payload);
}

struct HardwareOathFields {
  template <typename Io, typename P>
  void operator()(Io& io, P& p) const {
    io.Str("serial", p.serial, kRequired);
  }
};

struct SoftwareOathFields {
  template <typename Io, typename P>
  void operator()(Io& io, P& p) const {
    io.Str("display_name", p.display_name).Params(p.params).Sealed("secret", p.sealed_secret);
    io.Bool("confirmed", p.confirmed).Int("expires", p.expires);
  }
};

void PhoneTypeField(Writer& out, const PhoneType& type) {
  out.Text("phone_type", PhoneTypeName(type));
}
void PhoneTypeField(Reader& in, PhoneType& type) {
  std::string name;
  if (!in.Str("phone_type", name, kRequired).status().ok()) return;
  std::optional<PhoneType> parsed = ParsePhoneType(name);
  if (!parsed) {
    in.Error("record has an unknown phone type");
    return;
  }
  type = *parsed;
}

struct PhoneFields {
  template <typename Io, typename P>
  void operator()(Io& io, P& p) const {
    PhoneTypeField(io, p.type);
    io.Str("number", p.number, kRequired).Bool("sms_sign_in", p.sms_sign_in);
  }
};

struct EmailFields {
  template <typename Io, typename P>
  void operator()(Io& io, P& p) const {
    io.Str("address", p.address, kRequired);
  }
};

// The password's hash function: scrypt is the only one.
void AlgorithmField(Writer& out) { out.Text("algorithm", "scrypt"); }
void AlgorithmField(Reader& in) {
  std::string algorithm;
  if (!in.Str("algorithm", algorithm, kRequired).status().ok()) return;
  if (algorithm != "scrypt") in.Error("record has an unknown algorithm", "password");
}

struct PasswordFields {
  template <typename Io, typename P>
  void operator()(Io& io, P& p) const {
    AlgorithmField(io);
    io.Int("log2_n", p.hash.params.log2_n).Int("r", p.hash.params.r).Int("p", p.hash.params.p);
    io.Sealed("salt", p.hash.salt, "password").Sealed("hash", p.hash.key, "password");
    io.Bool("must_change", p.must_change).Int("last_changed", p.last_changed);
  }
};

struct TemporaryAccessPassFields {
  template <typename Io, typename P>
  void operator()(Io& io, P& p) const {
    io.Str("fingerprint", p.fingerprint, kRequired).Int("start", p.start);
    io.Int("lifetime_minutes", p.lifetime_minutes).Bool("usable_once", p.usable_once);
  }
};

// ---- the rules of the kinds an administrator adds directly -------------------------------------

bool Has(const std::vector<MethodRecord>& methods, std::string_view id) {
  for (const MethodRecord& m : methods) {
    if (m.id == id) return true;
  }
  return false;
}

base::Status CheckPhone(MethodRecord& method) {
  const auto& phone = std::get<PhonePayload>(method.payload);
  OTPD_RETURN_IF_ERROR(CheckPhoneNumber(phone.number));
  if (phone.sms_sign_in && phone.type != PhoneType::kMobile) {
    return base::FailedPreconditionError("only a mobile phone can receive SMS");
  }
  return base::OkStatus();
}

// One phone of each type, under the type's fixed id; a mobile before an alternate mobile.
base::Status PlacePhone(MethodRecord& method, const std::vector<MethodRecord>& others,
                        std::string_view upn) {
  const PhoneType type = std::get<PhonePayload>(method.payload).type;
  method.id = std::string(PhoneMethodId(type));
  if (Has(others, method.id)) {
    return base::AlreadyExistsError("user " + std::string(upn) + " already has a " +
                                    std::string(PhoneTypeName(type)) + " phone");
  }
  if (type == PhoneType::kAlternateMobile && !Has(others, kMobilePhoneId)) {
    return base::FailedPreconditionError("add a mobile phone before an alternateMobile one");
  }
  return base::OkStatus();
}

base::Status AmendPhone(const MethodRecord& before, const MethodRecord& after) {
  if (std::get<PhonePayload>(before.payload).type != std::get<PhonePayload>(after.payload).type) {
    return base::InvalidArgumentError(
        "phoneType cannot change: delete this phone and add one of the other type");
  }
  return base::OkStatus();
}

base::Status CheckEmail(MethodRecord& method) {
  auto& email = std::get<EmailPayload>(method.payload);
  OTPD_ASSIGN_OR_RETURN(email.address, CheckEmailAddress(email.address));
  return base::OkStatus();
}

// At most one, under its fixed id.
base::Status PlaceEmail(MethodRecord& method, const std::vector<MethodRecord>& others,
                        std::string_view upn) {
  method.id = std::string(kEmailMethodId);
  if (Has(others, method.id)) {
    return base::AlreadyExistsError("user " + std::string(upn) + " already has an email method");
  }
  return base::OkStatus();
}

template <typename P, typename Fields>
constexpr MethodKindSpec WithCodec(MethodKindSpec spec) {
  spec.encode = EncodePayload<P, Fields>;
  spec.decode = DecodePayload<P, Fields>;
  return spec;
}

constexpr std::array<MethodKindSpec, 6> kKinds = {
    {
        WithCodec<HardwareOathPayload, HardwareOathFields>({
            .kind = MethodKind::kHardwareOath,
            .name = "hardware_oath",
            .odata_type = "#microsoft.graph.hardwareOathAuthenticationMethod",
            .collection = "hardwareOathMethods",
            .oath = true,
            .reregistration = Reregistration::kDeactivateToken,
            .undeletable =
                [](const MethodRecord& m, const std::vector<MethodRecord>&) {
                  return "method " + m.id + " is hardware token " + std::string(m.serial()) +
                         "; unassign the token instead";
                },
        }),
        WithCodec<SoftwareOathPayload, SoftwareOathFields>({
            .kind = MethodKind::kSoftwareOath,
            .name = "software_oath",
            .odata_type = "#microsoft.graph.softwareOathAuthenticationMethod",
            .collection = "softwareOathMethods",
            .oath = true,
            .reregistration = Reregistration::kDelete,
            .state_key = MethodStateKey,
            .label =
                [](const MethodRecord& m) {
                  return std::get<SoftwareOathPayload>(m.payload).display_name;
                },
        }),
        WithCodec<PhonePayload, PhoneFields>({
            .kind = MethodKind::kPhone,
            .name = "phone",
            .odata_type = "#microsoft.graph.phoneAuthenticationMethod",
            .collection = "phoneMethods",
            .reregistration = Reregistration::kDelete,
            .undeletable =
                [](const MethodRecord& m, const std::vector<MethodRecord>& others) {
                  return m.id == kMobilePhoneId && Has(others, kAlternateMobilePhoneId)
                             ? std::string("delete the alternateMobile phone before the mobile one")
                             : std::string();
                },
            .label =
                [](const MethodRecord& m) {
                  return std::string(PhoneTypeName(std::get<PhonePayload>(m.payload).type));
                },
            .event_label = "phone_type",
            .check = CheckPhone,
            .place = PlacePhone,
            .amend = AmendPhone,
        }),
        WithCodec<EmailPayload, EmailFields>({
            .kind = MethodKind::kEmail,
            .name = "email",
            .odata_type = "#microsoft.graph.emailAuthenticationMethod",
            .collection = "emailMethods",
            .check = CheckEmail,
            .place = PlaceEmail,
        }),
        WithCodec<PasswordPayload, PasswordFields>(
            {
                .kind = MethodKind::kPassword,
                .name = "password",
                .odata_type = "#microsoft.graph.passwordAuthenticationMethod",
                .collection = "passwordMethods",
                .undeletable =
                    [](const MethodRecord&, const std::vector<MethodRecord>&) {
                      return std::string(
                          "the password method is not deleted; reset the password instead");
                    },
            }),
        WithCodec<TemporaryAccessPassPayload, TemporaryAccessPassFields>({
            .kind = MethodKind::kTemporaryAccessPass,
            .name = "temporary_access_pass",
            .odata_type = "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
            .collection = "temporaryAccessPassMethods",
            // The record of the one-time pass the user has used.
            .state_key = [](std::string_view upn, std::string_view) { return TapUseKey(upn); },
        }),
    }};

// MethodKind, kKinds and MethodRecord::Payload list the kinds in the same order.
template <size_t... I>
constexpr bool InPayloadOrder(std::index_sequence<I...>) {
  return (
      (kKinds[I].kind == static_cast<MethodKind>(I) &&
       std::variant_alternative_t<I, MethodRecord::Payload>::kKind == static_cast<MethodKind>(I)) &&
      ...);
}
static_assert(kKinds.size() == std::variant_size_v<MethodRecord::Payload>,
              "one MethodKindSpec per payload alternative");
static_assert(InPayloadOrder(std::make_index_sequence<kKinds.size()>{}),
              "kKinds, MethodKind and MethodRecord::Payload must list the kinds in one order");

}  // namespace

bool IsSecondFactor(const MethodRecord& method) {
  switch (method.kind()) {
    case MethodKind::kHardwareOath:
    case MethodKind::kPhone:
      return true;
    case MethodKind::kSoftwareOath:
      return std::get<SoftwareOathPayload>(method.payload).confirmed;
    default:
      return false;
  }
}

const MethodKindSpec& DescribeMethodKind(MethodKind kind) {
  return kKinds[static_cast<size_t>(kind)];
}

const MethodKindSpec* FindMethodKindByCollection(std::string_view collection) {
  for (const MethodKindSpec& spec : kKinds) {
    if (spec.collection == collection) return &spec;
  }
  return nullptr;
}

std::optional<MethodKind> ParseMethodKind(std::string_view name) {
  for (const MethodKindSpec& spec : kKinds) {
    if (spec.name == name) return spec.kind;
  }
  return std::nullopt;
}

}  // namespace otpd::service
