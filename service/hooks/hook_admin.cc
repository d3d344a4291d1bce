// The hook state behind the admin API (service/hooks/hooks.h HookAdmin): listing the sinks,
// reading and redelivering a sink's dead letters, and enabling a sink that a receiver disabled,
// with the daemon's dispatcher running or without it. The meta keys of a sink's state are read
// here and in hooks.cc only.

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <optional>
#include <utility>

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

base::Status NoSuchHook(std::string_view sink) {
  return base::NotFoundError("no hook " + std::string(sink).substr(0, 64));
}

// HookCursorKey's text before and after the sink's name.
std::pair<std::string, std::string> CursorKeyParts() {
  const std::string empty = HookCursorKey("");
  const size_t split = empty.find("//") + 1;
  return {empty.substr(0, split), empty.substr(split)};
}

// The sink named by a cursor key, or nullopt for every other key of the sinks' state.
std::optional<std::string> SinkOfCursorKey(std::string_view key) {
  const auto [prefix, suffix] = CursorKeyParts();
  if (key.size() <= prefix.size() + suffix.size() || !key.starts_with(prefix) ||
      !key.ends_with(suffix)) {
    return std::nullopt;
  }
  return std::string(key.substr(prefix.size(), key.size() - prefix.size() - suffix.size()));
}

// A sink no daemon runs, as the store holds it; `newest` is the outbox's last sequence number.
base::StatusOr<SinkStats> StoredSink(const storage::Store& store, std::string name, uint64_t cursor,
                                     uint64_t newest) {
  SinkStats s;
  s.cursor = cursor;
  s.backlog = newest > cursor ? newest - cursor : 0;
  OTPD_RETURN_IF_ERROR(store.Scan(Namespace::kMeta, HookDeadLetterPrefix(name),
                                  [&](std::string_view, const storage::Record&) {
                                    ++s.dead_letters;
                                    return true;
                                  }));
  OTPD_ASSIGN_OR_RETURN(auto disabled, store.Get(Namespace::kMeta, HookDisabledKey(name)));
  s.disabled = disabled.has_value();
  s.name = std::move(name);
  return s;
}

}  // namespace

base::StatusOr<std::vector<SinkStats>> HookAdmin::ListSinks(const Principal& by) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  if (running_ != nullptr) return running_->Stats();
  return StoredSinks();
}

base::StatusOr<std::vector<SinkStats>> HookAdmin::StoredSinks() const {
  OTPD_ASSIGN_OR_RETURN(const uint64_t newest, LastEventSequence(store_));
  std::vector<std::pair<std::string, uint64_t>> cursors;
  OTPD_RETURN_IF_ERROR(store_.Scan(
      Namespace::kMeta, CursorKeyParts().first,
      [&](std::string_view key, const storage::Record& r) {
        if (auto name = SinkOfCursorKey(key)) {
          cursors.emplace_back(std::move(*name), std::strtoull(r.value.c_str(), nullptr, 10));
        }
        return true;
      }));
  std::vector<SinkStats> out;
  for (auto& [name, cursor] : cursors) {
    OTPD_ASSIGN_OR_RETURN(SinkStats s, StoredSink(store_, std::move(name), cursor, newest));
    out.push_back(std::move(s));
  }
  return out;
}

base::Status HookAdmin::Known(std::string_view sink) const {
  if (running_ != nullptr) {
    return running_->Find(sink) != nullptr ? base::OkStatus() : NoSuchHook(sink);
  }
  OTPD_ASSIGN_OR_RETURN(auto cursor, store_.Get(Namespace::kMeta, HookCursorKey(sink)));
  return cursor.has_value() ? base::OkStatus() : NoSuchHook(sink);
}

base::StatusOr<std::vector<DeadLetter>> HookAdmin::DeadLetters(const Principal& by,
                                                               std::string_view sink) const {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kRead));
  OTPD_RETURN_IF_ERROR(Known(sink));
  std::vector<DeadLetter> out;
  OTPD_RETURN_IF_ERROR(store_.Scan(Namespace::kMeta, HookDeadLetterPrefix(sink),
                                   [&](std::string_view, const storage::Record& r) {
                                     if (auto d = DecodeDeadLetter(r.value)) out.push_back(*d);
                                     return true;
                                   }));
  return out;
}

base::StatusOr<size_t> HookAdmin::RedeliverDeadLetters(const Principal& by, std::string_view sink) {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kManageHooks));
  if (running_ == nullptr) {
    return base::FailedPreconditionError(
        "redelivering needs the running daemon (it delivers); start otpd and run this again");
  }
  HookDispatcher::Worker* w = running_->Find(sink);
  if (w == nullptr) return NoSuchHook(sink);
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

base::Status HookAdmin::EnableSink(const Principal& by, std::string_view sink) {
  OTPD_RETURN_IF_ERROR(Authorize(by, Permission::kManageHooks));
  OTPD_RETURN_IF_ERROR(Known(sink));
  storage::WriteBatch batch;
  batch.Delete(Namespace::kMeta, HookDisabledKey(sink));
  OTPD_RETURN_IF_ERROR(store_.Commit(std::move(batch), storage::Durability::kDurable));
  if (running_ == nullptr) return base::OkStatus();
  HookDispatcher::Worker* w = running_->Find(sink);
  {
    base::MutexLock lock(w->mu);
    w->disabled = false;
    ++w->wakes;
  }
  w->cv.SignalAll();
  return base::OkStatus();
}

}  // namespace otpd::service
