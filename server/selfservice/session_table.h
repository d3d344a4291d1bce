// The Security info page's sign-in sessions, kept in memory: a session is a random 256-bit token
// in a cookie, known here only by its SHA-256, with the user it belongs to, its CSRF token, when
// it began, when it was last used and until when its second factor counts as fresh. A session
// ends at sign-out, after `idle` without a request, `absolute` after it began, when the user signs
// their sessions out, and with the daemon (sessions are not stored: each node keeps its own, and
// a restart signs everyone out of the page, never out of anything else).
//
// Thread-safe.

#ifndef OTPD_SERVER_SELFSERVICE_SESSION_TABLE_H_
#define OTPD_SERVER_SELFSERVICE_SESSION_TABLE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "base/mutex.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"

namespace otpd::server::selfservice {

// A code sent to a phone the user is adding or changing, waiting for the user to type it.
struct PhoneProof {
  std::string number;  // as the user typed it, checked
  std::string type;    // "mobile", "alternateMobile", "office"
  std::string method;  // the phone method being changed; "" when adding one
  std::string code_digest;
  int64_t expires = 0;
  int attempts = 0;
};

struct PageSession {
  std::string upn;
  std::string csrf;             // sent back in X-CSRF-Token by every write
  uint64_t sessions_epoch = 0;  // the user's when the session began: moved on, it ends
  int64_t started = 0;          // Unix seconds
  int64_t last_seen = 0;
  int64_t fresh_until = 0;  // writes need a second factor proven before this
  std::optional<PhoneProof> proof;
  int64_t codes_window_start = 0;  // phone codes sent: at most a few per window
  int codes_sent = 0;
};

struct SessionLimits {
  std::chrono::seconds idle{15 * 60};
  std::chrono::seconds absolute{8 * 3600};
  std::chrono::seconds fresh{10 * 60};
  size_t max_sessions = 10'000;
  size_t max_per_user = 10;
};

class SessionTable {
 public:
  explicit SessionTable(SessionLimits limits) : limits_(limits) {}

  const SessionLimits& limits() const { return limits_; }

  // Begins a session for `upn` at `now`, fresh; returns its cookie token (64 hex digits). The
  // user's oldest session goes past max_per_user, the table's oldest past max_sessions.
  base::StatusOr<base::SecretBytes> Begin(const std::string& upn, uint64_t sessions_epoch,
                                          int64_t now);
  // The live session of `token` (idle and absolute timeouts checked at `now`, the use recorded);
  // nullopt when there is none.
  std::optional<PageSession> Use(std::string_view token, int64_t now);
  // Changes the session of `token` under the table's lock; false when it is gone.
  bool Update(std::string_view token, const std::function<void(PageSession&)>& change);
  void End(std::string_view token);
  // Ends every session of `upn` but the one of `keep` (none when empty).
  void EndOthers(const std::string& upn, std::string_view keep);
  size_t size() const;

 private:
  using Map = std::map<std::string, PageSession, std::less<>>;  // by the token's SHA-256, hex
  static std::string KeyOf(std::string_view token);
  void DropOldest(const std::function<bool(const PageSession&)>& which) OTPD_REQUIRES(mu_);

  const SessionLimits limits_;
  mutable base::Mutex mu_;
  Map sessions_ OTPD_GUARDED_BY(mu_);
};

}  // namespace otpd::server::selfservice

#endif  // OTPD_SERVER_SELFSERVICE_SESSION_TABLE_H_
