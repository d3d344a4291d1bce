// The kinds of authentication method a user can have. OATH credentials (hardware tokens and
// authenticator apps) sign in with a code over the verify socket (VERIFY); phones receive
// one-time codes (CHALLENGE, then VERIFY); the password and a temporary access pass have verbs of
// their own (PASSWORD, TAP); email serves password reset only and is never a factor.
//
// Everything that differs between kinds is in one MethodKindSpec per kind
// (service/model/method_kinds.cc); code elsewhere looks a kind's facts up rather than switching
// on it.
//
// Thread-safety: constants and pure functions.

#ifndef OTPD_SERVICE_MODEL_METHOD_KIND_H_
#define OTPD_SERVICE_MODEL_METHOD_KIND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace otpd::service {

struct MethodRecord;
namespace internal {
class Reader;
class Writer;
}  // namespace internal

// The order is MethodRecord's payload alternatives' (service/model/records.h) and the specs'
// (method_kinds.cc); the build checks both.
enum class MethodKind : uint8_t {
  kHardwareOath,
  kSoftwareOath,
  kPhone,
  kEmail,
  kPassword,
  kTemporaryAccessPass,
};

// What "require re-registering MFA" (UserActions::RequireReregistration) does to a method.
enum class Reregistration : uint8_t {
  kKeep,             // it stays
  kDelete,           // it is deleted, with its sign-in state record
  kDeactivateToken,  // its activated token goes back to assigned, to be activated again
};

// One kind's facts.
struct MethodKindSpec {
  MethodKind kind;
  // In records, events and the verify socket's replies: "hardware_oath", "software_oath",
  // "phone", "email", "password", "temporary_access_pass".
  std::string_view name;
  // Microsoft Graph's @odata.type, and the collection under /users/{id}/authentication/ that
  // lists and deletes methods of the kind ("" when the admin API deletes none through one).
  std::string_view odata_type;
  std::string_view collection;
  // Signs in with a code and counts toward the per-user OATH method limit.
  bool oath = false;
  Reregistration reregistration = Reregistration::kKeep;
  // The sign-in state record (Namespace::kState) that belongs to a method of the kind and goes
  // with it; nullptr when there is none.
  std::string (*state_key)(std::string_view upn, std::string_view method_id) = nullptr;
  // Why an administrator may not delete `method` while the user has `others`, with what to do
  // instead ("" when they may); nullptr when they always may.
  std::string (*undeletable)(const MethodRecord& method,
                             const std::vector<MethodRecord>& others) = nullptr;
  // What a list of deleted methods shows for one (an app's name, a phone's type); nullptr: "".
  std::string (*label)(const MethodRecord& method) = nullptr;
  // The member under which the kind's events (method.added, ...) carry the label; "": none.
  std::string_view event_label;

  // Adding and changing a method of the kind with MethodAdmin::Add and Update; nullptr where the
  // kind has a door of its own (hardware tokens: the inventory; apps: enrolment; the password and
  // passes: their services). `check` validates and normalises the payload on its own (a phone
  // number's form, an address's case) and runs before anything is read; `place` gives a new
  // method its id (Graph's fixed one for phones and email, or a new one) and checks it against
  // the user's `others` (AlreadyExists naming the user `upn` for a second one); `amend` checks
  // `after` against the method as it was.
  base::Status (*check)(MethodRecord& method) = nullptr;
  base::Status (*place)(MethodRecord& method, const std::vector<MethodRecord>& others,
                        std::string_view upn) = nullptr;
  base::Status (*amend)(const MethodRecord& before, const MethodRecord& after) = nullptr;
  // The payload's members of the stored JSON record (service/model/method_records.cc writes the
  // id, kind and created). `decode` sets the record's payload to this kind's.
  void (*encode)(const MethodRecord& method, internal::Writer& out) = nullptr;
  void (*decode)(internal::Reader& in, MethodRecord& method) = nullptr;
};

// The spec of `kind`.
const MethodKindSpec& DescribeMethodKind(MethodKind kind);
// The spec whose `collection` is `collection`, or nullptr.
const MethodKindSpec* FindMethodKindByCollection(std::string_view collection);

inline std::string_view MethodKindName(MethodKind kind) { return DescribeMethodKind(kind).name; }
// The kind named by MethodKindName, or nullopt.
std::optional<MethodKind> ParseMethodKind(std::string_view name);

// True for the kinds that count toward the per-user OATH method limit and sign in with a code.
inline bool IsOathKind(MethodKind kind) { return DescribeMethodKind(kind).oath; }

// Whether `method` is a second factor the user can sign in with: a hardware token assigned to
// them (activated or waiting to be), a confirmed authenticator app, a phone.
bool IsSecondFactor(const MethodRecord& method);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_MODEL_METHOD_KIND_H_
