// Turns the KeyPackages the PSKC reader collects into TokenRecords: decrypts and authenticates
// values, applies the algorithm profile and the policy dates, and routes the result through a
// RecordChecker.
//
// Internally a problem's Status code says how far it reaches: InvalidArgument rejects the
// KeyPackage (its message is the RowError reason), Unauthenticated is a failed MAC or
// decryption (also rejects the KeyPackage, but counts as evidence of a wrong password or key),
// anything else stops the whole file.
//
// Thread-safety: none; one decoder per parse.

#ifndef OTPD_TOKENIO_INTERNAL_PSKC_DECODER_H_
#define OTPD_TOKENIO_INTERNAL_PSKC_DECODER_H_

#include <map>
#include <optional>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "base/statusor.h"
#include "engine/otp_params.h"
#include "tokenio/internal/crypto.h"
#include "tokenio/internal/pskc_model.h"
#include "tokenio/internal/record_checker.h"
#include "tokenio/pskc.h"

namespace otpd::tokenio::internal {

class PskcDecoder {
 public:
  // `container` is filled by the reader before the first Process(); all three must outlive the
  // decoder.
  PskcDecoder(const PskcSecrets& secrets, const PskcContainer& container, RecordChecker* checker)
      : secrets_(secrets), container_(container), checker_(checker) {}

  // Decodes one KeyPackage and hands the token or the RowError on. Non-OK: stop the file
  // (missing or wrong secrets, or the sink's own status).
  base::Status Process(const PskcKeyPackage& package);

  // At the end of the document: a file-level error when encrypted keys were present and not one
  // of them passed its MAC check and decrypted (a wrong password or pre-shared key).
  base::Status Finish();

 private:
  base::Status Decode(const PskcKeyPackage& package, TokenRecord* record);
  base::Status DecodeProfile(const PskcKeyPackage& package, TokenRecord* record);
  base::Status DecodeData(const PskcKeyPackage& package, TokenRecord* record);
  base::Status DecodePolicy(const PskcKeyPackage& package, TokenRecord* record);
  // The plaintext of a value: PlainValue base64-decoded (`base64`) or as text, or EncryptedValue
  // authenticated and decrypted.
  base::StatusOr<base::SecretBytes> ValueBytes(const PskcValue& value, std::string_view name,
                                               bool base64);
  base::StatusOr<base::SecretBytes> DecryptValue(const PskcValue& value, std::string_view name);
  base::StatusOr<std::optional<int64_t>> IntValue(const PskcValue& value, std::string_view name);
  // The key that encrypts values under `cipher`: the pre-shared key or the derived key.
  base::StatusOr<const base::SecretBytes*> EncryptionKey(const Cipher& cipher);
  // PBKDF2 from the password and the container's parameters, derived once per key length.
  base::StatusOr<const base::SecretBytes*> DerivedKey(const Cipher& cipher);
  // MACMethod's key, decrypted on first use, or the encryption key (pre-RFC drafts).
  base::StatusOr<const base::SecretBytes*> MacKey(const Cipher& value_cipher);

  const PskcSecrets& secrets_;
  const PskcContainer& container_;
  RecordChecker* checker_;
  std::map<size_t, base::SecretBytes> derived_keys_;  // by key length
  std::optional<base::SecretBytes> mac_key_;
  std::optional<engine::HashAlgorithm> mac_algorithm_;
  bool authenticated_any_ = false;
  std::vector<RowError> deferred_;  // key failures while no key has authenticated yet
};

}  // namespace otpd::tokenio::internal

#endif  // OTPD_TOKENIO_INTERNAL_PSKC_DECODER_H_
