// What the PSKC reader collects from the XML before decoding: the container's encryption and
// MAC settings, and one KeyPackage at a time. Text is kept as found; decoding (base64,
// decryption, integers, dates) happens in PskcDecoder.

#ifndef OTPD_TOKENIO_INTERNAL_PSKC_MODEL_H_
#define OTPD_TOKENIO_INTERNAL_PSKC_MODEL_H_

#include <cstddef>
#include <optional>
#include <string>

#include "tokenio/internal/secret_text.h"

namespace otpd::tokenio::internal {

// A PSKC value element (Secret, Counter, Time, TimeInterval, TimeDrift, MACKey).
struct PskcValue {
  bool present = false;
  bool encrypted = false;  // EncryptedValue (or MACKey's xenc content) rather than PlainValue
  SecretText plain;        // PlainValue text
  std::string algorithm;   // EncryptionMethod/@Algorithm
  std::string cipher;      // CipherValue, base64
  std::string mac;         // ValueMAC, base64

  void Reset() {
    present = encrypted = false;
    plain.Clear();
    algorithm.clear();
    cipher.clear();
    mac.clear();
  }
};

// KeyContainer-level settings, complete before the first KeyPackage.
struct PskcContainer {
  bool has_encryption_key = false;
  std::string key_name;  // ds:KeyName or xenc11:MasterKeyName
  bool derived_key = false;
  std::string kdf_algorithm;  // KeyDerivationMethod/@Algorithm
  std::string salt;           // base64 Salt/Specified
  std::string iteration_count;
  std::string key_length;
  std::string prf_algorithm;     // PRF/@Algorithm; empty = HMAC-SHA1
  bool unsupported_key = false;  // e.g. xenc:EncryptedKey (asymmetric)
  bool has_mac_method = false;
  std::string mac_algorithm;
  PskcValue mac_key;
};

struct PskcKeyPackage {
  size_t position = 0;
  size_t keys = 0;  // Key elements seen; more than one is rejected
  std::string manufacturer, serial_no, model, user_id;
  std::string key_id, algorithm, suite;
  bool has_response_format = false;
  std::optional<std::string> length, encoding;
  PskcValue secret, counter, time, time_interval, time_drift;
  std::string start_date, expiry_date;
  std::string pin_usage_mode;  // PINPolicy/@PINUsageMode

  void Reset(size_t new_position) {
    position = new_position;
    keys = 0;
    manufacturer.clear(), serial_no.clear(), model.clear(), user_id.clear();
    key_id.clear(), algorithm.clear(), suite.clear();
    has_response_format = false;
    length.reset(), encoding.reset();
    for (PskcValue* v : {&secret, &counter, &time, &time_interval, &time_drift}) v->Reset();
    start_date.clear(), expiry_date.clear(), pin_usage_mode.clear();
  }
};

}  // namespace otpd::tokenio::internal

#endif  // OTPD_TOKENIO_INTERNAL_PSKC_MODEL_H_
