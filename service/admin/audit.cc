#include "service/admin/audit.h"

#include <algorithm>

namespace otpd::service {

using storage::Namespace;

namespace {

// Records written before every action was named <subject>.<verb> are read under today's names,
// so one filter finds old and new records alike.
std::string CurrentActionName(std::string_view action, std::string_view target) {
  if (action.find('.') == std::string_view::npos) {
    if (action == "unlock") return "user.unlock";
    if (action == "backup") return "backup.create";
    if (action == "import") return "batch.import";
    if (target.starts_with("token/")) return "token." + std::string(action);
    return std::string(action);
  }
  const std::string_view subject = action.substr(0, action.find('.'));
  const std::string_view verb = action.substr(subject.size());
  if (subject == "softwareOath") return "software_oath" + std::string(verb);
  if (subject == "apikey") return "api_key" + std::string(verb);
  return std::string(action);
}

// An action filter without a verb ("token") matches every action on that subject.
bool ActionMatches(std::string_view filter, std::string_view action) {
  if (filter.empty() || filter == action) return true;
  return filter.find('.') == std::string_view::npos && action.size() > filter.size() &&
         action.starts_with(filter) && action[filter.size()] == '.';
}

}  // namespace

AuditRecord MakeAudit(const base::Clock& clock, const Principal& principal, std::string_view action,
                      std::string_view target) {
  AuditRecord a;
  a.time_micros = clock.NowUnixMicros();
  a.actor = principal.actor;
  a.action = std::string(action);
  a.target = std::string(target);
  a.result = "ok";
  a.request_id = principal.request_id;
  return a;
}

void AddAudit(storage::WriteBatch& batch, const AuditRecord& audit) {
  batch.Insert(Namespace::kAudit, AuditKey(audit.time_micros), EncodeAudit(audit));
}

base::Status RecordRefusal(storage::Store& store, AuditRecord audit, base::Status why) {
  audit.result = std::string(why.message());
  storage::WriteBatch batch;
  AddAudit(batch, audit);
  // The refusal stands whether or not its audit record could be written.
  (void)store.Commit(std::move(batch), storage::Durability::kRelaxed);
  return why;
}

RefusalAudit::RefusalAudit(storage::Store& store, const base::Clock& clock, int64_t period_seconds,
                           size_t max_keys)
    : store_(store),
      clock_(clock),
      period_micros_(std::max<int64_t>(1, period_seconds) * 1'000'000),
      max_keys_(std::max<size_t>(1, max_keys)) {}

base::Status RefusalAudit::Record(AuditRecord audit, base::Status why) {
  audit.result = std::string(why.message());
  std::vector<AuditRecord> write;
  {
    base::MutexLock lock(mu_);
    write = TakeOverLocked(audit.time_micros, /*all=*/false);
    std::string key = audit.actor + '\0' + audit.action + '\0' + audit.target;
    if (!periods_.contains(key) && periods_.size() >= max_keys_) {
      // Too many keys at once: the rest share one per action, so memory stays bounded too.
      audit.actor = "*";
      audit.target = "*";
      key = "*" + std::string(1, '\0') + audit.action + '\0' + "*";
    }
    auto [it, first] = periods_.try_emplace(key);
    if (first) {
      it->second.start_micros = audit.time_micros;
      started_.emplace_back(audit.time_micros, key);
      write.push_back(audit);
    } else {
      ++it->second.more;
      it->second.last = std::move(audit);
    }
  }
  Write(write);
  return why;
}

void RefusalAudit::Flush() {
  std::vector<AuditRecord> write;
  {
    base::MutexLock lock(mu_);
    write = TakeOverLocked(clock_.NowUnixMicros(), /*all=*/true);
  }
  Write(write);
}

std::vector<AuditRecord> RefusalAudit::TakeOverLocked(int64_t now_micros, bool all) {
  std::vector<AuditRecord> out;
  while (!started_.empty() && (all || started_.front().first + period_micros_ <= now_micros)) {
    auto it = periods_.find(started_.front().second);
    started_.pop_front();
    if (it == periods_.end()) continue;
    Period& p = it->second;
    if (p.more > 0) {
      AuditRecord count = std::move(p.last);
      count.time_micros = std::max(count.time_micros, p.start_micros + 1);
      count.detail = std::to_string(p.more) + " more refusals like the first of the " +
                     std::to_string(period_micros_ / 1'000'000) +
                     " s period, counted (the last one's reason is the result)";
      out.push_back(std::move(count));
    }
    periods_.erase(it);
  }
  return out;
}

void RefusalAudit::Write(const std::vector<AuditRecord>& records) {
  if (records.empty()) return;
  // Thousands may come due at once (Flush): in as many batches as the store needs.
  std::vector<storage::WriteBatch> each(records.size());
  for (size_t i = 0; i < records.size(); ++i) AddAudit(each[i], records[i]);
  // The refusals stand whether or not their records could be written.
  (void)storage::CommitEach(store_, std::move(each), storage::Durability::kRelaxed);
}

base::Status ListAudit(const storage::Store& store, const AuditFilter& filter,
                       std::string_view after,
                       const std::function<bool(std::string_view, const AuditRecord&)>& fn) {
  std::string start(after);
  if (!start.empty()) start.push_back('\0');  // the first key after it
  return store.ScanFrom(
      Namespace::kAudit, "", start,
      [&](std::string_view key, const storage::Record& record) -> base::StatusOr<bool> {
        OTPD_ASSIGN_OR_RETURN(AuditRecord a, DecodeAudit(record.value));
        if (a.time_micros < filter.since_micros) return true;
        if (!filter.target.empty() && a.target != filter.target) return true;
        if (!filter.actor.empty() && a.actor != filter.actor) return true;
        a.action = CurrentActionName(a.action, a.target);
        if (!ActionMatches(filter.action, a.action)) return true;
        return fn(key, a);
      });
}

base::Status ListAudit(const Principal& by, const storage::Store& store, const AuditFilter& filter,
                       std::string_view after,
                       const std::function<bool(std::string_view key, const AuditRecord&)>& fn) {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  return ListAudit(store, filter, after, fn);
}

}  // namespace otpd::service
