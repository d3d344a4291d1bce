#include "tests/tokenio/test_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace otpd::tokenio::testing {

base::Status CollectingSink::OnToken(TokenRecord token) {
  tokens.push_back(std::move(token));
  if (stop_after && tokens.size() >= *stop_after) return base::CancelledError("sink stopped");
  return base::OkStatus();
}

const TokenRecord* CollectingSink::Token(std::string_view serial) const {
  for (const TokenRecord& t : tokens) {
    if (t.serial == serial) return &t;
  }
  return nullptr;
}

const RowError* CollectingSink::ErrorAt(size_t position) const {
  for (const RowError& e : errors) {
    if (e.position == position) return &e;
  }
  return nullptr;
}

std::string FixturePath(std::string_view name) { return "fixtures/tokenio/" + std::string(name); }

std::string ReadFixture(std::string_view name) {
  std::ifstream in(FixturePath(name), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name << " (tests run from the repo root)";
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

base::SecretBytes Bytes(std::string_view text) { return base::SecretBytes::FromString(text); }

bool SeedIs(const base::SecretBytes& seed, std::string_view ascii) { return seed.view() == ascii; }

void ExpectNoSecrets(const CollectingSink& sink, const base::Status& status) {
  // ASCII, hex, base32 (both cases) and base64 of the seeds' common prefix; the PSK; the password.
  static const char* kNeedles[] = {"1234567890", "3132333435", "GEZDGNBV",        "gezdgnbv",
                                   "MTIzNDU2",   "qwerty",     "1234567890123456"};
  std::vector<std::string> texts;
  for (const RowError& e : sink.errors) texts.push_back(e.reason);
  for (const TokenRecord& t : sink.tokens)
    texts.insert(texts.end(), t.warnings.begin(), t.warnings.end());
  texts.emplace_back(status.message());
  for (const std::string& text : texts) {
    for (const char* needle : kNeedles) {
      EXPECT_EQ(text.find(needle), std::string::npos) << "secret material in message: " << text;
    }
  }
}

}  // namespace otpd::tokenio::testing
