// A growable text buffer for secret character data (a base64 PlainValue arriving from the XML
// parser in pieces). Every buffer it gives up is wiped, unlike std::string's reallocation.

#ifndef OTPD_TOKENIO_INTERNAL_SECRET_TEXT_H_
#define OTPD_TOKENIO_INTERNAL_SECRET_TEXT_H_

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

#include "base/secret_bytes.h"

namespace otpd::tokenio::internal {

class SecretText {
 public:
  void Append(std::string_view text) {
    if (size_ + text.size() > buf_.size()) {
      base::SecretBytes bigger(std::max(buf_.size() * 2, size_ + text.size() + 64));
      if (size_ > 0) std::memcpy(bigger.data(), buf_.data(), size_);
      buf_ = std::move(bigger);  // the old buffer is wiped on destruction
    }
    if (!text.empty()) std::memcpy(buf_.data() + size_, text.data(), text.size());
    size_ += text.size();
  }
  std::string_view view() const { return buf_.view().substr(0, size_); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear() {
    base::Wipe(buf_.data(), size_);
    size_ = 0;
  }

 private:
  base::SecretBytes buf_;
  size_t size_ = 0;
};

}  // namespace otpd::tokenio::internal

#endif  // OTPD_TOKENIO_INTERNAL_SECRET_TEXT_H_
