#include "server/admin/odata.h"

#include <algorithm>
#include <cctype>
#include <span>

#include "base/codec.h"

namespace otpd::server::admin {
namespace {

constexpr size_t kMaxFilterLength = 1024;
constexpr size_t kMaxClauses = 16;
constexpr size_t kMaxInValues = 64;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as a space in a query). Refuses NUL and, in a path segment, "/".
base::StatusOr<std::string> Decode(std::string_view text, bool query, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return base::InvalidArgumentError("a truncated %-escape in the " + std::string(what));
      }
      const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) {
        return base::InvalidArgumentError("a malformed %-escape in the " + std::string(what));
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      if (!query && c == '/') {
        return base::InvalidArgumentError("an encoded '/' in the " + std::string(what));
      }
    } else if (query && c == '+') {
      c = ' ';
    }
    if (c == '\0') return base::InvalidArgumentError("a NUL byte in the " + std::string(what));
    out.push_back(c);
  }
  return out;
}

class FilterParser {
 public:
  FilterParser(std::string_view text, const std::set<std::string_view>& fields)
      : text_(text), fields_(fields) {}

  base::StatusOr<std::vector<FilterClause>> Parse() {
    std::vector<FilterClause> clauses;
    for (;;) {
      OTPD_ASSIGN_OR_RETURN(FilterClause clause, Clause());
      clauses.push_back(std::move(clause));
      if (clauses.size() > kMaxClauses) return Error("at most 16 clauses");
      SkipSpaces();
      if (pos_ == text_.size()) return clauses;
      if (!Keyword("and")) return Error("expected 'and' or the end of the filter");
    }
  }

 private:
  base::Status Error(std::string_view what) const {
    return base::InvalidArgumentError("$filter, at character " + std::to_string(pos_ + 1) + ": " +
                                      std::string(what));
  }

  void SkipSpaces() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }

  // Consumes `word` when it comes next as a whole word.
  bool Keyword(std::string_view word) {
    SkipSpaces();
    if (text_.substr(pos_, word.size()) != word) return false;
    const size_t end = pos_ + word.size();
    if (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) != 0)) {
      return false;
    }
    pos_ = end;
    return true;
  }

  bool Punct(char c) {
    SkipSpaces();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  base::StatusOr<std::string> Field() {
    SkipSpaces();
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '/')) {
      ++pos_;
    }
    std::string_view name = text_.substr(start, pos_ - start);
    if (name.empty()) return Error("expected a field name");
    if (!fields_.contains(name)) {
      std::string known;
      for (std::string_view f : fields_) known += (known.empty() ? "" : ", ") + std::string(f);
      pos_ = start;
      return Error(name.size() <= 64
                       ? "cannot filter on " + std::string(name) + " (only on " + known + ")"
                       : "cannot filter on that field (only on " + known + ")");
    }
    return std::string(name);
  }

  base::StatusOr<std::string> Literal() {
    SkipSpaces();
    if (pos_ < text_.size() && text_[pos_] == '\'') {
      std::string value;
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size()) return Error("a string that never ends (a missing ')");
        if (text_[pos_] == '\'') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\'') {
            value.push_back('\'');
            pos_ += 2;
            continue;
          }
          ++pos_;
          return value;
        }
        value.push_back(text_[pos_++]);
      }
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0 ||
                                   text_[pos_] == '-' || text_[pos_] == '.')) {
      ++pos_;
    }
    std::string_view word = text_.substr(start, pos_ - start);
    if (word == "true" || word == "false") return std::string(word);
    if (!word.empty() &&
        std::all_of(word.begin() + (word[0] == '-' ? 1 : 0), word.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }) &&
        word != "-") {
      return std::string(word);
    }
    pos_ = start;
    return Error("expected a 'quoted string', true, false or a whole number");
  }

  base::StatusOr<FilterClause> Clause() {
    FilterClause clause;
    if (Keyword("startswith")) {
      if (!Punct('(')) return Error("expected '(' after startswith");
      OTPD_ASSIGN_OR_RETURN(clause.field, Field());
      if (!Punct(',')) return Error("expected ',' in startswith(field,'prefix')");
      OTPD_ASSIGN_OR_RETURN(std::string prefix, Literal());
      if (!Punct(')')) return Error("expected ')' after startswith's prefix");
      clause.op = FilterClause::Op::kStartsWith;
      clause.values.push_back(std::move(prefix));
      return clause;
    }
    OTPD_ASSIGN_OR_RETURN(clause.field, Field());
    if (Keyword("eq")) {
      clause.op = FilterClause::Op::kEq;
      OTPD_ASSIGN_OR_RETURN(std::string value, Literal());
      clause.values.push_back(std::move(value));
      return clause;
    }
    if (Keyword("in")) {
      clause.op = FilterClause::Op::kIn;
      if (!Punct('(')) return Error("expected '(' after in");
      for (;;) {
        OTPD_ASSIGN_OR_RETURN(std::string value, Literal());
        clause.values.push_back(std::move(value));
        if (clause.values.size() > kMaxInValues) return Error("at most 64 values after in");
        if (Punct(')')) return clause;
        if (!Punct(',')) return Error("expected ',' or ')' in the list after in");
      }
    }
    return Error(
        "expected eq or in after the field name (only eq, in and startswith are "
        "supported)");
  }

  std::string_view text_;
  const std::set<std::string_view>& fields_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::string_view> Target::Param(std::string_view name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

namespace {

// $select=a,b: property names (letters and digits, as Graph's are), each once.
base::StatusOr<std::vector<std::string>> ParseSelect(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    const bool word = !name.empty() && name.size() <= 64 &&
                      std::isalpha(static_cast<unsigned char>(name[0])) != 0 &&
                      std::all_of(name.begin(), name.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) != 0;
                      });
    if (!word) {
      return base::InvalidArgumentError(
          "$select must list property names separated by commas, e.g. $select=id,displayName");
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      return base::InvalidArgumentError("$select names " + std::string(name) + " twice");
    }
    if (out.size() == 32)
      return base::InvalidArgumentError("$select names more than 32 properties");
    out.emplace_back(name);
  }
  return out;
}

}  // namespace

base::StatusOr<Target> ParseTarget(std::string_view target) {
  if (target.empty() || target[0] != '/') {
    return base::InvalidArgumentError("the request target must be an absolute path");
  }
  Target out;
  const size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view raw = path.substr(start, slash - start);
    if (!raw.empty()) {
      OTPD_ASSIGN_OR_RETURN(std::string segment, Decode(raw, false, "path"));
      out.segments.push_back(std::move(segment));
    }
    start = slash + 1;
  }
  if (question == std::string_view::npos) return out;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    OTPD_ASSIGN_OR_RETURN(std::string name, Decode(pair.substr(0, eq), true, "query"));
    std::string value;
    if (eq != std::string_view::npos) {
      OTPD_ASSIGN_OR_RETURN(value, Decode(pair.substr(eq + 1), true, "query"));
    }
    if (name == "$select") {
      if (!out.select.empty()) return base::InvalidArgumentError("$select is given twice");
      OTPD_ASSIGN_OR_RETURN(out.select, ParseSelect(value));
      if (out.select.empty()) return base::InvalidArgumentError("$select names no property");
      continue;
    }
    if (!out.query.emplace(name, std::move(value)).second) {
      return base::InvalidArgumentError(name.size() <= 64
                                            ? "the query parameter " + name + " is given twice"
                                            : std::string("a query parameter is given twice"));
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool FilterClause::Matches(std::string_view value) const {
  switch (op) {
    case Op::kEq:
    case Op::kIn:
      return std::find(values.begin(), values.end(), value) != values.end();
    case Op::kStartsWith:
      return value.substr(0, values.front().size()) == values.front();
  }
  return false;
}

base::StatusOr<std::vector<FilterClause>> ParseFilter(std::string_view text,
                                                      const std::set<std::string_view>& fields) {
  if (text.size() > kMaxFilterLength) {
    return base::InvalidArgumentError("$filter is longer than 1024 characters");
  }
  if (fields.empty()) return base::InvalidArgumentError("this list cannot be filtered");
  return FilterParser(text, fields).Parse();
}

std::vector<const FilterClause*> ClausesOn(const std::vector<FilterClause>& filter,
                                           std::string_view field) {
  std::vector<const FilterClause*> out;
  for (const FilterClause& c : filter) {
    if (c.field == field) out.push_back(&c);
  }
  return out;
}

base::StatusOr<Paging> ReadPaging(const Target& target, const std::set<std::string_view>& fields,
                                  const std::set<std::string_view>& allowed_params) {
  Paging paging;
  for (const auto& [name, value] : target.query) {
    if (name == "$top") {
      uint32_t top = 0;
      bool digits = !value.empty() && value.size() <= 4 &&
                    std::all_of(value.begin(), value.end(),
                                [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      if (digits) top = static_cast<uint32_t>(std::stoul(value));
      if (!digits || top < 1 || top > 999) {
        return base::InvalidArgumentError("$top must be a number from 1 to 999");
      }
      paging.top = top;
    } else if (name == "$skiptoken") {
      OTPD_ASSIGN_OR_RETURN(paging.after, DecodeSkipToken(value));
    } else if (name == "$filter") {
      OTPD_ASSIGN_OR_RETURN(paging.filter, ParseFilter(value, fields));
    } else if (!allowed_params.contains(name)) {
      return base::InvalidArgumentError(name.size() <= 64
                                            ? "the query option " + name + " is not supported here"
                                            : std::string("a query option is not supported here"));
    }
  }
  return paging;
}

std::string EncodeSkipToken(std::string_view key) {
  return base::HexEncode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
}

base::StatusOr<std::string> DecodeSkipToken(std::string_view token) {
  auto bytes = base::HexDecode(token);
  if (!bytes.ok() || token.size() > 2048) {
    return base::InvalidArgumentError("$skiptoken is not one this server gave out");
  }
  return std::string(bytes->view());
}

}  // namespace otpd::server::admin
