// OpenSSL objects as base/ holds them: owning pointers for the contexts made per call (cipher, MAC,
// digest and KDF), so every file frees them the same way and none defines its own deleter; and
// the fetch of an algorithm object, done once per process by the caller's function-local static
// (OpenSSL 3 pays for every implicit fetch).
//
// Thread-safety: contexts as std::unique_ptr, each used by one thread at a time; fetched
// algorithm objects are immutable and shared by all threads.

#ifndef OTPD_BASE_OPENSSL_OBJECTS_H_
#define OTPD_BASE_OPENSSL_OBJECTS_H_

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <openssl/err.h>

#include <memory>

namespace otpd::base {

// Calls OpenSSL's `Free` for T; nullptr is allowed, as every OpenSSL free function accepts it.
template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};

using CipherCtxPtr =
    std::unique_ptr<EVP_CIPHER_CTX, OpenSslDeleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OpenSslDeleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, OpenSslDeleter<EVP_KDF_CTX, EVP_KDF_CTX_free>>;

// `fetch(nullptr, name, nullptr)` from the default provider, e.g.
//   static EVP_MAC* const mac = FetchAlgorithm(EVP_MAC_fetch, "HMAC");
// Null when the provider does not offer it; a failed fetch leaves nothing on this thread's error
// queue. The object lives for the process.
template <typename T>
T* FetchAlgorithm(T* (*fetch)(OSSL_LIB_CTX*, const char*, const char*), const char* name) {
  T* algorithm = fetch(nullptr, name, nullptr);
  ERR_clear_error();
  return algorithm;
}

}  // namespace otpd::base

#endif  // OTPD_BASE_OPENSSL_OBJECTS_H_
