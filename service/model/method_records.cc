// The encodings of the records of users' methods and of the token inventory
// (service/model/records.h): methods, tokens and import batches, and the names of the token
// statuses and phone types they hold.

#include <array>
#include <boost/json.hpp>

#include "service/internal/record_json.h"
#include "service/model/records.h"

namespace otpd::service {
namespace json = boost::json;
using internal::ParseObject;
using internal::Reader;

namespace {

// An enum's names, in the enum's order.
constexpr std::array<std::string_view, 4> kTokenStatusNames = {"available", "assigned", "activated",
                                                               "failedActivation"};
constexpr std::array<std::string_view, 3> kPhoneTypeNames = {"mobile", "alternateMobile", "office"};

static_assert(kTokenStatusNames.size() == static_cast<size_t>(TokenStatus::kFailedActivation) + 1);
static_assert(kPhoneTypeNames.size() == static_cast<size_t>(PhoneType::kOffice) + 1);

// The name of `value` (the first name for a value outside the enum).
template <typename Enum, size_t N>
std::string_view NameOf(const std::array<std::string_view, N>& names, Enum value) {
  const auto i = static_cast<size_t>(value);
  return i < N ? names[i] : names[0];
}

template <typename Enum, size_t N>
std::optional<Enum> ValueOf(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view TokenStatusName(TokenStatus status) { return NameOf(kTokenStatusNames, status); }

base::StatusOr<TokenStatus> ParseTokenStatus(std::string_view name) {
  if (auto status = ValueOf<TokenStatus>(kTokenStatusNames, name)) return *status;
  return base::InvalidArgumentError(
      "unknown token status (expected available, assigned, activated or failedActivation)");
}

std::string_view PhoneTypeName(PhoneType type) { return NameOf(kPhoneTypeNames, type); }

std::optional<PhoneType> ParsePhoneType(std::string_view name) {
  return ValueOf<PhoneType>(kPhoneTypeNames, name);
}

std::optional<PreferredPhone> PhoneOfPreference(std::string_view preferred) {
  if (preferred == "sms") return PreferredPhone{PhoneType::kMobile, "sms"};
  if (preferred == "voiceMobile") return PreferredPhone{PhoneType::kMobile, "voice"};
  if (preferred == "voiceAlternateMobile") {
    return PreferredPhone{PhoneType::kAlternateMobile, "voice"};
  }
  if (preferred == "voiceOffice") return PreferredPhone{PhoneType::kOffice, "voice"};
  return std::nullopt;
}

std::string_view PhoneMethodId(PhoneType type) {
  switch (type) {
    case PhoneType::kMobile:
      return kMobilePhoneId;
    case PhoneType::kAlternateMobile:
      return kAlternateMobilePhoneId;
    case PhoneType::kOffice:
      return kOfficePhoneId;
  }
  return kMobilePhoneId;
}

namespace {

using internal::kOmitEmpty;
using internal::kRequired;
using internal::Writer;

void TokenStatusField(Reader& in, TokenStatus& status, const std::string& serial) {
  std::string name;
  if (!in.Str("status", name, kRequired).status().ok()) return;
  auto parsed = ParseTokenStatus(name);
  if (!parsed.ok()) {
    in.Error("record " + serial + " has an unknown status");
    return;
  }
  status = *parsed;
}
void TokenStatusField(Writer& out, const TokenStatus& status, const std::string&) {
  out.Text("status", TokenStatusName(status));
}

// The JSON records' fields, one list each for both directions (service/internal/record_json.h).
struct TokenFields {
  template <typename Io, typename R>
  void operator()(Io& io, R& r) const {
    io.Str("serial", r.serial, kRequired).Str("manufacturer", r.manufacturer).Str("model", r.model);
    io.Str("display_name", r.display_name, kOmitEmpty)
        .Params(r.params)
        .Sealed("seed", r.sealed_seed);
    TokenStatusField(io, r.status, r.serial);
    io.Str("assigned_to", r.assigned_to, kOmitEmpty).Str("method_id", r.method_id, kOmitEmpty);
    io.Str("batch", r.batch, kOmitEmpty).Bool("importing", r.importing, kOmitEmpty);
    io.Int("initial_counter", r.initial_counter).Int("initial_drift", r.initial_drift);
    io.Maybe("not_after", r.not_after).Int("activation_failures", r.activation_failures);
    io.Int("created", r.created).Int("updated", r.updated);
  }
};

struct BatchFields {
  template <typename Io, typename R>
  void operator()(Io& io, R& r) const {
    io.Str("id", r.id, kRequired).Str("file", r.file).Str("sha256", r.sha256);
    io.Str("format", r.format).Int("time", r.time).Int("imported", r.imported);
    io.Int("updated", r.updated).Int("unchanged", r.unchanged).Int("failed", r.failed);
    io.Bool("complete", r.complete).Bool("assigning", r.assigning, kOmitEmpty);
  }
};

}  // namespace

std::string EncodeMethod(const MethodRecord& r) {
  const MethodKindSpec& spec = DescribeMethodKind(r.kind());
  Writer out;
  out.Str("id", r.id).Text("kind", spec.name).Int("created", r.created);
  spec.encode(r, out);
  return out.Finish();
}

base::StatusOr<MethodRecord> DecodeMethod(std::string_view data) {
  OTPD_ASSIGN_OR_RETURN(json::object o, ParseObject(data, "method"));
  Reader in(o, "method");
  MethodRecord r;
  std::string kind_name;
  in.Str("id", r.id, kRequired).Str("kind", kind_name, kRequired).Int("created", r.created);
  OTPD_RETURN_IF_ERROR(in.status());
  std::optional<MethodKind> kind = ParseMethodKind(kind_name);
  if (!kind) return base::DataLossError("method record has an unknown kind");
  DescribeMethodKind(*kind).decode(in, r);
  OTPD_RETURN_IF_ERROR(in.status());
  return r;
}

std::string EncodeToken(const TokenRecord& r) { return internal::EncodeFields(r, TokenFields{}); }

base::StatusOr<TokenRecord> DecodeToken(std::string_view data) {
  return internal::DecodeFields<TokenRecord>(data, "token", TokenFields{});
}

std::string EncodeBatch(const BatchRecord& r) { return internal::EncodeFields(r, BatchFields{}); }

base::StatusOr<BatchRecord> DecodeBatch(std::string_view data) {
  return internal::DecodeFields<BatchRecord>(data, "batch", BatchFields{});
}

}  // namespace otpd::service
