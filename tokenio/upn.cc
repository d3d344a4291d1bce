#include "tokenio/upn.h"

#include "tokenio/internal/text.h"

namespace otpd::tokenio {

namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 dot-atom characters of the local part.
bool IsLocalChar(char c) {
  return IsAlnum(c) || std::string_view("!#$%&'*+/=?^_`{|}~-.").find(c) != std::string_view::npos;
}

base::Status CheckDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) {
    return base::InvalidArgumentError("upn has an empty or over-long domain");
  }
  size_t labels = 0;
  std::string_view last;
  while (true) {
    size_t dot = domain.find('.');
    std::string_view label = domain.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return base::InvalidArgumentError("upn domain has an invalid label");
    }
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') {
        return base::InvalidArgumentError("upn domain contains an invalid character");
      }
    }
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  if (labels < 2) return base::InvalidArgumentError("upn domain has no top-level domain");
  if (last.size() < 2) return base::InvalidArgumentError("upn top-level domain is too short");
  for (char c : last) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      return base::InvalidArgumentError("upn top-level domain must be letters");
    }
  }
  return base::OkStatus();
}

}  // namespace

base::StatusOr<std::string> NormaliseUpn(std::string_view upn) {
  upn = internal::Trim(upn);
  if (upn.size() > 254) return base::InvalidArgumentError("upn is longer than 254 characters");
  size_t at = upn.find('@');
  if (at == std::string_view::npos || upn.find('@', at + 1) != std::string_view::npos) {
    return base::InvalidArgumentError("upn must be an e-mail address (local@domain.tld)");
  }
  std::string_view local = upn.substr(0, at);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return base::InvalidArgumentError("upn has an invalid local part");
  }
  for (char c : local) {
    if (!IsLocalChar(c))
      return base::InvalidArgumentError("upn local part has an invalid character");
  }
  OTPD_RETURN_IF_ERROR(CheckDomain(upn.substr(at + 1)));
  return internal::ToLower(upn);
}

}  // namespace otpd::tokenio
