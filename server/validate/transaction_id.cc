#include "server/validate/transaction_id.h"

#include <array>

#include "base/codec.h"
#include "base/constant_time.h"
#include "base/mac.h"
#include "base/seal.h"
#include "service/model/records.h"

namespace otpd::server::validate {
namespace {

constexpr std::string_view kPurpose = "otpd validate transaction v1";
constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 8;
constexpr size_t kMacBytes = 16;
constexpr size_t kHeaderHex = 2 * (8 + kNonceBytes);  // expiry and nonce

std::string ExpiryHex(int64_t expires) {
  std::array<uint8_t, 8> bytes{};
  const auto v = static_cast<uint64_t>(expires);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  return base::HexEncode(bytes);
}

bool LowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

base::StatusOr<TransactionIds> TransactionIds::Create() {
  base::SecretBytes key(kKeyBytes);
  OTPD_RETURN_IF_ERROR(base::RandomBytes(key.mutable_span()));
  return TransactionIds(std::move(key));
}

base::StatusOr<std::string> TransactionIds::Mac(std::string_view user,
                                                std::string_view expires_and_nonce) const {
  const std::string upn = service::NormaliseUpn(user);
  OTPD_ASSIGN_OR_RETURN(
      base::Sha256Digest mac,
      base::HmacSha256(key_.span(), {kPurpose, std::string_view("\0", 1), upn,
                                     std::string_view("\0", 1), expires_and_nonce}));
  return base::HexEncode(std::span<const uint8_t>(mac.data(), kMacBytes));
}

base::StatusOr<std::string> TransactionIds::Issue(std::string_view user, int64_t expires) const {
  std::array<uint8_t, kNonceBytes> nonce{};
  OTPD_RETURN_IF_ERROR(base::RandomBytes(nonce));
  std::string id = ExpiryHex(expires) + base::HexEncode(nonce);
  OTPD_ASSIGN_OR_RETURN(std::string mac, Mac(user, id));
  return id + mac;
}

TransactionCheck TransactionIds::Check(std::string_view id, std::string_view user,
                                       int64_t now) const {
  if (id.size() != kTransactionIdLength || !LowerHex(id)) return TransactionCheck::kUnknown;
  base::StatusOr<std::string> mac = Mac(user, id.substr(0, kHeaderHex));
  if (!mac.ok() || !base::ConstantTimeEquals(*mac, id.substr(kHeaderHex))) {
    return TransactionCheck::kUnknown;
  }
  uint64_t expires = 0;
  for (char c : id.substr(0, 16)) {
    expires = expires * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return static_cast<int64_t>(expires) > now ? TransactionCheck::kValid
                                             : TransactionCheck::kExpired;
}

}  // namespace otpd::server::validate
