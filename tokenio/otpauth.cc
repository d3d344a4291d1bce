#include "tokenio/otpauth.h"

#include <optional>
#include <utility>

#include "base/codec.h"
#include "tokenio/internal/csv_reader.h"
#include "tokenio/internal/record_checker.h"
#include "tokenio/internal/secret_text.h"
#include "tokenio/internal/text.h"

namespace otpd::tokenio {

namespace {

constexpr std::string_view kScheme = "otpauth://";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `text`; '+' becomes a space when `plus_is_space`.
std::optional<std::string> Unescape(std::string_view text, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = HexDigit(text[i + 1]), lo = HexDigit(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
  }
  return out;
}

void AppendEscaped(std::string_view text, bool keep_at, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~' || (keep_at && c == '@');
    if (unreserved) {
      out->push_back(c);
    } else {
      unsigned char u = static_cast<unsigned char>(c);
      out->push_back('%');
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    }
  }
}

base::Status ParseLabel(std::string_view raw, OtpauthKey* key) {
  std::optional<std::string> label = Unescape(raw, false);
  if (!label) return base::InvalidArgumentError("label has a malformed percent-escape");
  std::string_view l = *label;
  size_t colon = l.find(':');
  if (colon != std::string_view::npos) {
    key->issuer = std::string(internal::Trim(l.substr(0, colon)));
    l.remove_prefix(colon + 1);
  }
  key->account = std::string(internal::Trim(l));
  if (key->account.empty()) return base::InvalidArgumentError("label has no account name");
  return base::OkStatus();
}

// Applies one query parameter; the secret is decoded straight from the URI text.
base::Status ApplyParameter(std::string_view name, std::string_view raw, OtpauthKey* key,
                            bool* has_secret, bool* has_counter) {
  if (name == "secret") {
    if (raw.find('%') != std::string_view::npos) {
      return base::InvalidArgumentError("secret must be plain base32");
    }
    OTPD_ASSIGN_OR_RETURN(key->secret,
                          internal::DecodedSeed(base::Base32Decode(raw), "secret", "base32"));
    *has_secret = true;
    return base::OkStatus();
  }
  std::optional<std::string> value = Unescape(raw, true);
  if (!value) return base::InvalidArgumentError(std::string(name) + " has a malformed escape");
  if (name == "issuer") {
    std::string issuer(internal::Trim(*value));
    if (!key->issuer.empty() && key->issuer != issuer) {
      return base::InvalidArgumentError("issuer parameter does not match the label's issuer");
    }
    key->issuer = issuer;
  } else if (name == "algorithm") {
    base::StatusOr<engine::HashAlgorithm> alg = engine::ParseHashAlgorithm(*value);
    if (!alg.ok()) return base::InvalidArgumentError("algorithm must be SHA1, SHA256 or SHA512");
    key->params.algorithm = *alg;
  } else if (name == "digits") {
    std::optional<uint64_t> d = internal::ParseUint64(*value);
    if (!d || *d < 6 || *d > 9) return base::InvalidArgumentError("digits must be 6..9");
    key->params.digits = static_cast<int>(*d);
  } else if (name == "period") {
    std::optional<uint64_t> p = internal::ParseUint64(*value);
    if (!p || *p == 0 || *p > 86400) {
      return base::InvalidArgumentError("period must be 1..86400 seconds");
    }
    key->params.period = static_cast<uint32_t>(*p);
  } else if (name == "counter") {
    std::optional<uint64_t> c = internal::ParseUint64(*value);
    if (!c) return base::InvalidArgumentError("counter must be a non-negative integer");
    key->counter = *c;
    *has_counter = true;
  }
  return base::OkStatus();
}

}  // namespace

base::StatusOr<OtpauthKey> ParseOtpauthUri(std::string_view uri) {
  uri = internal::Trim(uri);
  if (uri.size() < kScheme.size() ||
      !internal::EqualsIgnoreCase(uri.substr(0, kScheme.size()), kScheme)) {
    return base::InvalidArgumentError("not an otpauth:// URI");
  }
  uri.remove_prefix(kScheme.size());
  size_t slash = uri.find('/');
  if (slash == std::string_view::npos) return base::InvalidArgumentError("URI has no label");
  OtpauthKey key;
  base::StatusOr<engine::OtpType> type = engine::ParseOtpType(uri.substr(0, slash));
  if (!type.ok() || internal::Trim(uri.substr(0, slash)).empty()) {
    return base::InvalidArgumentError("URI type must be totp or hotp");
  }
  key.params.type = *type;
  uri.remove_prefix(slash + 1);
  size_t question = uri.find('?');
  OTPD_RETURN_IF_ERROR(ParseLabel(uri.substr(0, question), &key));
  bool has_secret = false, has_counter = false;
  std::string_view query = question == std::string_view::npos ? "" : uri.substr(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name = internal::ToLower(pair.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    OTPD_RETURN_IF_ERROR(ApplyParameter(name, value, &key, &has_secret, &has_counter));
  }
  if (!has_secret) return base::InvalidArgumentError("URI has no secret parameter");
  if (key.secret.size() < internal::kMinSeedBytes) {
    return base::InvalidArgumentError("secret is " + std::to_string(key.secret.size() * 8) +
                                      " bits; at least 128 bits are required");
  }
  if (key.params.type == engine::OtpType::kHotp && !has_counter) {
    return base::InvalidArgumentError("hotp URI has no counter parameter");
  }
  OTPD_RETURN_IF_ERROR(key.params.Validate());
  return key;
}

base::StatusOr<base::SecretBytes> FormatOtpauthUri(const OtpauthKey& key) {
  if (key.account.empty()) return base::InvalidArgumentError("account name is empty");
  if (key.account.find(':') != std::string::npos || key.issuer.find(':') != std::string::npos) {
    return base::InvalidArgumentError("issuer and account name must not contain ':'");
  }
  if (key.secret.empty()) return base::InvalidArgumentError("secret is empty");
  OTPD_RETURN_IF_ERROR(key.params.Validate());
  std::string head = std::string(kScheme) + std::string(engine::OtpTypeName(key.params.type)) + "/";
  if (!key.issuer.empty()) {
    AppendEscaped(key.issuer, false, &head);
    head += ':';
  }
  AppendEscaped(key.account, true, &head);
  head += "?secret=";
  std::string secret = base::Base32Encode(key.secret.span(), /*pad=*/false);
  std::string tail;
  if (!key.issuer.empty()) {
    tail += "&issuer=";
    AppendEscaped(key.issuer, false, &tail);
  }
  tail += "&algorithm=" + std::string(engine::HashAlgorithmName(key.params.algorithm));
  tail += "&digits=" + std::to_string(key.params.digits);
  if (key.params.type == engine::OtpType::kTotp) {
    tail += "&period=" + std::to_string(key.params.period);
  } else {
    tail += "&counter=" + std::to_string(key.counter);
  }
  internal::SecretText out;
  out.Append(head);
  out.Append(secret);
  out.Append(tail);
  internal::WipeString(&secret);
  return base::SecretBytes(
      std::span(reinterpret_cast<const uint8_t*>(out.view().data()), out.size()));
}

}  // namespace otpd::tokenio
