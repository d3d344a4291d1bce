// PSKC, the Portable Symmetric Key Container (RFC 6030): reading vendors' token files and
// writing our own for export.
//
// Reading streams with expat: KeyPackages are decoded and handed to the sink one at a time, so
// memory stays bounded whatever the file's size (plus one entry per accepted serial, for the
// duplicate check). Elements are matched by namespace-resolved local name, so any prefix (or
// none) works. Supported: PlainValue; EncryptedValue with a pre-shared key or a PBKDF2
// password-derived key, aes128/192/256-cbc (IV prepended, PKCS#5 padding), kw-aes128/192/256
// (RFC 3394) and kw-aes*-pad (RFC 5649); MACMethod hmac-sha1/256/512 with an encrypted MACKey,
// and ValueMAC = HMAC(MACKey, IV || ciphertext). Algorithms hotp and totp; ResponseFormat
// Length 6..9, DECIMAL; Data Secret, Counter, Time, TimeInterval, TimeDrift; DeviceInfo
// Manufacturer, SerialNo, Model; Policy StartDate / ExpiryDate. docs/formats.md has the rules
// and every message.

#ifndef OTPD_TOKENIO_PSKC_H_
#define OTPD_TOKENIO_PSKC_H_

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "base/statusor.h"
#include "engine/otp_params.h"
#include "tokenio/token_record.h"

namespace otpd::tokenio {

struct PskcSecrets {
  // The AES key of a file encrypted with a pre-shared key (16, 24 or 32 bytes, as the file's
  // algorithm requires). Default: none.
  std::optional<base::SecretBytes> pre_shared_key;
  // The password of a file whose key is derived with PBKDF2. Default: none.
  std::optional<base::SecretBytes> password;
  // The current time in Unix seconds, against which Policy StartDate / ExpiryDate are checked.
  // Default 0, which makes every dated key not yet valid: callers pass the clock's Now().
  int64_t now_unix = 0;
};

// Reads a PSKC document from `in` to its end. Each KeyPackage becomes a TokenRecord (position =
// KeyPackage number, from 1) or a RowError. A non-OK status means the file as a whole could not
// be read: an I/O error, XML that is not well-formed (with its line and column), a root element
// that is not a PSKC KeyContainer, a DTD, an encryption key the secrets do not provide, a wrong
// password or pre-shared key (detected when the MAC key fails to decrypt, or when no encrypted
// key at all decrypts and authenticates), or a sink that stopped the parse.
base::Status ParsePskc(std::istream& in, const PskcSecrets& secrets, TokenSink* sink);

// How exported seeds are protected.
enum class PskcProtection {
  kNone,          // PlainValue: only for tests and for transfers over an already secure channel
  kPreSharedKey,  // EncryptedValue under PskcWriterOptions::key, named by KeyName
  kPassword,      // EncryptedValue under PBKDF2(password, random salt, iterations)
};

enum class PskcCipher { kAes128Cbc, kAes192Cbc, kAes256Cbc, kKwAes128Pad, kKwAes256Pad };

struct PskcWriterOptions {
  // Default kNone.
  PskcProtection protection = PskcProtection::kNone;
  // The pre-shared key (of the cipher's key size) or the password. Unused for kNone.
  base::SecretBytes key;
  // Written as KeyName (pre-shared key) or MasterKeyName (password) so the recipient knows which
  // key to use. Default empty: not written.
  std::string key_name;
  // Default aes128-cbc, the one every PSKC reader supports.
  PskcCipher cipher = PskcCipher::kAes128Cbc;
  // PBKDF2-HMAC-SHA1 iterations for kPassword. Default 100000; at least 1000.
  uint32_t pbkdf2_iterations = 100000;
  // MACMethod and ValueMAC hash. Default HMAC-SHA1 as RFC 6030 requires readers to support.
  engine::HashAlgorithm mac = engine::HashAlgorithm::kSha1;
};

// Writes a PSKC document token by token, so an inventory of any size can be exported without
// holding it in memory. Each encrypted value gets a fresh IV and a ValueMAC; the MAC key is
// random and stored encrypted in MACMethod; the PBKDF2 salt is random.
//
// Usage: auto w = PskcWriter::Create(out, options); w->Add(token)...; w->Finish().
// Not thread-safe. `out` must outlive the writer.
class PskcWriter {
 public:
  // Checks the options, derives the encryption key and writes the KeyContainer header.
  // InvalidArgument for a key of the wrong size, an empty password or too few iterations.
  static base::StatusOr<std::unique_ptr<PskcWriter>> Create(std::ostream& out,
                                                            PskcWriterOptions options);
  ~PskcWriter();
  PskcWriter(const PskcWriter&) = delete;
  PskcWriter& operator=(const PskcWriter&) = delete;

  // Writes one KeyPackage. DataLoss if the stream fails.
  base::Status Add(const TokenRecord& token);
  // Closes the KeyContainer and flushes. No Add() afterwards.
  base::Status Finish();

 private:
  struct State;
  explicit PskcWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace otpd::tokenio

#endif  // OTPD_TOKENIO_PSKC_H_
