#include "base/seal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <cstring>

#include "base/openssl_objects.h"

namespace otpd::base {
namespace {

// AES-256-GCM, fetched from the default provider once per process (OpenSSL 3 pays for every
// implicit fetch). Null when the provider does not offer it.
const EVP_CIPHER* AesGcm() {
  static EVP_CIPHER* const cipher = FetchAlgorithm(EVP_CIPHER_fetch, "AES-256-GCM");
  return cipher;
}

// Turns an OpenSSL failure into a Status. OpenSSL's own messages are dropped with the error queue:
// they say nothing about our inputs a caller could act on, and the queue must not leak into the
// next operation on this thread.
Status OpensslError(std::string_view what) {
  ERR_clear_error();
  return InternalError(std::string("AES-GCM: ") + std::string(what) + " failed");
}

void PutBigEndian32(uint8_t* out, uint32_t v) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Feeds the blob header and the caller's associated data to the GCM context as AAD.
bool AddAad(EVP_CIPHER_CTX* ctx, const uint8_t* header, std::string_view aad, bool encrypt) {
  auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
  int len = 0;
  if (update(ctx, nullptr, &len, header, 5) != 1) return false;
  if (aad.empty()) return true;
  if (aad.size() > INT_MAX) return false;
  return update(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1;
}

}  // namespace

Status RandomBytes(std::span<uint8_t> out) {
  if (out.empty()) return OkStatus();
  if (out.size() > INT_MAX) return InvalidArgumentError("random request too large");
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return OpensslError("random number generation");
  }
  return OkStatus();
}

StatusOr<Sealer> Sealer::Create(SecretBytes key, uint32_t key_version) {
  if (key.size() != kSealKeyBytes) {
    return InvalidArgumentError("sealing key must be 32 bytes, got " + std::to_string(key.size()));
  }
  if (AesGcm() == nullptr) return InternalError("AES-256-GCM is not available from OpenSSL");
  return Sealer(std::make_unique<SecretBytes>(std::move(key)), key_version);
}

StatusOr<std::string> Sealer::Seal(std::span<const uint8_t> plaintext, std::string_view aad) const {
  if (plaintext.size() > INT_MAX - kSealOverheadBytes) {
    return InvalidArgumentError("plaintext too large to seal");
  }
  std::string blob(kSealOverheadBytes + plaintext.size(), '\0');
  auto* out = reinterpret_cast<uint8_t*>(blob.data());
  out[0] = kSealFormatV1;
  PutBigEndian32(out + 1, key_version_);
  uint8_t* nonce = out + 5;
  OTPD_RETURN_IF_ERROR(RandomBytes({nonce, kSealNonceBytes}));

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return OpensslError("context allocation");
  if (EVP_EncryptInit_ex2(ctx.get(), AesGcm(), key_->data(), nonce, nullptr) != 1) {
    return OpensslError("encrypt init");
  }
  if (!AddAad(ctx.get(), out, aad, /*encrypt=*/true)) return OpensslError("encrypt aad");
  uint8_t* ciphertext = out + kSealHeaderBytes;
  int len = 0;
  if (!plaintext.empty() && EVP_EncryptUpdate(ctx.get(), ciphertext, &len, plaintext.data(),
                                              static_cast<int>(plaintext.size())) != 1) {
    return OpensslError("encrypt");
  }
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), ciphertext + len, &final_len) != 1) {
    return OpensslError("encrypt final");
  }
  if (static_cast<size_t>(len + final_len) != plaintext.size())
    return OpensslError("encrypt length");
  uint8_t* tag = ciphertext + plaintext.size();
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kSealTagBytes, tag) != 1) {
    return OpensslError("get tag");
  }
  return blob;
}

StatusOr<SecretBytes> Sealer::Open(std::string_view blob, std::string_view aad) const {
  OTPD_ASSIGN_OR_RETURN(uint32_t version, SealedKeyVersion(blob));
  if (version != key_version_) {
    return FailedPreconditionError("sealed with key version " + std::to_string(version) +
                                   ", this key is version " + std::to_string(key_version_));
  }
  const uint8_t* in = Bytes(blob);
  const uint8_t* nonce = in + 5;
  const uint8_t* ciphertext = in + kSealHeaderBytes;
  size_t ciphertext_len = blob.size() - kSealOverheadBytes;
  // EVP_CTRL_AEAD_SET_TAG takes a non-const pointer; copy the tag rather than cast away const.
  uint8_t tag[kSealTagBytes];
  std::memcpy(tag, ciphertext + ciphertext_len, kSealTagBytes);

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return OpensslError("context allocation");
  if (EVP_DecryptInit_ex2(ctx.get(), AesGcm(), key_->data(), nonce, nullptr) != 1) {
    return OpensslError("decrypt init");
  }
  if (!AddAad(ctx.get(), in, aad, /*encrypt=*/false)) return OpensslError("decrypt aad");
  SecretBytes plaintext(ciphertext_len);
  int len = 0;
  if (ciphertext_len > 0 && EVP_DecryptUpdate(ctx.get(), plaintext.data(), &len, ciphertext,
                                              static_cast<int>(ciphertext_len)) != 1) {
    return OpensslError("decrypt");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kSealTagBytes, tag) != 1) {
    return OpensslError("set tag");
  }
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + len, &final_len) != 1) {
    ERR_clear_error();
    return DataLossError("sealed secret failed authentication (wrong key, moved, or tampered)");
  }
  return plaintext;
}

StatusOr<uint32_t> SealedKeyVersion(std::string_view blob) {
  if (blob.size() < kSealOverheadBytes) return InvalidArgumentError("sealed blob too short");
  const uint8_t* in = Bytes(blob);
  if (in[0] != kSealFormatV1) {
    return InvalidArgumentError("unknown sealed blob format " + std::to_string(in[0]));
  }
  return (uint32_t{in[1]} << 24) | (uint32_t{in[2]} << 16) | (uint32_t{in[3]} << 8) |
         uint32_t{in[4]};
}

StatusOr<std::string> RandomSixDigits() {
  for (;;) {
    uint8_t random[4];
    OTPD_RETURN_IF_ERROR(RandomBytes(random));
    const uint32_t v = (uint32_t{random[0]} << 24) | (uint32_t{random[1]} << 16) |
                       (uint32_t{random[2]} << 8) | random[3];
    Wipe(random, sizeof(random));
    constexpr uint32_t kLimit = 4'294'000'000u;  // a multiple of 10^6: no bias
    if (v >= kLimit) continue;
    std::string code = std::to_string(v % 1'000'000);
    code.insert(0, 6 - code.size(), '0');
    return code;
  }
}

}  // namespace otpd::base
