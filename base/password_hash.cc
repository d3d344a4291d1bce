#include "base/password_hash.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "base/constant_time.h"
#include "base/openssl_objects.h"
#include "base/seal.h"
#include "base/secret_bytes.h"

namespace otpd::base {
namespace {

// Fetched once: OpenSSL 3 pays for every implicit fetch.
EVP_KDF* ScryptKdf() {
  static EVP_KDF* const kdf = FetchAlgorithm(EVP_KDF_fetch, "SCRYPT");
  return kdf;
}

}  // namespace

Status ScryptParams::Validate() const {
  if (log2_n < 10 || log2_n > 22) {
    return InvalidArgumentError("scrypt log2_n must be 10..22 (N = 1024 .. 4194304)");
  }
  if (r < 1 || r > 32) return InvalidArgumentError("scrypt r must be 1..32");
  if (p < 1 || p > 16) return InvalidArgumentError("scrypt p must be 1..16");
  if (MemoryBytes() > (uint64_t{1} << 30)) {
    return InvalidArgumentError("scrypt cost needs more than 1 GiB per hash (128 * N * r)");
  }
  return OkStatus();
}

uint64_t ScryptParams::MemoryBytes() const {
  // OpenSSL's own accounting: the V array (128 * r * (N + 2)) and the B array (128 * r * p).
  return uint64_t{128} * r * ((uint64_t{1} << log2_n) + 2) + uint64_t{128} * r * p;
}

StatusOr<std::string> Scrypt(std::string_view password, std::string_view salt,
                             const ScryptParams& params, size_t key_bytes) {
  OTPD_RETURN_IF_ERROR(params.Validate());
  if (ScryptKdf() == nullptr) return InternalError("OpenSSL does not provide scrypt");
  KdfCtxPtr ctx(EVP_KDF_CTX_new(ScryptKdf()));
  if (!ctx) return InternalError("scrypt context allocation failed");
  uint64_t n = uint64_t{1} << params.log2_n;
  uint32_t r = params.r, p = params.p;
  // OpenSSL refuses costs above its default limit of 32 MiB unless told how much may be used; the
  // cost was validated above.
  uint64_t maxmem = params.MemoryBytes() + (uint64_t{1} << 20);
  // OSSL_PARAM takes non-const pointers; the buffers are only read.
  OSSL_PARAM ossl_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  std::string key(key_bytes, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(key.data()), key.size(),
                     ossl_params) != 1) {
    ERR_clear_error();
    Wipe(key.data(), key.size());
    return ResourceExhaustedError("scrypt failed (out of memory?)");
  }
  return key;
}

StatusOr<PasswordHash> HashPassword(std::string_view password, const ScryptParams& params) {
  PasswordHash hash;
  hash.params = params;
  hash.salt.resize(kPasswordSaltBytes);
  OTPD_RETURN_IF_ERROR(RandomBytes(
      std::span<uint8_t>(reinterpret_cast<uint8_t*>(hash.salt.data()), kPasswordSaltBytes)));
  OTPD_ASSIGN_OR_RETURN(hash.key, Scrypt(password, hash.salt, params, kPasswordKeyBytes));
  return hash;
}

StatusOr<bool> VerifyPassword(std::string_view password, const PasswordHash& hash) {
  if (hash.key.empty() || hash.key.size() > 64) {
    return DataLossError("stored password hash has a malformed key");
  }
  OTPD_ASSIGN_OR_RETURN(std::string key, Scrypt(password, hash.salt, hash.params, hash.key.size()));
  const bool same = ConstantTimeEqualsPublicLength(key, hash.key);
  Wipe(key.data(), key.size());
  return same;
}

}  // namespace otpd::base
