// The outbox: every lifecycle event (a user who must register again, a token activated, a method
// deleted, a lockout, a code to send by SMS...) is written in the same atomic batch as the change
// it describes, so an event exists exactly when its change committed. Events are appended to the
// outbox namespace's log (storage::WriteBatch::AppendToLog): the committer numbers them in
// commit order, gap-free, so a reader that walks the log with a cursor never skips one that
// committed late (docs/hooks.md). Delivery (service/hooks/hooks.h) reads them from there.
//
// A stored event is JSON: {"id":"evt_...","type":...,"time":<micros>,"user":...,"data":{...}}
// plus "sealed":{name: base64} for secrets (the code of an sms.send): sealed with the key ring,
// bound to the event's id, and opened only for sinks that deliver them.
//
// Thread-safety: plain functions; NotifyOutbox/WaitForOutbox are safe from any thread.

#ifndef OTPD_SERVICE_HOOKS_OUTBOX_H_
#define OTPD_SERVICE_HOOKS_OUTBOX_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "service/signin/sign_in.h"
#include "storage/keyring.h"
#include "storage/store.h"

namespace otpd::service {

// Event types (docs/hooks.md describes each payload).
namespace events {
inline constexpr std::string_view kUserReregistrationRequired = "user.reregistration_required";
inline constexpr std::string_view kUserLocked = "user.locked";
inline constexpr std::string_view kUserUnlocked = "user.unlocked";
inline constexpr std::string_view kTokenActivated = "token.activated";
inline constexpr std::string_view kTokenDeactivated = "token.deactivated";
inline constexpr std::string_view kMethodAdded = "method.added";
inline constexpr std::string_view kMethodUpdated = "method.updated";
inline constexpr std::string_view kMethodConfirmed = "method.confirmed";
inline constexpr std::string_view kMethodDeleted = "method.deleted";
inline constexpr std::string_view kSessionsRevoked = "sessions.revoked";
inline constexpr std::string_view kAppPasswordCreated = "app_password.created";
inline constexpr std::string_view kAppPasswordsDeleted = "app_passwords.deleted";
inline constexpr std::string_view kPasswordReset = "password.reset";
inline constexpr std::string_view kPasswordChanged = "password.changed";
inline constexpr std::string_view kTapCreated = "tap.created";
inline constexpr std::string_view kTapDeleted = "tap.deleted";
inline constexpr std::string_view kSmsSend = "sms.send";
inline constexpr std::string_view kVoiceCall = "voice.call";
// A user changed their own security info (registered or confirmed an app, changed their
// password): meant for telling them, as Entra mails users (service/internal/staged_change.h).
inline constexpr std::string_view kSecurityInfoChanged = "user.security_info_changed";
}  // namespace events

// An event's "data" object, built field by field (values are JSON-encoded here).
class EventData {
 public:
  EventData() = default;
  // Copies clone the secrets (every duplication of a secret is explicit elsewhere; events are
  // built in one place and copied only to nest them).
  EventData(const EventData& other);
  EventData& operator=(const EventData& other);
  EventData(EventData&&) noexcept = default;
  EventData& operator=(EventData&&) noexcept = default;

  EventData& Str(std::string_view key, std::string_view value);
  EventData& Int(std::string_view key, int64_t value);
  EventData& Bool(std::string_view key, bool value);
  EventData& Strings(std::string_view key, const std::vector<std::string>& values);
  EventData& Objects(std::string_view key, const std::vector<EventData>& values);
  // A secret (a one-time code): sealed in the outbox, given in clear only to sinks that deliver
  // secrets (exec, webhook, in-process), never to SUBSCRIBE.
  EventData& Secret(std::string_view key, std::string_view value);

  // The object as JSON text, without the secrets.
  std::string Json() const;
  const std::vector<std::pair<std::string, base::SecretBytes>>& secrets() const { return secrets_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;  // key, JSON text
  std::vector<std::pair<std::string, base::SecretBytes>> secrets_;
};

// Adds the event to `batch` (appended to the outbox log; committed with the batch or not at
// all). `keys` is needed only when `data` holds secrets.
base::Status AddEvent(storage::WriteBatch& batch, const base::Clock& clock, std::string_view type,
                      std::string_view user, const EventData& data,
                      const storage::KeyRing* keys = nullptr);
// The same with the event's time given (Unix microseconds).
base::Status AddEventAt(storage::WriteBatch& batch, int64_t time_micros, std::string_view type,
                        std::string_view user, const EventData& data,
                        const storage::KeyRing* keys = nullptr);

// An event as stored, with its sequence number.
struct OutboxEvent {
  uint64_t seq = 0;
  std::string id;
  std::string type;
  std::string user;
  int64_t time_micros = 0;
  std::string data_json;                                    // the "data" object
  std::vector<std::pair<std::string, std::string>> sealed;  // name, sealed blob (binary)
};

// Calls fn with every event numbered above `after`, in order, until fn returns false or `max`
// events were given. A record that does not decode is an error (DataLoss).
base::Status ReadEvents(const storage::Store& store, uint64_t after, size_t max,
                        const std::function<bool(OutboxEvent)>& fn);
// The number of the last event committed (0 when none yet).
base::StatusOr<uint64_t> LastEventSequence(const storage::Store& store);

// The event as delivered: {"id","seq","type","time" (RFC 3339, UTC),"user","data"}. With `keys`,
// sealed fields are opened into "data"; without, they are left out.
base::StatusOr<std::string> EventJson(const OutboxEvent& event, const storage::KeyRing* keys);
// The same as a FeedEvent (no secrets).
FeedEvent ToFeedEvent(const OutboxEvent& event);

// Deletes events numbered up to `through` and older than `older_than_micros`, at most `max` of
// them, in relaxed batches as large as the store takes (storage::CommitEach); returns how many.
base::StatusOr<size_t> PruneEvents(storage::Store& store, uint64_t through,
                                   int64_t older_than_micros, size_t max);

// Wakes whoever waits for new events (the delivery workers, SUBSCRIBE): called after a batch
// holding events committed. Process-wide; a missed wake-up costs at most the waiters' poll
// interval, never an event.
void NotifyOutbox();
// The current notification count, and a wait until it differs from `seen` or `timeout` passes.
uint64_t OutboxGeneration();
void WaitForOutbox(uint64_t seen, std::chrono::milliseconds timeout);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_HOOKS_OUTBOX_H_
