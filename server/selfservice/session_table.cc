#include "server/selfservice/session_table.h"

#include "base/codec.h"
#include "base/mac.h"
#include "base/seal.h"

namespace otpd::server::selfservice {

namespace {

// 32 random bytes as hex.
base::StatusOr<std::string> RandomHex() {
  uint8_t bytes[32];
  OTPD_RETURN_IF_ERROR(base::RandomBytes(bytes));
  std::string hex = base::HexEncode(bytes);
  base::Wipe(bytes, sizeof(bytes));
  return hex;
}

}  // namespace

std::string SessionTable::KeyOf(std::string_view token) {
  return base::HexEncode(base::Sha256(token));
}

base::StatusOr<base::SecretBytes> SessionTable::Begin(const std::string& upn,
                                                      uint64_t sessions_epoch, int64_t now) {
  OTPD_ASSIGN_OR_RETURN(std::string token, RandomHex());
  PageSession s;
  s.upn = upn;
  OTPD_ASSIGN_OR_RETURN(s.csrf, RandomHex());
  s.sessions_epoch = sessions_epoch;
  s.started = now;
  s.last_seen = now;
  s.fresh_until = now + limits_.fresh.count();
  const std::string key = KeyOf(token);
  base::SecretBytes cookie = base::SecretBytes::FromString(token);
  base::Wipe(token.data(), token.size());
  base::MutexLock lock(mu_);
  size_t mine = 0;
  for (const auto& [k, other] : sessions_) mine += other.upn == upn ? 1 : 0;
  if (mine >= limits_.max_per_user) {
    DropOldest([&](const PageSession& other) { return other.upn == upn; });
  }
  if (sessions_.size() >= limits_.max_sessions) {
    DropOldest([](const PageSession&) { return true; });
  }
  sessions_.emplace(key, std::move(s));
  return cookie;
}

void SessionTable::DropOldest(const std::function<bool(const PageSession&)>& which) {
  auto oldest = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (!which(it->second)) continue;
    if (oldest == sessions_.end() || it->second.last_seen < oldest->second.last_seen) oldest = it;
  }
  if (oldest != sessions_.end()) sessions_.erase(oldest);
}

std::optional<PageSession> SessionTable::Use(std::string_view token, int64_t now) {
  base::MutexLock lock(mu_);
  auto it = sessions_.find(KeyOf(token));
  if (it == sessions_.end()) return std::nullopt;
  PageSession& s = it->second;
  if (now - s.last_seen >= limits_.idle.count() || now - s.started >= limits_.absolute.count()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  s.last_seen = now;
  return s;
}

bool SessionTable::Update(std::string_view token, const std::function<void(PageSession&)>& change) {
  base::MutexLock lock(mu_);
  auto it = sessions_.find(KeyOf(token));
  if (it == sessions_.end()) return false;
  change(it->second);
  return true;
}

void SessionTable::End(std::string_view token) {
  base::MutexLock lock(mu_);
  sessions_.erase(KeyOf(token));
}

void SessionTable::EndOthers(const std::string& upn, std::string_view keep) {
  const std::string kept = keep.empty() ? std::string() : KeyOf(keep);
  base::MutexLock lock(mu_);
  std::erase_if(sessions_,
                [&](const auto& entry) { return entry.second.upn == upn && entry.first != kept; });
}

size_t SessionTable::size() const {
  base::MutexLock lock(mu_);
  return sessions_.size();
}

}  // namespace otpd::server::selfservice
