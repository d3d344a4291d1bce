// The audit log: every administrative change, allowed or refused, is recorded with who did it,
// what, to what, the result and when, in the same atomic batch as the change itself (a refusal
// alone, relaxed). Audit records never hold a secret. They are write-once records under
// time-ordered keys (audit/<micros><random>), so the log reads in time order.
//
// Refusals a client can repeat at will (a wrong code at CONFIRM) go through RefusalAudit, which
// records them in bounded form: counts per actor, action, target and period.
//
// Thread-safety: plain functions; RefusalAudit is thread-safe.

#ifndef OTPD_SERVICE_ADMIN_AUDIT_H_
#define OTPD_SERVICE_ADMIN_AUDIT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/statusor.h"
#include "service/admin/roles.h"
#include "service/model/records.h"
#include "storage/store.h"

namespace otpd::service {

// A record of `action` on `target` by `principal`, now, result "ok".
AuditRecord MakeAudit(const base::Clock& clock, const Principal& principal, std::string_view action,
                      std::string_view target);

// Adds `audit` to `batch` (a write-once insert).
void AddAudit(storage::WriteBatch& batch, const AuditRecord& audit);

// Records a refusal (audit.result = why's message) on its own, relaxed; returns `why`.
base::Status RecordRefusal(storage::Store& store, AuditRecord audit, base::Status why);

// Records refusals that a client can repeat as often as it likes, so that no client can grow the
// audit log without limit. Per actor, action and target, the first refusal of a period is
// recorded as it happens (relaxed, as RecordRefusal does) and the others of that period are only
// counted; once the period is over the count is recorded as one more record, with the last
// refusal's reason as its result and "N more refusals ..." as its detail. That record is written
// with the next refusal recorded here, whoever it is for, or by Flush (the owner calls it when
// it stops). So each key writes at most two records per period. At most `max_keys` keys are
// followed at once; beyond that, refusals are counted under one key per action, with actor and
// target "*".
class RefusalAudit {
 public:
  static constexpr int64_t kDefaultPeriodSeconds = 60;
  static constexpr size_t kDefaultMaxKeys = 10'000;

  // `store` and `clock` must outlive this.
  RefusalAudit(storage::Store& store, const base::Clock& clock,
               int64_t period_seconds = kDefaultPeriodSeconds, size_t max_keys = kDefaultMaxKeys);

  // Records or counts the refusal `audit` (its result becomes why's message); returns `why`.
  base::Status Record(AuditRecord audit, base::Status why);

  // Writes the counts of every period, over or not, and forgets them. The store must be open.
  void Flush();

 private:
  struct Period {
    int64_t start_micros = 0;
    uint64_t more = 0;  // refusals counted after the first
    AuditRecord last;   // the latest of them
  };
  // Takes the count records of the periods over at `now_micros` (all of them when `all`).
  std::vector<AuditRecord> TakeOverLocked(int64_t now_micros, bool all) OTPD_REQUIRES(mu_);
  void Write(const std::vector<AuditRecord>& records);

  storage::Store& store_;
  const base::Clock& clock_;
  const int64_t period_micros_;
  const size_t max_keys_;
  base::Mutex mu_;
  std::map<std::string, Period> periods_ OTPD_GUARDED_BY(mu_);
  // The keys of periods_ in the order their periods began.
  std::deque<std::pair<int64_t, std::string>> started_ OTPD_GUARDED_BY(mu_);
};

struct AuditFilter {
  std::string target;  // exact; empty = any
  std::string actor;   // exact; empty = any
  // An action (`token.activate`), or a subject alone (`token`: every action on tokens); empty =
  // any. Actions are named <subject>.<verb> in lower snake_case.
  std::string action;
  int64_t since_micros = 0;
};

// Calls fn for each record matching `filter`, oldest first, starting after the record whose
// key is `after` (empty: from the start), until fn returns false. fn gets the record's key (for
// paging) and the record.
base::Status ListAudit(const storage::Store& store, const AuditFilter& filter,
                       std::string_view after,
                       const std::function<bool(std::string_view key, const AuditRecord&)>& fn);
// The same for `by`, who needs Permission::kRead (PermissionDenied otherwise, listing nothing).
base::Status ListAudit(const Principal& by, const storage::Store& store, const AuditFilter& filter,
                       std::string_view after,
                       const std::function<bool(std::string_view key, const AuditRecord&)>& fn);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_ADMIN_AUDIT_H_
