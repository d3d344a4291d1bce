// The fast path uses OpenSSL's single-block compression functions (SHA1_Transform and friends).
// OpenSSL 3 marks them deprecated in favour of EVP, but EVP offers no way to resume a digest from
// saved chaining values without allocating a context copy per call, which costs more than the
// two compressions themselves. They are confined to this file.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "engine/prepared_key.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

#include "base/secret_bytes.h"

namespace otpd::engine {
namespace {

constexpr size_t kMaxBlock = 128;

size_t BlockSize(HashAlgorithm a) { return a == HashAlgorithm::kSha512 ? 128 : 64; }

void StoreBe32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

void StoreBe64(uint8_t* p, uint64_t v) {
  StoreBe32(p, uint32_t(v >> 32));
  StoreBe32(p + 4, uint32_t(v));
}

// Hashes one pad block from the standard initial state and saves the chaining values.
void PadState(HashAlgorithm a, const uint8_t* block, uint64_t* out) {
  switch (a) {
    case HashAlgorithm::kSha1: {
      SHA_CTX c;
      SHA1_Init(&c);
      SHA1_Transform(&c, block);
      const uint32_t h[5] = {c.h0, c.h1, c.h2, c.h3, c.h4};
      for (int i = 0; i < 5; ++i) out[i] = h[i];
      OPENSSL_cleanse(&c, sizeof(c));
      break;
    }
    case HashAlgorithm::kSha256: {
      SHA256_CTX c;
      SHA256_Init(&c);
      SHA256_Transform(&c, block);
      for (int i = 0; i < 8; ++i) out[i] = c.h[i];
      OPENSSL_cleanse(&c, sizeof(c));
      break;
    }
    case HashAlgorithm::kSha512: {
      SHA512_CTX c;
      SHA512_Init(&c);
      SHA512_Transform(&c, block);
      for (int i = 0; i < 8; ++i) out[i] = c.h[i];
      OPENSSL_cleanse(&c, sizeof(c));
      break;
    }
  }
}

// Runs one final block (already padded) from the saved chaining values `state` and writes the
// digest to `digest`.
void FinishBlock(HashAlgorithm a, const uint64_t* state, const uint8_t* block, uint8_t* digest) {
  switch (a) {
    case HashAlgorithm::kSha1: {
      SHA_CTX c;
      c.h0 = uint32_t(state[0]);
      c.h1 = uint32_t(state[1]);
      c.h2 = uint32_t(state[2]);
      c.h3 = uint32_t(state[3]);
      c.h4 = uint32_t(state[4]);
      SHA1_Transform(&c, block);
      StoreBe32(digest, c.h0);
      StoreBe32(digest + 4, c.h1);
      StoreBe32(digest + 8, c.h2);
      StoreBe32(digest + 12, c.h3);
      StoreBe32(digest + 16, c.h4);
      break;
    }
    case HashAlgorithm::kSha256: {
      SHA256_CTX c;
      for (int i = 0; i < 8; ++i) c.h[i] = uint32_t(state[i]);
      SHA256_Transform(&c, block);
      for (int i = 0; i < 8; ++i) StoreBe32(digest + 4 * i, c.h[i]);
      break;
    }
    case HashAlgorithm::kSha512: {
      SHA512_CTX c;
      for (int i = 0; i < 8; ++i) c.h[i] = state[i];
      SHA512_Transform(&c, block);
      for (int i = 0; i < 8; ++i) StoreBe64(digest + 8 * i, c.h[i]);
      break;
    }
  }
}

// Builds the single padded block for a message of `len` bytes that follows one already-hashed
// block: data, 0x80, zeros, and the total bit length (block + len) big-endian at the end.
void PadFinalBlock(HashAlgorithm a, const uint8_t* data, size_t len, uint8_t* block) {
  size_t bs = BlockSize(a);
  std::memset(block, 0, bs);
  std::memcpy(block, data, len);
  block[len] = 0x80;
  StoreBe64(block + bs - 8, uint64_t(bs + len) * 8);
}

}  // namespace

base::StatusOr<PreparedKey> PreparedKey::Create(HashAlgorithm algorithm,
                                                std::span<const uint8_t> secret) {
  if (secret.empty()) return base::InvalidArgumentError("empty HMAC key");
  const size_t bs = BlockSize(algorithm);
  uint8_t key[kMaxBlock] = {};
  if (secret.size() > bs) {
    switch (algorithm) {
      case HashAlgorithm::kSha1:
        SHA1(secret.data(), secret.size(), key);
        break;
      case HashAlgorithm::kSha256:
        SHA256(secret.data(), secret.size(), key);
        break;
      case HashAlgorithm::kSha512:
        SHA512(secret.data(), secret.size(), key);
        break;
    }
  } else {
    std::memcpy(key, secret.data(), secret.size());
  }
  uint8_t pad[kMaxBlock];
  PreparedKey k;
  k.algorithm_ = algorithm;
  for (size_t i = 0; i < bs; ++i) pad[i] = key[i] ^ 0x36;
  PadState(algorithm, pad, k.inner_);
  for (size_t i = 0; i < bs; ++i) pad[i] = key[i] ^ 0x5c;
  PadState(algorithm, pad, k.outer_);
  base::Wipe(pad, sizeof(pad));
  base::Wipe(key, sizeof(key));
  return k;
}

PreparedKey::PreparedKey(PreparedKey&& other) noexcept : algorithm_(other.algorithm_) {
  std::memcpy(inner_, other.inner_, sizeof(inner_));
  std::memcpy(outer_, other.outer_, sizeof(outer_));
  base::Wipe(other.inner_, sizeof(other.inner_));
  base::Wipe(other.outer_, sizeof(other.outer_));
}

PreparedKey& PreparedKey::operator=(PreparedKey&& other) noexcept {
  if (this != &other) {
    algorithm_ = other.algorithm_;
    std::memcpy(inner_, other.inner_, sizeof(inner_));
    std::memcpy(outer_, other.outer_, sizeof(outer_));
    base::Wipe(other.inner_, sizeof(other.inner_));
    base::Wipe(other.outer_, sizeof(other.outer_));
  }
  return *this;
}

PreparedKey::~PreparedKey() {
  base::Wipe(inner_, sizeof(inner_));
  base::Wipe(outer_, sizeof(outer_));
}

PreparedKey::Scratch::Scratch(HashAlgorithm algorithm) {
  const uint8_t zeros[64] = {};
  PadFinalBlock(algorithm, zeros, 8, inner_block_);
  PadFinalBlock(algorithm, zeros, HashOutputSize(algorithm), outer_block_);
}

PreparedKey::Scratch::~Scratch() {
  base::Wipe(inner_block_, sizeof(inner_block_));
  base::Wipe(outer_block_, sizeof(outer_block_));
  base::Wipe(mac_, sizeof(mac_));
}

void PreparedKey::Mac(uint64_t counter, uint8_t* mac) const {
  Scratch scratch(algorithm_);
  StoreBe64(scratch.inner_block_, counter);
  FinishBlock(algorithm_, inner_, scratch.inner_block_, scratch.outer_block_);
  FinishBlock(algorithm_, outer_, scratch.outer_block_, mac);
}

uint32_t PreparedKey::Truncated(uint64_t counter) const {
  Scratch scratch(algorithm_);
  return Truncated(counter, &scratch);
}

uint32_t PreparedKey::Truncated(uint64_t counter, Scratch* scratch) const {
  // The inner digest lands directly in the outer block, in front of its prepared padding.
  StoreBe64(scratch->inner_block_, counter);
  FinishBlock(algorithm_, inner_, scratch->inner_block_, scratch->outer_block_);
  uint8_t* mac = scratch->mac_;
  FinishBlock(algorithm_, outer_, scratch->outer_block_, mac);
  const size_t offset = mac[HashOutputSize(algorithm_) - 1] & 0x0f;
  return (uint32_t(mac[offset] & 0x7f) << 24) | (uint32_t(mac[offset + 1]) << 16) |
         (uint32_t(mac[offset + 2]) << 8) | uint32_t(mac[offset + 3]);
}

}  // namespace otpd::engine
