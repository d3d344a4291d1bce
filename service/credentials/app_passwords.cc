#include "service/credentials/app_passwords.h"

#include <algorithm>

#include "base/codec.h"
#include "base/mac.h"
#include "base/seal.h"
#include "service/hooks/outbox.h"
#include "service/internal/staged_change.h"

namespace otpd::service {

using internal::BeginChange;
using internal::CommitChange;
using internal::StagedChange;
using storage::Namespace;

namespace {

// 24 characters of a 32-letter alphabet without look-alikes: 120 bits.
base::StatusOr<base::SecretBytes> NewAppPassword() {
  static constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789A";
  base::SecretBytes out(24);
  uint8_t random[24];
  OTPD_RETURN_IF_ERROR(base::RandomBytes(random));
  for (size_t i = 0; i < sizeof(random); ++i) {
    out.data()[i] = static_cast<uint8_t>(kAlphabet[random[i] % 32]);  // 256 % 32 == 0: unbiased
  }
  base::Wipe(random, sizeof(random));
  return out;
}

}  // namespace

std::string AppPasswords::Digest(std::string_view password) {
  base::Sha256Digest d = base::Sha256(password);
  return base::HexEncode(d);
}

base::StatusOr<std::vector<AppPasswordRecord>> ReadAppPasswords(const Directory& directory,
                                                                std::string_view upn) {
  std::vector<AppPasswordRecord> out;
  OTPD_RETURN_IF_ERROR(directory.store().Scan(
      Namespace::kAppPasswords, MethodPrefix(upn),
      [&](std::string_view key, const storage::Record& stored) -> base::StatusOr<bool> {
        auto payload = directory.keys().OpenRecord(Namespace::kAppPasswords, key, stored.value);
        if (!payload.ok()) return true;  // fails its check: never used
        auto record = DecodeAppPassword(*payload);
        if (record.ok() && AppPasswordKey(upn, record->id) == key) out.push_back(*record);
        return true;
      }));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.created < b.created; });
  return out;
}

base::StatusOr<CreatedAppPassword> AppPasswords::Create(const Principal& by, std::string_view upn,
                                                        std::string_view display_name) {
  if (display_name.empty() || display_name.size() > 128) {
    return base::InvalidArgumentError("displayName must have 1 to 128 bytes");
  }
  OTPD_ASSIGN_OR_RETURN(StagedChange c,
                        BeginChange(directory_, clock_, by, Permission::kManageUserMethods, upn,
                                    "app_password.create"));
  OTPD_ASSIGN_OR_RETURN(auto existing, ReadAppPasswords(directory_, c.upn()));
  if (existing.size() >= kMaxAppPasswordsPerUser) {
    return RecordRefusal(directory_.store(), c.audit,
                         base::ResourceExhaustedError("user " + c.upn() + " already has " +
                                                      std::to_string(existing.size()) +
                                                      " app passwords (the limit is 40)"));
  }
  CreatedAppPassword created;
  OTPD_ASSIGN_OR_RETURN(created.password, NewAppPassword());
  created.record = AppPasswordRecord{.id = NewId(),
                                     .display_name = std::string(display_name),
                                     .sha256 = Digest(created.password.view()),
                                     .created = c.now};
  OTPD_RETURN_IF_ERROR(directory_.PutSigned(c.batch, Namespace::kAppPasswords,
                                            AppPasswordKey(c.upn(), created.record.id),
                                            EncodeAppPassword(created.record)));
  c.audit.detail = "app password " + created.record.id;
  OTPD_RETURN_IF_ERROR(AddEvent(c.batch, clock_, events::kAppPasswordCreated, c.upn(),
                                EventData()
                                    .Str("id", created.record.id)
                                    .Str("display_name", created.record.display_name)
                                    .Str("by", by.actor)));
  OTPD_RETURN_IF_ERROR(CommitChange(directory_, c, invalidator_));
  return created;
}

base::StatusOr<std::vector<AppPasswordRecord>> AppPasswords::List(const Principal& by,
                                                                  std::string_view upn_in) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  OTPD_ASSIGN_OR_RETURN(const std::string upn, CheckUpn(upn_in));
  OTPD_ASSIGN_OR_RETURN(auto user, directory_.GetUser(upn));
  if (!user) return base::NotFoundError("no user " + upn);
  OTPD_ASSIGN_OR_RETURN(auto list, ReadAppPasswords(directory_, upn));
  for (auto& r : list) r.sha256.clear();
  return list;
}

base::StatusOr<size_t> AppPasswords::DeleteMatching(const Principal& by, std::string_view upn,
                                                    std::string_view only_id) {
  OTPD_ASSIGN_OR_RETURN(StagedChange c,
                        BeginChange(directory_, clock_, by, Permission::kManageUserMethods, upn,
                                    "app_password.delete"));
  OTPD_ASSIGN_OR_RETURN(auto existing, ReadAppPasswords(directory_, c.upn()));
  std::vector<std::string> ids;
  for (const auto& r : existing) {
    if (!only_id.empty() && r.id != only_id) continue;
    c.batch.Delete(Namespace::kAppPasswords, AppPasswordKey(c.upn(), r.id));
    ids.push_back(r.id);
  }
  if (ids.empty()) {
    if (!only_id.empty()) {
      return base::NotFoundError("user " + c.upn() + " has no app password " +
                                 std::string(only_id).substr(0, 64));
    }
    return size_t{0};
  }
  c.audit.detail = std::to_string(ids.size()) + " app passwords";
  OTPD_RETURN_IF_ERROR(AddEvent(c.batch, clock_, events::kAppPasswordsDeleted, c.upn(),
                                EventData().Strings("ids", ids).Str("by", by.actor)));
  OTPD_RETURN_IF_ERROR(CommitChange(directory_, c, invalidator_));
  return ids.size();
}

base::Status AppPasswords::Delete(const Principal& by, std::string_view upn, std::string_view id) {
  if (id.empty()) return base::InvalidArgumentError("an app password id is required");
  return DeleteMatching(by, upn, id).status();
}

base::StatusOr<size_t> AppPasswords::DeleteAll(const Principal& by, std::string_view upn) {
  return DeleteMatching(by, upn, "");
}

base::StatusOr<std::vector<AppPasswordDeletion>> AppPasswords::DeleteForUsers(
    const Principal& by, const std::vector<std::string>& upns) {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kManageUserMethods));
  std::vector<AppPasswordDeletion> out;
  out.reserve(upns.size());
  for (const std::string& upn : upns) {
    auto deleted = DeleteAll(by, upn);
    out.push_back(AppPasswordDeletion{
        .user = upn, .status = deleted.status(), .deleted = deleted.ok() ? *deleted : 0});
  }
  return out;
}

}  // namespace otpd::service
