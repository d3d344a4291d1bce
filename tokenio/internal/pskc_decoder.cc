#include "tokenio/internal/pskc_decoder.h"

#include <string>
#include <utility>

#include "base/codec.h"
#include "base/constant_time.h"
#include "tokenio/internal/datetime.h"
#include "tokenio/internal/text.h"

namespace otpd::tokenio::internal {

namespace {

constexpr uint64_t kMaxIterations = 10'000'000;
constexpr int64_t kMaxTimeInterval = 86400;

base::Status Row(std::string reason) { return base::InvalidArgumentError(reason); }

// hotp / totp from the Key's Algorithm URI: RFC 6030's urn:ietf:params:xml:ns:keyprov:pskc:hotp
// and the vendor spellings ...pskc#totp, http://www.ietf.org/keyprov/pskc#hotp, ...
std::optional<engine::OtpType> ParseKeyAlgorithm(std::string_view uri) {
  std::string n = ToLower(Trim(uri));
  size_t cut = n.find_last_of(":#/");
  std::string_view last =
      cut == std::string::npos ? std::string_view(n) : std::string_view(n).substr(cut + 1);
  if (last == "hotp") return engine::OtpType::kHotp;
  if (last == "totp") return engine::OtpType::kTotp;
  return std::nullopt;
}

}  // namespace

base::StatusOr<const base::SecretBytes*> PskcDecoder::DerivedKey(const Cipher& cipher) {
  if (!secrets_.password) {
    return base::FailedPreconditionError(
        "the file's keys are encrypted with a password-derived key (PBKDF2) but no password "
        "was given: pass it with --password-file FILE (otpctl import), or in the admin API's "
        "X-Otpd-Pskc-Password header");
  }
  size_t length = cipher.key_size;
  if (!Trim(container_.key_length).empty()) {
    std::optional<uint64_t> given = ParseUint64(container_.key_length);
    if (!given || *given != cipher.key_size) {
      return base::FailedPreconditionError("PBKDF2 KeyLength does not match " + CipherName(cipher));
    }
  }
  auto it = derived_keys_.find(length);
  if (it != derived_keys_.end()) return &it->second;
  std::string kdf = ToLower(Trim(container_.kdf_algorithm));
  if (kdf.size() < 7 || kdf.substr(kdf.size() - 7) != "#pbkdf2") {
    return base::UnimplementedError(
        "unsupported key derivation method in KeyDerivationMethod (supported: PBKDF2)");
  }
  std::optional<uint64_t> iterations = ParseUint64(container_.iteration_count);
  if (!iterations || *iterations == 0 || *iterations > kMaxIterations) {
    return base::FailedPreconditionError("PBKDF2 IterationCount must be 1.." +
                                         std::to_string(kMaxIterations));
  }
  base::StatusOr<base::SecretBytes> salt = base::Base64Decode(container_.salt);
  if (!salt.ok() || salt->empty()) {
    return base::FailedPreconditionError("PBKDF2 Salt is missing or not valid base64");
  }
  engine::HashAlgorithm prf = engine::HashAlgorithm::kSha1;
  if (!Trim(container_.prf_algorithm).empty()) {
    base::StatusOr<engine::HashAlgorithm> p = ParseMacUri(container_.prf_algorithm);
    if (!p.ok())
      return base::UnimplementedError("PBKDF2 PRF: " + std::string(p.status().message()));
    prf = *p;
  }
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes key,
                        Pbkdf2(prf, *secrets_.password, salt->span(), *iterations, length));
  return &derived_keys_.emplace(length, std::move(key)).first->second;
}

base::StatusOr<const base::SecretBytes*> PskcDecoder::EncryptionKey(const Cipher& cipher) {
  if (container_.unsupported_key) {
    return base::UnimplementedError(
        "the file's EncryptionKey is not a pre-shared key (KeyName) or a PBKDF2 derived key; "
        "asymmetric PSKC encryption is not supported");
  }
  if (container_.derived_key) return DerivedKey(cipher);
  if (!secrets_.pre_shared_key) {
    std::string name = container_.key_name.empty() ? "" : " (its KeyName says which)";
    return base::FailedPreconditionError(
        "the file's keys are encrypted with a pre-shared key" + name +
        " but no pre-shared key was given: pass it with --psk-file FILE (otpctl import), or in "
        "the admin API's X-Otpd-Pskc-Key header");
  }
  if (secrets_.pre_shared_key->size() != cipher.key_size) {
    return base::FailedPreconditionError("the pre-shared key has " +
                                         std::to_string(secrets_.pre_shared_key->size()) +
                                         " bytes but the file's " + CipherName(cipher) + " needs " +
                                         std::to_string(cipher.key_size));
  }
  return &*secrets_.pre_shared_key;
}

base::StatusOr<const base::SecretBytes*> PskcDecoder::MacKey(const Cipher& value_cipher) {
  if (mac_key_) return &*mac_key_;
  const PskcValue& mk = container_.mac_key;
  if (!container_.has_mac_method || !mk.present) {
    // Drafts before RFC 6030 MAC with the encryption key itself.
    mac_algorithm_ = engine::HashAlgorithm::kSha1;
    if (container_.has_mac_method) {
      base::StatusOr<engine::HashAlgorithm> alg = ParseMacUri(container_.mac_algorithm);
      if (!alg.ok()) return base::UnimplementedError(alg.status().message());
      mac_algorithm_ = *alg;
    }
    OTPD_ASSIGN_OR_RETURN(const base::SecretBytes* key, EncryptionKey(value_cipher));
    mac_key_ = key->Clone();
    return &*mac_key_;
  }
  base::StatusOr<engine::HashAlgorithm> alg = ParseMacUri(container_.mac_algorithm);
  if (!alg.ok()) return base::UnimplementedError(alg.status().message());
  mac_algorithm_ = *alg;
  if (!mk.encrypted) {
    base::StatusOr<base::SecretBytes> plain = base::Base64Decode(mk.plain.view());
    if (!plain.ok()) return base::FailedPreconditionError("MACKey is not valid base64");
    mac_key_ = std::move(plain).value();
    return &*mac_key_;
  }
  base::StatusOr<Cipher> cipher = ParseCipherUri(mk.algorithm);
  if (!cipher.ok())
    return base::UnimplementedError("MACKey: " + std::string(cipher.status().message()));
  OTPD_ASSIGN_OR_RETURN(const base::SecretBytes* key, EncryptionKey(*cipher));
  base::StatusOr<base::SecretBytes> data = base::Base64Decode(mk.cipher);
  if (!data.ok()) return base::FailedPreconditionError("MACKey CipherValue is not valid base64");
  base::StatusOr<base::SecretBytes> plain = Decrypt(*cipher, *key, data->span());
  if (!plain.ok()) {
    return base::UnauthenticatedError(
        "wrong password or pre-shared key: the MAC key in MACMethod could not be decrypted");
  }
  mac_key_ = std::move(plain).value();
  return &*mac_key_;
}

base::StatusOr<base::SecretBytes> PskcDecoder::DecryptValue(const PskcValue& value,
                                                            std::string_view name) {
  std::string what(name);
  base::StatusOr<Cipher> cipher = ParseCipherUri(value.algorithm);
  if (!cipher.ok()) return Row(what + ": " + std::string(cipher.status().message()));
  base::StatusOr<base::SecretBytes> data = base::Base64Decode(value.cipher);
  if (!data.ok() || data->empty())
    return Row(what + ": CipherValue is missing or not valid base64");
  OTPD_ASSIGN_OR_RETURN(const base::SecretBytes* key, EncryptionKey(*cipher));
  if (!Trim(value.mac).empty()) {
    OTPD_ASSIGN_OR_RETURN(const base::SecretBytes* mac_key, MacKey(*cipher));
    base::StatusOr<base::SecretBytes> expected = base::Base64Decode(value.mac);
    if (!expected.ok()) return Row(what + ": ValueMAC is not valid base64");
    OTPD_ASSIGN_OR_RETURN(base::SecretBytes actual, Hmac(*mac_algorithm_, *mac_key, data->span()));
    if (!base::ConstantTimeEquals(actual.span(), expected->span())) {
      return base::UnauthenticatedError(what + ": MAC mismatch");
    }
  } else if (cipher->mode == CipherMode::kCbc) {
    return Row(what + ": encrypted with " + CipherName(*cipher) +
               " but has no ValueMAC (RFC 6030 requires a MAC for CBC)");
  }
  base::StatusOr<base::SecretBytes> plain = Decrypt(*cipher, *key, data->span());
  if (!plain.ok()) return base::UnauthenticatedError(what + ": decryption failed");
  authenticated_any_ = true;
  return plain;
}

base::StatusOr<base::SecretBytes> PskcDecoder::ValueBytes(const PskcValue& value,
                                                          std::string_view name, bool base64) {
  if (value.encrypted) return DecryptValue(value, name);
  if (!base64) return base::SecretBytes::FromString(Trim(value.plain.view()));
  base::StatusOr<base::SecretBytes> bytes = base::Base64Decode(value.plain.view());
  if (!bytes.ok()) return Row(std::string(name) + ": PlainValue is not valid base64");
  return bytes;
}

base::StatusOr<std::optional<int64_t>> PskcDecoder::IntValue(const PskcValue& value,
                                                             std::string_view name) {
  if (!value.present) return std::optional<int64_t>();
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes bytes, ValueBytes(value, name, false));
  if (value.encrypted) {
    // RFC 6030: an encrypted integer is its big-endian two's complement bytes.
    if (bytes.empty() || bytes.size() > 8) return Row(std::string(name) + ": not an integer");
    uint64_t v = (bytes.data()[0] & 0x80) ? ~uint64_t{0} : 0;
    for (uint8_t b : bytes.span()) v = (v << 8) | b;
    return std::optional<int64_t>(static_cast<int64_t>(v));
  }
  std::optional<int64_t> v = ParseInt64(bytes.view());
  if (!v) return Row(std::string(name) + ": not an integer");
  return v;
}

base::Status PskcDecoder::DecodeProfile(const PskcKeyPackage& p, TokenRecord* record) {
  if (p.keys == 0) return Row("KeyPackage has no Key");
  if (p.keys > 1) return Row("KeyPackage has more than one Key");
  std::optional<engine::OtpType> type = ParseKeyAlgorithm(p.algorithm);
  if (!type) return Row("unsupported key algorithm in Key Algorithm (expected HOTP or TOTP)");
  record->params.type = *type;
  if (!Trim(p.suite).empty()) {
    base::StatusOr<engine::HashAlgorithm> hash = engine::ParseHashAlgorithm(Trim(p.suite));
    if (!hash.ok())
      return Row("unsupported Suite (expected HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512)");
    record->params.algorithm = *hash;
  }
  if (!p.has_response_format) {
    record->warnings.push_back("no ResponseFormat; assuming 6 digits");
  } else {
    if (p.encoding && !EqualsIgnoreCase(Trim(*p.encoding), "DECIMAL")) {
      return Row("unsupported ResponseFormat Encoding (only DECIMAL)");
    }
    std::optional<uint64_t> length = p.length ? ParseUint64(*p.length) : std::nullopt;
    if (!length || *length < 6 || *length > 9) return Row("ResponseFormat Length must be 6..9");
    record->params.digits = static_cast<int>(*length);
  }
  return base::OkStatus();
}

base::Status PskcDecoder::DecodeData(const PskcKeyPackage& p, TokenRecord* record) {
  if (!p.secret.present) return Row("Key has no Secret");
  OTPD_ASSIGN_OR_RETURN(record->seed, ValueBytes(p.secret, "Secret", true));
  OTPD_ASSIGN_OR_RETURN(std::optional<int64_t> counter, IntValue(p.counter, "Counter"));
  OTPD_ASSIGN_OR_RETURN(std::optional<int64_t> time, IntValue(p.time, "Time"));
  OTPD_ASSIGN_OR_RETURN(std::optional<int64_t> interval, IntValue(p.time_interval, "TimeInterval"));
  OTPD_ASSIGN_OR_RETURN(std::optional<int64_t> drift, IntValue(p.time_drift, "TimeDrift"));
  if (counter && *counter < 0) return Row("Counter must not be negative");
  if (time && *time < 0) return Row("Time must not be negative");
  if (interval && (*interval <= 0 || *interval > kMaxTimeInterval)) {
    return Row("TimeInterval must be 1..86400 seconds");
  }
  if (record->params.type == engine::OtpType::kHotp) {
    record->counter = static_cast<uint64_t>(counter.value_or(0));
  } else {
    record->params.period = static_cast<uint32_t>(interval.value_or(30));
    record->params.t0 = time.value_or(0);
    record->time_drift = drift.value_or(0);
  }
  return base::OkStatus();
}

base::Status PskcDecoder::DecodePolicy(const PskcKeyPackage& p, TokenRecord* record) {
  if (!p.pin_usage_mode.empty() && !EqualsIgnoreCase(Trim(p.pin_usage_mode), "Local")) {
    return Row("PINPolicy PINUsageMode is not supported (only Local)");
  }
  if (!Trim(p.start_date).empty()) {
    base::StatusOr<int64_t> t = ParseXsDateTime(p.start_date);
    if (!t.ok()) return Row("Policy StartDate is " + std::string(t.status().message()));
    record->not_before = *t;
    if (secrets_.now_unix < *t) return Row("key not valid before " + FormatXsDateTime(*t));
  }
  if (!Trim(p.expiry_date).empty()) {
    base::StatusOr<int64_t> t = ParseXsDateTime(p.expiry_date);
    if (!t.ok()) return Row("Policy ExpiryDate is " + std::string(t.status().message()));
    record->not_after = *t;
    if (secrets_.now_unix >= *t) return Row("key expired on " + FormatXsDateTime(*t));
  }
  return base::OkStatus();
}

base::Status PskcDecoder::Decode(const PskcKeyPackage& p, TokenRecord* record) {
  record->position = p.position;
  record->serial = std::string(Trim(p.serial_no.empty() ? p.key_id : p.serial_no));
  record->manufacturer = std::string(Trim(p.manufacturer));
  record->model = std::string(Trim(p.model));
  OTPD_RETURN_IF_ERROR(DecodeProfile(p, record));
  OTPD_RETURN_IF_ERROR(DecodePolicy(p, record));
  OTPD_RETURN_IF_ERROR(DecodeData(p, record));
  if (!Trim(p.user_id).empty()) {
    base::StatusOr<std::string> upn = NormaliseUpn(p.user_id);
    if (upn.ok()) {
      record->upn = std::move(upn).value();
    } else {
      record->warnings.push_back("UserId is not an e-mail address; token left unassigned");
    }
  }
  return base::OkStatus();
}

base::Status PskcDecoder::Process(const PskcKeyPackage& package) {
  TokenRecord record;
  bool authenticated_before = authenticated_any_;
  base::Status s = Decode(package, &record);
  if (!authenticated_before && authenticated_any_) {
    for (RowError& e : deferred_) checker_->Reject(e.position, e.serial, e.reason);
    deferred_.clear();
  }
  if (s.ok()) return checker_->Submit(std::move(record));
  // The serial is named only from a package of the expected shape (one Key, with a Secret), so a
  // seed pasted into SerialNo or Key Id in place of the Secret is never repeated.
  std::string serial =
      package.keys == 1 && package.secret.present ? std::move(record.serial) : std::string();
  if (base::IsInvalidArgument(s)) {
    checker_->Reject(package.position, std::move(serial), std::string(s.message()));
    return base::OkStatus();
  }
  if (base::IsUnauthenticated(s) && !s.message().starts_with("wrong password")) {
    RowError e{package.position, std::move(serial), std::string(s.message())};
    if (authenticated_any_) {
      checker_->Reject(e.position, e.serial, e.reason);
    } else {
      deferred_.push_back(std::move(e));
    }
    return base::OkStatus();
  }
  return s.WithContext("KeyPackage " + std::to_string(package.position));
}

base::Status PskcDecoder::Finish() {
  if (!authenticated_any_ && !deferred_.empty()) {
    return base::UnauthenticatedError("wrong password or pre-shared key: none of the " +
                                      std::to_string(deferred_.size()) +
                                      " encrypted keys passed its MAC check and decrypted");
  }
  return base::OkStatus();
}

}  // namespace otpd::tokenio::internal
