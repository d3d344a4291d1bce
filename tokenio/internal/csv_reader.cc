#include "tokenio/internal/csv_reader.h"

#include <streambuf>
#include <utility>

#include "base/secret_bytes.h"
#include "tokenio/internal/text.h"

namespace otpd::tokenio::internal {

void WipeString(std::string* text) {
  base::Wipe(text->data(), text->size());
  text->clear();
}

void WipeFields(std::vector<std::string>* fields) {
  for (std::string& f : *fields) WipeString(&f);
  fields->clear();
}

CsvReader::~CsvReader() { WipeString(&record_); }

base::StatusOr<bool> CsvReader::Next() {
  WipeString(&record_);
  std::streambuf* buf = in_.rdbuf();
  if (buf == nullptr || !in_.good()) {
    if (in_.bad()) return base::DataLossError("read error at line " + std::to_string(next_line_));
    return false;
  }
  line_ = next_line_;
  bool in_quotes = false;
  bool comment = false;
  bool leading = true;  // only blanks seen so far on this record
  bool any = false;
  terminated_ = false;
  while (true) {
    int ch = buf->sbumpc();
    if (ch == std::char_traits<char>::eof()) {
      in_.setstate(std::ios::eofbit);
      if (in_quotes) {
        return base::InvalidArgumentError(
            "line " + std::to_string(line_) +
            ": quoted field is not closed before the end of the file");
      }
      break;
    }
    any = true;
    char c = static_cast<char>(ch);
    if (c == '\0') {
      return base::InvalidArgumentError("line " + std::to_string(next_line_) +
                                        " holds a NUL byte: this is not a text file (a binary "
                                        "file, or UTF-16 text: save it as UTF-8)");
    }
    if (c == '\n') {
      ++next_line_;
      if (!in_quotes) {
        terminated_ = true;
        break;
      }
    }
    if (c == '"' && !comment) in_quotes = !in_quotes;
    if (leading && c != ' ' && c != '\t') {
      leading = false;
      comment = comment_ != '\0' && c == comment_;
    }
    if (record_.size() >= kMaxCsvRecordLength) {
      if (in_quotes) {
        return base::InvalidArgumentError("line " + std::to_string(line_) +
                                          ": quoted field is not closed (the row runs on for " +
                                          std::to_string(kMaxCsvRecordLength) + " characters)");
      }
      return base::InvalidArgumentError("line " + std::to_string(line_) + " is longer than " +
                                        std::to_string(kMaxCsvRecordLength) + " characters");
    }
    record_.push_back(c);
  }
  if (!record_.empty() && record_.back() == '\r') record_.pop_back();
  if (first_) {
    first_ = false;
    if (std::string_view(record_).substr(0, kUtf8Bom.size()) == kUtf8Bom) {
      record_.erase(0, kUtf8Bom.size());
    }
  }
  if (in_.bad()) return base::DataLossError("read error at line " + std::to_string(line_));
  return any;
}

base::Status TruncatedError(size_t line) {
  return base::InvalidArgumentError("the file ends in the middle of line " + std::to_string(line) +
                                    " (is it truncated?)");
}

base::Status SplitCsvRecord(std::string_view record, char separator,
                            std::vector<std::string>* fields) {
  WipeFields(fields);
  fields->reserve(8);  // no reallocation leaving unwiped copies behind
  std::string field;
  field.reserve(record.size());
  size_t i = 0;
  while (true) {
    // Leading blanks before an opening quote are tolerated ("a, "b"").
    size_t start = i;
    while (i < record.size() && (record[i] == ' ' || record[i] == '\t') && record[i] != separator)
      ++i;
    if (i < record.size() && record[i] == '"') {
      ++i;
      while (true) {
        if (i >= record.size()) {
          WipeString(&field);
          return base::InvalidArgumentError("quoted field is not closed");
        }
        if (record[i] == '"') {
          if (i + 1 < record.size() && record[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(record[i++]);
      }
      while (i < record.size() && (record[i] == ' ' || record[i] == '\t') && record[i] != separator)
        ++i;
      if (i < record.size() && record[i] != separator) {
        WipeString(&field);
        return base::InvalidArgumentError("text after a closing quote");
      }
    } else {
      i = start;
      while (i < record.size() && record[i] != separator) {
        if (record[i] == '"') {
          WipeString(&field);
          return base::InvalidArgumentError("quote inside an unquoted field");
        }
        field.push_back(record[i++]);
      }
    }
    fields->push_back(field);
    WipeString(&field);
    if (i >= record.size()) break;
    ++i;  // the separator
  }
  return base::OkStatus();
}

char DetectSeparator(std::string_view record) {
  bool in_quotes = false;
  bool tab = false, semicolon = false, comma = false;
  for (char c : record) {
    if (c == '"') in_quotes = !in_quotes;
    if (in_quotes) continue;
    tab |= c == '\t';
    semicolon |= c == ';';
    comma |= c == ',';
  }
  if (tab) return '\t';
  if (semicolon && !comma) return ';';
  return ',';
}

}  // namespace otpd::tokenio::internal
