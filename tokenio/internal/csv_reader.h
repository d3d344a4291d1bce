// Reads CSV text (RFC 4180) record by record from a stream: a record is one line, unless a
// quoted field spans several. Splitting a record into fields is separate (SplitCsvRecord) so a
// caller can detect the separator from the first record before splitting it.
//
// Seeds travel through these buffers, so the reader wipes its buffers before reusing or
// releasing them, and callers wipe the fields they split (WipeFields).
//
// Thread-safety: none.

#ifndef OTPD_TOKENIO_INTERNAL_CSV_READER_H_
#define OTPD_TOKENIO_INTERNAL_CSV_READER_H_

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"

namespace otpd::tokenio::internal {

inline constexpr size_t kMaxCsvRecordLength = 64 * 1024;

class CsvReader {
 public:
  // `comment` (e.g. '#'): a record whose first non-blank character is this is one line long
  // whatever quotes it holds; '\0' for none. The stream must outlive the reader.
  explicit CsvReader(std::istream& in, char comment = '\0') : in_(in), comment_(comment) {}
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into record(): true when one was read, false at the end of the input.
  // A UTF-8 byte order mark before the first record is dropped, as is the line ending
  // (LF or CRLF). Errors (file-level): I/O failure, a record longer than kMaxCsvRecordLength,
  // a quoted field left open at the end of the file, a NUL byte (not a text file).
  base::StatusOr<bool> Next();

  std::string_view record() const { return record_; }
  // The 1-based line the current record starts on.
  size_t line() const { return line_; }
  // False when the current record is the last one and no line break ends it: if it is also
  // malformed, the file was most likely cut short (TruncatedError).
  bool terminated() const { return terminated_; }

 private:
  std::istream& in_;
  char comment_;
  std::string record_;
  size_t line_ = 0;
  size_t next_line_ = 1;
  bool first_ = true;
  bool terminated_ = true;
};

// The file error for a malformed last record without a line break: "the file ends in the middle
// of line N (is it truncated?)".
base::Status TruncatedError(size_t line);

// Splits `record` at `separator` outside double quotes; quoted fields lose their quotes and
// have "" turned into ". Unquoted fields keep their spaces (callers trim). InvalidArgument for a
// quote inside an unquoted field or text after a closing quote.
base::Status SplitCsvRecord(std::string_view record, char separator,
                            std::vector<std::string>* fields);

// Wipes and clears fields that may have held a seed.
void WipeFields(std::vector<std::string>* fields);
void WipeString(std::string* text);

// Chooses the separator of a record: TAB if it has one outside quotes, else ';' if it has one
// and no ',', else ','.
char DetectSeparator(std::string_view record);

}  // namespace otpd::tokenio::internal

#endif  // OTPD_TOKENIO_INTERNAL_CSV_READER_H_
