// SecretBytes owns key material: seeds, data keys, passwords on their way to a hash. It is
// move-only, wipes its memory with OPENSSL_cleanse when destroyed or cleared, and prints as
// "<redacted>" (also inside GoogleTest failure messages), so a secret cannot leak through a log
// line or an assertion by accident.
//
// Thread-safety: as for std::vector; no internal locking.

#ifndef OTPD_BASE_SECRET_BYTES_H_
#define OTPD_BASE_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>
#include <string_view>

namespace otpd::base {

class SecretBytes {
 public:
  SecretBytes() = default;
  // Zero-filled secret of `size` bytes, to be written through data().
  explicit SecretBytes(size_t size);
  // Copies `bytes`; the caller remains responsible for wiping its own copy.
  explicit SecretBytes(std::span<const uint8_t> bytes);
  // Copies the bytes of `text` (a password, say).
  static SecretBytes FromString(std::string_view text);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  // An explicit copy, so that every duplication of a secret is visible in the code.
  SecretBytes Clone() const { return SecretBytes(span()); }

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  std::span<uint8_t> mutable_span() { return {data_, size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }

  // Shrinks to `size` bytes (<= size()), wiping the bytes dropped.
  void Truncate(size_t size);
  // Wipes and releases the memory.
  void Clear();

  // Constant-time comparison of contents (the lengths are not secret).
  bool Equals(const SecretBytes& other) const;

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

std::ostream& operator<<(std::ostream& os, const SecretBytes&);
// GoogleTest uses PrintTo when it prints a value in a failure message.
void PrintTo(const SecretBytes&, std::ostream* os);

// Wipes any buffer with OPENSSL_cleanse (which the optimiser may not remove).
void Wipe(void* data, size_t size);

}  // namespace otpd::base

#endif  // OTPD_BASE_SECRET_BYTES_H_
