#include "base/mac.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <climits>

#include "base/openssl_objects.h"

namespace otpd::base {
namespace {

// The algorithms are fetched once per process (OpenSSL 3 pays for every implicit fetch); null
// when the provider does not offer one.
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const mac = FetchAlgorithm(EVP_MAC_fetch, "HMAC");
  return mac;
}

// OpenSSL's name and the output size of each MacHash, in the enum's order.
struct DigestInfo {
  const char* name;
  size_t bytes;
};
constexpr DigestInfo kDigests[] = {{"SHA1", 20}, {"SHA256", 32}, {"SHA512", 64}};

const DigestInfo& Info(MacHash hash) { return kDigests[static_cast<size_t>(hash)]; }

const EVP_MD* Digest(MacHash hash) {
  static EVP_MD* const mds[] = {FetchAlgorithm(EVP_MD_fetch, kDigests[0].name),
                                FetchAlgorithm(EVP_MD_fetch, kDigests[1].name),
                                FetchAlgorithm(EVP_MD_fetch, kDigests[2].name)};
  return mds[static_cast<size_t>(hash)];
}

Status OpenSslFailed(std::string_view what) {
  ERR_clear_error();
  return InternalError(std::string(what) + " failed in OpenSSL");
}

// An empty key or password is legal, but OpenSSL wants a non-null pointer for it.
const uint8_t* NonNull(std::span<const uint8_t> bytes) {
  static const uint8_t kEmpty = 0;
  return bytes.empty() ? &kEmpty : bytes.data();
}

// The one HMAC path: HMAC-`hash` under `key` of the concatenation of `parts`, written to `out`,
// which holds exactly the digest size.
Status HmacInto(MacHash hash, std::span<const uint8_t> key,
                std::initializer_list<std::string_view> parts, std::span<uint8_t> out) {
  if (HmacAlgorithm() == nullptr) return OpenSslFailed("fetching HMAC");
  MacCtxPtr ctx(EVP_MAC_CTX_new(HmacAlgorithm()));
  if (!ctx) return OpenSslFailed("HMAC");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(Info(hash).name),
                                       0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_init(ctx.get(), NonNull(key), key.size(), params) != 1) return OpenSslFailed("HMAC");
  for (std::string_view part : parts) {
    if (part.empty()) continue;
    if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()),
                       part.size()) != 1) {
      return OpenSslFailed("HMAC");
    }
  }
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
    return OpenSslFailed("HMAC");
  }
  return OkStatus();
}

}  // namespace

StatusOr<Sha256Digest> HmacSha256(std::span<const uint8_t> key,
                                  std::initializer_list<std::string_view> parts) {
  Sha256Digest out;
  OTPD_RETURN_IF_ERROR(HmacInto(MacHash::kSha256, key, parts, out));
  return out;
}

StatusOr<SecretBytes> Hmac(MacHash hash, std::span<const uint8_t> key,
                           std::span<const uint8_t> data) {
  SecretBytes out(Info(hash).bytes);
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  OTPD_RETURN_IF_ERROR(HmacInto(hash, key, {text}, out.mutable_span()));
  return out;
}

StatusOr<SecretBytes> Pbkdf2(MacHash prf, std::span<const uint8_t> password,
                             std::span<const uint8_t> salt, uint64_t iterations,
                             size_t key_length) {
  if (iterations == 0 || iterations > INT_MAX || key_length == 0 || key_length > 64 ||
      salt.size() > INT_MAX || password.size() > INT_MAX) {
    return InvalidArgumentError("PBKDF2 parameters out of range");
  }
  if (Digest(prf) == nullptr) return OpenSslFailed("fetching the PBKDF2 digest");
  SecretBytes out(key_length);
  if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(NonNull(password)),
                        static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), Digest(prf),
                        static_cast<int>(key_length), out.data()) != 1) {
    return OpenSslFailed("PBKDF2");
  }
  return out;
}

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out{};
  unsigned int len = 0;
  const EVP_MD* md = Digest(MacHash::kSha256);
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) {
    // Only a broken OpenSSL gets here; an all-zero digest then compares equal only to itself.
    ERR_clear_error();
    out.fill(0);
  }
  return out;
}

}  // namespace otpd::base
