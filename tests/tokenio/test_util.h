// Helpers for the tokenio tests: a sink that collects what a parser reports, fixture access,
// the known test seeds, and a check that no secret leaks into a message.

#ifndef OTPD_TESTS_TOKENIO_TEST_UTIL_H_
#define OTPD_TESTS_TOKENIO_TEST_UTIL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"
#include "base/status.h"
#include "tokenio/token_record.h"

namespace otpd::tokenio::testing {

// RFC 4226 / RFC 6238 seeds.
inline constexpr std::string_view kSeed20 = "12345678901234567890";
inline constexpr std::string_view kSeed32 = "12345678901234567890123456789012";
inline constexpr std::string_view kSeed64 =
    "1234567890123456789012345678901234567890123456789012345678901234";

class CollectingSink : public TokenSink {
 public:
  base::Status OnToken(TokenRecord token) override;
  void OnError(RowError error) override { errors.push_back(std::move(error)); }

  // The token with this serial, or nullptr.
  const TokenRecord* Token(std::string_view serial) const;
  // The error at this position, or nullptr.
  const RowError* ErrorAt(size_t position) const;

  std::vector<TokenRecord> tokens;
  std::vector<RowError> errors;
  // When set, OnToken returns Cancelled once this many tokens were received.
  std::optional<size_t> stop_after;
};

std::string FixturePath(std::string_view name);
std::string ReadFixture(std::string_view name);
base::SecretBytes Bytes(std::string_view text);
bool SeedIs(const base::SecretBytes& seed, std::string_view ascii);

// Fails the current test if any RowError reason, warning or `status` message contains one of the
// encodings of the test seeds, the test pre-shared key or the test password.
void ExpectNoSecrets(const CollectingSink& sink, const base::Status& status);

}  // namespace otpd::tokenio::testing

#endif  // OTPD_TESTS_TOKENIO_TEST_UTIL_H_
