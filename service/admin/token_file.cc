#include "service/admin/token_file.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "base/codec.h"
#include "base/mac.h"
#include "base/openssl_objects.h"
#include "service/admin/importer.h"
#include "tokenio/entra_csv.h"
#include "tokenio/oath_csv.h"

namespace otpd::service {
namespace {

constexpr size_t kDetectBytes = 4096;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// SHA-256 of the file's bytes (hex), its first bytes for format detection, and whether it holds
// anything but blanks, in one pass.
base::Status Inspect(const std::string& path, std::string* sha256, std::string* head, bool* blank) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::NotFoundError("cannot open the file");
  base::MdCtxPtr ctx(EVP_MD_CTX_new());
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

namespace {

base::StatusOr<TokenFile> Parse(std::istream& in, std::string sha256, std::string_view head,
                                bool blank, const std::optional<tokenio::Format>& format,
                                const tokenio::PskcSecrets& secrets) {
  TokenFile file;
  file.sha256 = std::move(sha256);
  // Whatever the format: a parser may accept an empty file as "no tokens", an import may not.
  if (blank) return base::InvalidArgumentError("the file is empty: there is nothing to import");
  if (format) {
    file.format = *format;
  } else {
    OTPD_ASSIGN_OR_RETURN(file.format, tokenio::DetectFormat(head));
  }
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

}  // namespace

base::StatusOr<TokenFile> ReadTokenFile(const std::string& path,
                                        const std::optional<tokenio::Format>& format,
                                        const tokenio::PskcSecrets& secrets) {
  std::string sha256;
  std::string head;
  bool blank = true;
  OTPD_RETURN_IF_ERROR(Inspect(path, &sha256, &head, &blank));
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::NotFoundError("cannot open the file");
  return Parse(in, std::move(sha256), head, blank, format, secrets);
}

base::StatusOr<TokenFile> ParseTokenBytes(std::string_view bytes,
                                          const std::optional<tokenio::Format>& format,
                                          const tokenio::PskcSecrets& secrets) {
  const bool blank = std::all_of(bytes.begin(), bytes.end(), IsBlank);
  std::string sha256 = base::HexEncode(base::Sha256(bytes));
  std::istringstream in{std::string(bytes)};
  return Parse(in, std::move(sha256), bytes.substr(0, kDetectBytes), blank, format, secrets);
}

base::Status FeedImporter(TokenFile& file, Importer& importer) {
  auto& tokens = file.rows.tokens;
  auto& errors = file.rows.errors;
  size_t t = 0, e = 0;
  while (t < tokens.size() || e < errors.size()) {
    if (e == errors.size() || (t < tokens.size() && tokens[t].position < errors[e].position)) {
      OTPD_RETURN_IF_ERROR(importer.OnToken(std::move(tokens[t++])));
    } else {
      importer.OnError(std::move(errors[e++]));
    }
  }
  return base::OkStatus();
}

}  // namespace otpd::service
