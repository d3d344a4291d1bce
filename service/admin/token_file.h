// Reading a whole token file before anything is stored: the file's hash, its format, and every
// token and rejected row it holds, in memory. An import then stores either the file's good rows
// or, when the file as a whole cannot be read (truncated, broken quoting, malformed XML, a wrong
// key), nothing at all.

#ifndef OTPD_SERVICE_ADMIN_TOKEN_FILE_H_
#define OTPD_SERVICE_ADMIN_TOKEN_FILE_H_

#include <optional>
#include <string>
#include <vector>

#include "base/statusor.h"
#include "tokenio/pskc.h"
#include "tokenio/token_record.h"

namespace otpd::service {

// A TokenSink that keeps what it is given, in the order given.
class CollectingSink final : public tokenio::TokenSink {
 public:
  base::Status OnToken(tokenio::TokenRecord token) override;
  void OnError(tokenio::RowError error) override;

  std::vector<tokenio::TokenRecord> tokens;
  std::vector<tokenio::RowError> errors;
};

struct TokenFile {
  std::string sha256;  // of the file's bytes, hex
  tokenio::Format format = tokenio::Format::kEntraCsv;
  CollectingSink rows;
};

// Parses `bytes` (a token file received whole, e.g. an HTTP request body), as ReadTokenFile.
base::StatusOr<TokenFile> ParseTokenBytes(std::string_view bytes,
                                          const std::optional<tokenio::Format>& format,
                                          const tokenio::PskcSecrets& secrets);

// Reads `path` whole. `format` empty: detected from the file's first bytes. Errors (the file as
// a whole, nothing of it usable): the file cannot be read; it is empty or blank; the format is
// not recognised; the parser's file errors (see tokenio/*.h). Messages name positions and
// reasons, never a value from the file; they do not name the path (the caller adds it).
base::StatusOr<TokenFile> ReadTokenFile(const std::string& path,
                                        const std::optional<tokenio::Format>& format,
                                        const tokenio::PskcSecrets& secrets);

// Feeds `importer` the file's rows in file order, as a streaming parse would have. The rows are
// moved out of `file`.
class Importer;
base::Status FeedImporter(TokenFile& file, Importer& importer);

// "line" for the CSV formats, "KeyPackage" for PSKC: what a row position counts.
const char* PositionUnit(tokenio::Format format);

}  // namespace otpd::service

#endif  // OTPD_SERVICE_ADMIN_TOKEN_FILE_H_
