// The HookDispatcher's calls behind the admin API (service/hooks/hooks.h): listing the sinks,
// reading and redelivering a sink's dead letters, and enabling a sink that a receiver disabled.

#include <algorithm>
#include <boost/json.hpp>

#include "service/hooks/hooks.h"
#include "service/internal/hook_worker.h"

namespace otpd::service {
namespace json = boost::json;
using storage::Namespace;

namespace {

// What EncodeDeadLetter (hooks.cc) wrote.
std::optional<DeadLetter> DecodeDeadLetter(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  DeadLetter d;
  try {
    d.seq = o.at("seq").to_number<uint64_t>();
    d.event_id = std::string(o.at("event_id").as_string());
    d.type = std::string(o.at("type").as_string());
    if (const json::value* u = o.if_contains("user")) d.user = std::string(u->as_string());
    d.attempts = o.at("attempts").to_number<uint32_t>();
    d.time = o.at("time").to_number<int64_t>();
    d.last_error = std::string(o.at("last_error").as_string());
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return d;
}

}  // namespace

base::StatusOr<std::vector<SinkStats>> HookDispatcher::ListSinks(const Principal& by) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  return Stats();
}

base::StatusOr<std::vector<DeadLetter>> HookDispatcher::DeadLetters(const Principal& by,
                                                                    std::string_view sink) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  if (Find(sink) == nullptr)
    return base::NotFoundError("no hook " + std::string(sink).substr(0, 64));
  std::vector<DeadLetter> out;
  OTPD_RETURN_IF_ERROR(store_.Scan(Namespace::kMeta, HookDeadLetterPrefix(sink),
                                   [&](std::string_view, const storage::Record& r) {
                                     if (auto d = DecodeDeadLetter(r.value)) out.push_back(*d);
                                     return true;
                                   }));
  return out;
}

base::StatusOr<size_t> HookDispatcher::RedeliverDeadLetters(const Principal& by,
                                                            std::string_view sink) {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kManageHooks));
  Worker* w = Find(sink);
  if (w == nullptr) return base::NotFoundError("no hook " + std::string(sink).substr(0, 64));
  std::vector<uint64_t> seqs;
  OTPD_RETURN_IF_ERROR(store_.Scan(
      Namespace::kMeta, HookDeadLetterPrefix(sink),
      [&](std::string_view key, const storage::Record&) {
        if (auto seq = storage::ParseLogKey(key.substr(HookDeadLetterPrefix(sink).size()))) {
          seqs.push_back(*seq);
        }
        return true;
      }));
  {
    base::MutexLock lock(w->mu);
    for (uint64_t seq : seqs) {
      if (std::find(w->requeued.begin(), w->requeued.end(), seq) == w->requeued.end()) {
        w->requeued.push_back(seq);
      }
    }
    std::sort(w->requeued.begin(), w->requeued.end());
    ++w->wakes;
  }
  w->cv.SignalAll();
  return seqs.size();
}

base::Status HookDispatcher::EnableSink(const Principal& by, std::string_view sink) {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kManageHooks));
  Worker* w = Find(sink);
  if (w == nullptr) return base::NotFoundError("no hook " + std::string(sink).substr(0, 64));
  storage::WriteBatch batch;
  batch.Delete(Namespace::kMeta, HookDisabledKey(sink));
  OTPD_RETURN_IF_ERROR(store_.Commit(std::move(batch), storage::Durability::kDurable));
  {
    base::MutexLock lock(w->mu);
    w->disabled = false;
    ++w->wakes;
  }
  w->cv.SignalAll();
  return base::OkStatus();
}

}  // namespace otpd::service
