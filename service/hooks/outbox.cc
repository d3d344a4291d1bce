#include "service/hooks/outbox.h"

#include <boost/json.hpp>

#include <algorithm>
#include <ctime>
#include <vector>

#include "base/codec.h"
#include "base/mutex.h"
#include "service/model/records.h"

namespace otpd::service {
namespace json = boost::json;
using storage::Namespace;

namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The sealed blob of an event's secret is bound to the event's id and the secret's name.
std::string SealedKey(std::string_view event_id, std::string_view name) {
  return std::string(event_id) + "/" + std::string(name);
}

std::string Rfc3339(int64_t micros) {
  const time_t seconds = static_cast<time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[128];  // room for any int, as GCC checks the format
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((micros % 1'000'000) / 1000));
  return buf;
}

base::StatusOr<OutboxEvent> DecodeEvent(uint64_t seq, std::string_view stored) {
  boost::system::error_code ec;
  json::value v = json::parse(stored, ec);
  if (ec || !v.is_object()) return base::DataLossError("outbox event is not a JSON object");
  const json::object& o = v.get_object();
  OutboxEvent e;
  e.seq = seq;
  try {
    e.id = std::string(o.at("id").as_string());
    e.type = std::string(o.at("type").as_string());
    e.time_micros = o.at("time").to_number<int64_t>();
    if (const json::value* u = o.if_contains("user")) e.user = std::string(u->as_string());
    e.data_json = json::serialize(o.at("data").as_object());
    if (const json::value* sealed = o.if_contains("sealed")) {
      for (const auto& [name, blob] : sealed->as_object()) {
        auto bytes = base::Base64Decode(blob.as_string());
        if (!bytes.ok()) return base::DataLossError("outbox event has a malformed sealed field");
        e.sealed.emplace_back(std::string(name), std::string(bytes->view()));
      }
    }
  } catch (const std::exception&) {
    return base::DataLossError("outbox event " + std::to_string(seq) + " is malformed");
  }
  return e;
}

struct Signal {
  base::Mutex mu;
  base::CondVar cv;
  uint64_t generation OTPD_GUARDED_BY(mu) = 0;
};

Signal& OutboxSignal() {
  static Signal* const signal = new Signal();
  return *signal;
}

}  // namespace

EventData::EventData(const EventData& other) : fields_(other.fields_) {
  for (const auto& [key, secret] : other.secrets_) secrets_.emplace_back(key, secret.Clone());
}

EventData& EventData::operator=(const EventData& other) {
  if (this != &other) {
    fields_ = other.fields_;
    secrets_.clear();
    for (const auto& [key, secret] : other.secrets_) secrets_.emplace_back(key, secret.Clone());
  }
  return *this;
}

EventData& EventData::Str(std::string_view key, std::string_view value) {
  fields_.emplace_back(std::string(key), json::serialize(json::value(json::string(value))));
  return *this;
}

EventData& EventData::Int(std::string_view key, int64_t value) {
  fields_.emplace_back(std::string(key), std::to_string(value));
  return *this;
}

EventData& EventData::Bool(std::string_view key, bool value) {
  fields_.emplace_back(std::string(key), value ? "true" : "false");
  return *this;
}

EventData& EventData::Strings(std::string_view key, const std::vector<std::string>& values) {
  json::array a;
  for (const std::string& v : values) a.emplace_back(v);
  fields_.emplace_back(std::string(key), json::serialize(a));
  return *this;
}

EventData& EventData::Objects(std::string_view key, const std::vector<EventData>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i ? "," : "") + values[i].Json();
  fields_.emplace_back(std::string(key), text + "]");
  return *this;
}

EventData& EventData::Secret(std::string_view key, std::string_view value) {
  secrets_.emplace_back(std::string(key), base::SecretBytes::FromString(value));
  return *this;
}

std::string EventData::Json() const {
  std::string out = "{";
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += json::serialize(json::value(json::string(fields_[i].first)));
    out.push_back(':');
    out += fields_[i].second;
  }
  return out + "}";
}

base::Status AddEvent(storage::WriteBatch& batch, const base::Clock& clock, std::string_view type,
                      std::string_view user, const EventData& data, const storage::KeyRing* keys) {
  return AddEventAt(batch, clock.NowUnixMicros(), type, user, data, keys);
}

base::Status AddEventAt(storage::WriteBatch& batch, int64_t time_micros, std::string_view type,
                        std::string_view user, const EventData& data,
                        const storage::KeyRing* keys) {
  const std::string id = "evt_" + NewId();
  std::string text = "{\"id\":\"" + id +
                     "\",\"type\":" + json::serialize(json::value(json::string(type))) +
                     ",\"time\":" + std::to_string(time_micros);
  if (!user.empty()) text += ",\"user\":" + json::serialize(json::value(json::string(user)));
  text += ",\"data\":" + data.Json();
  if (!data.secrets().empty()) {
    if (keys == nullptr) return base::InternalError("an event with secrets needs the key ring");
    json::object sealed;
    for (const auto& [name, secret] : data.secrets()) {
      OTPD_ASSIGN_OR_RETURN(std::string blob, keys->SealSecret(Namespace::kOutbox,
                                                               SealedKey(id, name), secret.span()));
      sealed[name] = base::Base64Encode(Bytes(blob));
    }
    text += ",\"sealed\":" + json::serialize(sealed);
  }
  text += "}";
  batch.AppendToLog(Namespace::kOutbox, text);
  return base::OkStatus();
}

base::Status ReadEvents(const storage::Store& store, uint64_t after, size_t max,
                        const std::function<bool(OutboxEvent)>& fn) {
  if (max == 0) return base::OkStatus();
  size_t given = 0;
  return store.ScanFrom(
      Namespace::kOutbox, "", storage::LogKey(after + 1),
      [&](std::string_view key, const storage::Record& record) -> base::StatusOr<bool> {
        std::optional<uint64_t> seq = storage::ParseLogKey(key);
        if (!seq) return false;  // the counter: past the last event
        OTPD_ASSIGN_OR_RETURN(OutboxEvent e, DecodeEvent(*seq, record.value));
        if (!fn(std::move(e))) return false;
        return ++given < max;
      });
}

base::StatusOr<uint64_t> LastEventSequence(const storage::Store& store) {
  OTPD_ASSIGN_OR_RETURN(std::optional<storage::Record> counter,
                        store.Get(Namespace::kOutbox, storage::kLogCounterKey));
  if (!counter) return uint64_t{0};
  std::optional<uint64_t> last = storage::ParseLogCounter(counter->value);
  if (!last) return base::DataLossError("the outbox counter is malformed");
  return *last;
}

base::StatusOr<std::string> EventJson(const OutboxEvent& event, const storage::KeyRing* keys) {
  boost::system::error_code ec;
  json::value data = json::parse(event.data_json, ec);
  if (ec || !data.is_object()) return base::DataLossError("outbox event data is malformed");
  if (keys != nullptr) {
    for (const auto& [name, blob] : event.sealed) {
      OTPD_ASSIGN_OR_RETURN(base::SecretBytes secret,
                            keys->OpenSecret(Namespace::kOutbox, SealedKey(event.id, name), blob));
      data.get_object()[name] = json::string(secret.view());
    }
  }
  json::object o;
  o["id"] = event.id;
  o["seq"] = event.seq;
  o["type"] = event.type;
  o["time"] = Rfc3339(event.time_micros);
  if (!event.user.empty()) o["user"] = event.user;
  o["data"] = std::move(data);
  std::string text = json::serialize(o);
  // The opened secrets are in `o` and `data`'s buffers as well; the caller wipes `text`.
  if (keys != nullptr && !event.sealed.empty()) {
    for (auto& [name, value] : o["data"].get_object()) {
      if (value.is_string()) base::Wipe(value.get_string().data(), value.get_string().size());
    }
  }
  return text;
}

FeedEvent ToFeedEvent(const OutboxEvent& event) {
  return FeedEvent{.seq = event.seq,
                   .id = event.id,
                   .type = event.type,
                   .user = event.user,
                   .time_micros = event.time_micros,
                   .data_json = event.data_json};
}

base::StatusOr<size_t> PruneEvents(storage::Store& store, uint64_t through,
                                   int64_t older_than_micros, size_t max) {
  std::vector<uint64_t> doomed;
  OTPD_RETURN_IF_ERROR(ReadEvents(store, 0, max, [&](OutboxEvent e) {
    if (e.seq > through || e.time_micros >= older_than_micros) return false;
    doomed.push_back(e.seq);
    return true;
  }));
  // In batches as large as the store takes (on etcd, its transaction limits).
  std::vector<storage::WriteBatch> deletions(doomed.size());
  for (size_t i = 0; i < doomed.size(); ++i) {
    deletions[i].Delete(Namespace::kOutbox, storage::LogKey(doomed[i]));
  }
  size_t pruned = 0;
  OTPD_RETURN_IF_ERROR(
      storage::CommitEach(store, std::move(deletions), storage::Durability::kRelaxed, &pruned));
  return pruned;
}

void NotifyOutbox() {
  Signal& s = OutboxSignal();
  {
    base::MutexLock lock(s.mu);
    ++s.generation;
  }
  s.cv.SignalAll();
}

uint64_t OutboxGeneration() {
  Signal& s = OutboxSignal();
  base::MutexLock lock(s.mu);
  return s.generation;
}

void WaitForOutbox(uint64_t seen, std::chrono::milliseconds timeout) {
  Signal& s = OutboxSignal();
  const auto until = std::chrono::steady_clock::now() + timeout;
  base::MutexLock lock(s.mu);
  while (s.generation == seen) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0)) return;
    s.cv.WaitFor(lock, left);
  }
}

}  // namespace otpd::service
