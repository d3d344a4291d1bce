#include "tools/token_file.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>

#include "base/codec.h"
#include "tokenio/entra_csv.h"
#include "tokenio/oath_csv.h"

namespace otpd::tools {
namespace {

constexpr size_t kDetectBytes = 4096;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// SHA-256 of the file's bytes (hex), its first bytes for format detection, and whether it holds
// anything but blanks, in one pass.
base::Status Inspect(const std::string& path, std::string* sha256, std::string* head, bool* blank) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::NotFoundError("cannot open the file");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return base::InternalError("cannot start SHA-256");
  }
  *blank = true;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof(buf));
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    const auto size = static_cast<size_t>(n);
    if (head->size() < kDetectBytes) {
      head->append(buf, std::min(kDetectBytes - head->size(), size));
    }
    for (size_t i = 0; *blank && i < size; ++i) *blank = IsBlank(buf[i]);
    if (EVP_DigestUpdate(ctx.get(), buf, size) != 1) return base::InternalError("SHA-256 failed");
  }
  if (in.bad()) return base::UnavailableError("read error");
  uint8_t digest[32];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) {
    return base::InternalError("SHA-256 failed");
  }
  *sha256 = base::HexEncode(std::span<const uint8_t>(digest, len));
  return base::OkStatus();
}

}  // namespace

base::Status CollectingSink::OnToken(tokenio::TokenRecord token) {
  tokens.push_back(std::move(token));
  return base::OkStatus();
}

void CollectingSink::OnError(tokenio::RowError error) { errors.push_back(std::move(error)); }

const char* PositionUnit(tokenio::Format format) {
  return format == tokenio::Format::kPskc ? "KeyPackage" : "line";
}

base::StatusOr<TokenFile> ReadTokenFile(const std::string& path,
                                        const std::optional<tokenio::Format>& format,
                                        const tokenio::PskcSecrets& secrets) {
  TokenFile file;
  std::string head;
  bool blank = true;
  OTPD_RETURN_IF_ERROR(Inspect(path, &file.sha256, &head, &blank));
  // Whatever the format: a parser may accept an empty file as "no tokens", an import may not.
  if (blank) return base::InvalidArgumentError("the file is empty: there is nothing to import");
  if (format) {
    file.format = *format;
  } else {
    OTPD_ASSIGN_OR_RETURN(file.format, tokenio::DetectFormat(head));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::NotFoundError("cannot open the file");
  base::Status parsed;
  switch (file.format) {
    case tokenio::Format::kEntraCsv:
      parsed = tokenio::ParseEntraCsv(in, &file.rows);
      break;
    case tokenio::Format::kOathCsv:
      parsed = tokenio::ParseOathCsv(in, &file.rows);
      break;
    case tokenio::Format::kPskc:
      parsed = tokenio::ParsePskc(in, secrets, &file.rows);
      break;
  }
  OTPD_RETURN_IF_ERROR(parsed);
  if (file.rows.tokens.empty() && file.rows.errors.empty()) {
    return base::InvalidArgumentError(
        "the file holds no tokens (only a header, comments or blank lines)");
  }
  return file;
}

}  // namespace otpd::tools
