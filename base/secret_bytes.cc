#include "base/secret_bytes.h"

#include <openssl/crypto.h>

#include <cstring>
#include <new>

#include "base/constant_time.h"

namespace otpd::base {

SecretBytes::SecretBytes(size_t size) : data_(size ? new uint8_t[size]() : nullptr), size_(size) {}

SecretBytes::SecretBytes(std::span<const uint8_t> bytes) : SecretBytes(bytes.size()) {
  if (size_) std::memcpy(data_, bytes.data(), size_);
}

SecretBytes SecretBytes::FromString(std::string_view text) {
  return SecretBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Clear();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { Clear(); }

void SecretBytes::Truncate(size_t size) {
  if (size >= size_) return;
  Wipe(data_ + size, size_ - size);
  size_ = size;
}

void SecretBytes::Clear() {
  if (data_ != nullptr) {
    // size_ may have been truncated; the dropped tail was wiped at that time.
    Wipe(data_, size_);
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  return ConstantTimeEquals(span(), other.span());
}

std::ostream& operator<<(std::ostream& os, const SecretBytes&) { return os << "<redacted>"; }

void PrintTo(const SecretBytes&, std::ostream* os) { *os << "<redacted>"; }

void Wipe(void* data, size_t size) {
  if (data != nullptr && size != 0) OPENSSL_cleanse(data, size);
}

}  // namespace otpd::base
