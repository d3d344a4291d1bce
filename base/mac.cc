#include "base/mac.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

namespace otpd::base {
namespace {

// Fetched from the default provider once (OpenSSL 3 pays for every implicit fetch). Null when the
// provider does not offer it.
EVP_MAC* Hmac() {
  static EVP_MAC* const mac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    ERR_clear_error();
    return m;
  }();
  return mac;
}

const EVP_MD* Sha256Md() {
  static EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    ERR_clear_error();
    return m;
  }();
  return md;
}

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

Status HmacError() {
  ERR_clear_error();
  return InternalError("HMAC-SHA256 failed");
}

}  // namespace

StatusOr<Sha256Digest> HmacSha256(std::span<const uint8_t> key,
                                  std::initializer_list<std::string_view> parts) {
  if (Hmac() == nullptr) return HmacError();
  std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(Hmac()));
  if (!ctx) return HmacError();
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) return HmacError();
  for (std::string_view part : parts) {
    if (part.empty()) continue;
    if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()),
                       part.size()) != 1) {
      return HmacError();
    }
  }
  Sha256Digest out;
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
    return HmacError();
  }
  return out;
}

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out{};
  unsigned int len = 0;
  if (Sha256Md() == nullptr ||
      EVP_Digest(data.data(), data.size(), out.data(), &len, Sha256Md(), nullptr) != 1) {
    // Only a broken OpenSSL gets here; an all-zero digest then compares equal only to itself.
    ERR_clear_error();
    out.fill(0);
  }
  return out;
}

}  // namespace otpd::base
