// Transaction ids of the validate API's phone challenges (docs/validate-api.md): what
// /validate/check answers as detail.transaction_id and FreeRADIUS carries as the State attribute.
// An id names no stored record: it is the challenge's expiry, a random nonce and an HMAC-SHA256
// under a key drawn at random when the process starts, over the user's normalised UPN, the expiry
// and the nonce. So it cannot be guessed or forged, it is valid only for the user it was issued
// to and only until the code it stands for expires, and it holds nothing secret (the code itself
// is checked by the sign-in service). A restart forgets the key: ids issued before are refused
// and the user asks for a new code.
//
// Thread-safety: immutable after construction; Issue and Check may be called from any thread.

#ifndef OTPD_SERVER_VALIDATE_TRANSACTION_ID_H_
#define OTPD_SERVER_VALIDATE_TRANSACTION_ID_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/statusor.h"

namespace otpd::server::validate {

// 16 hex digits of expiry, 16 of nonce, 32 of MAC.
inline constexpr size_t kTransactionIdLength = 64;

enum class TransactionCheck {
  kValid,
  kExpired,  // issued to this user, but its code has expired
  kUnknown,  // malformed, forged, issued by another process or to another user
};

class TransactionIds {
 public:
  // A fresh random key (InternalError only when the system has no randomness).
  static base::StatusOr<TransactionIds> Create();
  // A given key (tests); at least 16 bytes.
  explicit TransactionIds(base::SecretBytes key) : key_(std::move(key)) {}

  TransactionIds(TransactionIds&&) noexcept = default;
  TransactionIds& operator=(TransactionIds&&) noexcept = default;

  // An id for `user`'s challenge expiring at `expires` (Unix seconds).
  base::StatusOr<std::string> Issue(std::string_view user, int64_t expires) const;

  // Whether `id` was issued by this key to `user` and is unexpired at `now`.
  TransactionCheck Check(std::string_view id, std::string_view user, int64_t now) const;

 private:
  base::StatusOr<std::string> Mac(std::string_view user, std::string_view expires_and_nonce) const;

  base::SecretBytes key_;
};

}  // namespace otpd::server::validate

#endif  // OTPD_SERVER_VALIDATE_TRANSACTION_ID_H_
