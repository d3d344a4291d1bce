#include "tokenio/internal/crypto.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <climits>

#include "base/mac.h"
#include "base/openssl_objects.h"
#include "base/seal.h"
#include "tokenio/internal/text.h"

namespace otpd::tokenio::internal {

namespace {

// Every cipher this file uses, fetched once (OpenSSL 3 pays for every implicit fetch). The HMAC
// and PBKDF2 digests live in base/mac.cc.
struct Algorithms {
  EVP_CIPHER* cbc[3];
  EVP_CIPHER* wrap[3];
  EVP_CIPHER* wrap_pad[3];

  Algorithms() {
    static const char* kCbc[] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
    static const char* kWrap[] = {"AES-128-WRAP", "AES-192-WRAP", "AES-256-WRAP"};
    static const char* kWrapPad[] = {"AES-128-WRAP-PAD", "AES-192-WRAP-PAD", "AES-256-WRAP-PAD"};
    for (int i = 0; i < 3; ++i) {
      cbc[i] = base::FetchAlgorithm(EVP_CIPHER_fetch, kCbc[i]);
      wrap[i] = base::FetchAlgorithm(EVP_CIPHER_fetch, kWrap[i]);
      wrap_pad[i] = base::FetchAlgorithm(EVP_CIPHER_fetch, kWrapPad[i]);
    }
  }
};

const Algorithms& Algs() {
  static const Algorithms* algs = new Algorithms();  // lives for the process
  return *algs;
}

int KeyIndex(size_t key_size) { return key_size == 16 ? 0 : key_size == 24 ? 1 : 2; }

const EVP_CIPHER* CipherFor(const Cipher& c) {
  int i = KeyIndex(c.key_size);
  switch (c.mode) {
    case CipherMode::kCbc:
      return Algs().cbc[i];
    case CipherMode::kKeyWrap:
      return Algs().wrap[i];
    case CipherMode::kKeyWrapPad:
      return Algs().wrap_pad[i];
  }
  return nullptr;
}

base::MacHash MacHashOf(engine::HashAlgorithm h) {
  switch (h) {
    case engine::HashAlgorithm::kSha1:
      return base::MacHash::kSha1;
    case engine::HashAlgorithm::kSha256:
      return base::MacHash::kSha256;
    case engine::HashAlgorithm::kSha512:
      return base::MacHash::kSha512;
  }
  return base::MacHash::kSha1;
}

base::Status OpenSslError(std::string_view what) {
  ERR_clear_error();
  return base::InternalError(std::string(what) + " failed in OpenSSL");
}

base::Status DecryptionFailed() {
  ERR_clear_error();
  return base::InvalidArgumentError("decryption failed");
}

constexpr size_t kBlock = 16;

}  // namespace

base::StatusOr<Cipher> ParseCipherUri(std::string_view uri) {
  std::string_view name = Trim(uri);
  size_t hash = name.rfind('#');
  if (hash != std::string_view::npos) name.remove_prefix(hash + 1);
  std::string n = ToLower(name);
  for (size_t bits : {128, 192, 256}) {
    std::string b = std::to_string(bits);
    Cipher c;
    c.key_size = bits / 8;
    if (n == "aes" + b + "-cbc") return c;
    c.mode = CipherMode::kKeyWrap;
    if (n == "kw-aes" + b) return c;
    c.mode = CipherMode::kKeyWrapPad;
    if (n == "kw-aes" + b + "-pad" || n == "kw-aes-" + b + "-pad") return c;
  }
  return base::InvalidArgumentError(
      "unsupported encryption algorithm in EncryptionMethod (supported: aes128/192/256-cbc, "
      "kw-aes128/192/256, kw-aes128/192/256-pad)");
}

std::string CipherName(const Cipher& cipher) {
  std::string bits = std::to_string(cipher.key_size * 8);
  switch (cipher.mode) {
    case CipherMode::kCbc:
      return "aes" + bits + "-cbc";
    case CipherMode::kKeyWrap:
      return "kw-aes" + bits;
    case CipherMode::kKeyWrapPad:
      return "kw-aes" + bits + "-pad";
  }
  return "";
}

std::string CipherUri(const Cipher& cipher) {
  std::string ns(cipher.mode == CipherMode::kKeyWrapPad ? kXmlEnc11Ns : kXmlEncNs);
  return ns + CipherName(cipher);
}

base::StatusOr<base::SecretBytes> Decrypt(const Cipher& cipher, const base::SecretBytes& key,
                                          std::span<const uint8_t> data) {
  if (key.size() != cipher.key_size) return DecryptionFailed();
  const EVP_CIPHER* evp = CipherFor(cipher);
  if (evp == nullptr) return OpenSslError("fetching the cipher");
  std::span<const uint8_t> iv;
  std::span<const uint8_t> body = data;
  if (cipher.mode == CipherMode::kCbc) {
    if (data.size() < 2 * kBlock || data.size() % kBlock != 0) return DecryptionFailed();
    iv = data.first(kBlock);
    body = data.subspan(kBlock);
  } else if (data.size() < 16 || data.size() % 8 != 0 || data.size() > INT_MAX) {
    return DecryptionFailed();
  }
  base::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return OpenSslError("creating a cipher context");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_DecryptInit_ex2(ctx.get(), evp, key.data(), iv.empty() ? nullptr : iv.data(), nullptr) !=
      1) {
    return DecryptionFailed();
  }
  base::SecretBytes out(body.size() + kBlock);
  int len = 0, final_len = 0;
  if (EVP_DecryptUpdate(ctx.get(), out.data(), &len, body.data(), static_cast<int>(body.size())) !=
          1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &final_len) != 1) {
    return DecryptionFailed();
  }
  out.Truncate(static_cast<size_t>(len + final_len));
  return out;
}

base::StatusOr<std::vector<uint8_t>> Encrypt(const Cipher& cipher, const base::SecretBytes& key,
                                             std::span<const uint8_t> plaintext) {
  if (key.size() != cipher.key_size) {
    return base::InvalidArgumentError("the key for " + CipherName(cipher) + " must be " +
                                      std::to_string(cipher.key_size) + " bytes");
  }
  if (cipher.mode == CipherMode::kKeyWrap && (plaintext.size() < 16 || plaintext.size() % 8)) {
    return base::InvalidArgumentError(CipherName(cipher) +
                                      " needs a multiple of 8 bytes, at least 16; use " +
                                      CipherName({CipherMode::kKeyWrapPad, cipher.key_size}));
  }
  const EVP_CIPHER* evp = CipherFor(cipher);
  if (evp == nullptr) return OpenSslError("fetching the cipher");
  std::vector<uint8_t> out;
  uint8_t iv[kBlock];
  if (cipher.mode == CipherMode::kCbc) {
    OTPD_RETURN_IF_ERROR(base::RandomBytes(iv));
    out.assign(iv, iv + kBlock);
  }
  size_t prefix = out.size();
  out.resize(prefix + plaintext.size() + 2 * kBlock);
  base::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return OpenSslError("creating a cipher context");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  int len = 0, final_len = 0;
  if (EVP_EncryptInit_ex2(ctx.get(), evp, key.data(),
                          cipher.mode == CipherMode::kCbc ? iv : nullptr, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data() + prefix, &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + prefix + len, &final_len) != 1) {
    return OpenSslError("encryption");
  }
  out.resize(prefix + static_cast<size_t>(len + final_len));
  return out;
}

base::StatusOr<engine::HashAlgorithm> ParseMacUri(std::string_view uri) {
  std::string_view name = Trim(uri);
  size_t hash = name.rfind('#');
  if (hash != std::string_view::npos) name.remove_prefix(hash + 1);
  std::string n = ToLower(name);
  if (n == "hmac-sha1" || n == "hmac-sha-1") return engine::HashAlgorithm::kSha1;
  if (n == "hmac-sha256" || n == "hmac-sha-256") return engine::HashAlgorithm::kSha256;
  if (n == "hmac-sha512" || n == "hmac-sha-512") return engine::HashAlgorithm::kSha512;
  return base::InvalidArgumentError(
      "unsupported MAC algorithm (supported: hmac-sha1, hmac-sha256, hmac-sha512)");
}

std::string MacUri(engine::HashAlgorithm hash) {
  switch (hash) {
    case engine::HashAlgorithm::kSha1:
      return "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
    case engine::HashAlgorithm::kSha256:
      return "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";
    case engine::HashAlgorithm::kSha512:
      return "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512";
  }
  return "";
}

base::StatusOr<base::SecretBytes> Hmac(engine::HashAlgorithm hash, const base::SecretBytes& key,
                                       std::span<const uint8_t> data) {
  return base::Hmac(MacHashOf(hash), key.span(), data);
}

base::StatusOr<base::SecretBytes> Pbkdf2(engine::HashAlgorithm prf,
                                         const base::SecretBytes& password,
                                         std::span<const uint8_t> salt, uint64_t iterations,
                                         size_t key_length) {
  return base::Pbkdf2(MacHashOf(prf), password.span(), salt, iterations, key_length);
}

}  // namespace otpd::tokenio::internal
