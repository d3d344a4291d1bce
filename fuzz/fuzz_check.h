// Shared helpers for the libFuzzer targets: a TokenSink that checks the invariants every parser
// promises for what it accepts, and a crash-on-violation check that libFuzzer reports.
//
// A violated invariant calls __builtin_trap(), which libFuzzer records as a crash with its input.

#ifndef OTPD_FUZZ_FUZZ_CHECK_H_
#define OTPD_FUZZ_FUZZ_CHECK_H_

#include <set>
#include <string>

#include "tokenio/token_record.h"

// The entry point's name: libFuzzer's by default; tests/hardening compiles each target with its
// own name so that one test binary can replay every corpus.
#ifndef OTPD_FUZZ_ENTRY
#define OTPD_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

namespace otpd::fuzz {

inline void Check(bool condition) {
  if (!condition) __builtin_trap();
}

// Accepts every token after checking what token_record.h promises: a non-empty serial unique in
// the file, a seed of at least 16 bytes, parameters that validate, a lower-case upn.
class CheckingSink : public tokenio::TokenSink {
 public:
  base::Status OnToken(tokenio::TokenRecord token) override {
    Check(!token.serial.empty());
    Check(serials_.insert(token.serial).second);
    Check(token.seed.size() >= 16);
    Check(token.params.Validate().ok());
    for (char c : token.upn) Check(!(c >= 'A' && c <= 'Z'));
    ++tokens_;
    return base::OkStatus();
  }
  void OnError(tokenio::RowError error) override {
    Check(!error.reason.empty());
    ++errors_;
  }
  size_t tokens() const { return tokens_; }

 private:
  std::set<std::string> serials_;
  size_t tokens_ = 0;
  size_t errors_ = 0;
};

}  // namespace otpd::fuzz

#endif  // OTPD_FUZZ_FUZZ_CHECK_H_
