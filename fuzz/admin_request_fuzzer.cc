// Fuzzes what the admin API makes of a caller's request before any route acts on it: the request
// target (path, query, $top/$skiptoken/$filter) and a JSON body read with the strict FieldReader.
// The input is "TARGET\nBODY".

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "fuzz/fuzz_check.h"
#include "server/admin/graph.h"
#include "server/admin/odata.h"

using otpd::fuzz::Check;
namespace admin = otpd::server::admin;
namespace json = boost::json;

namespace {

void FuzzTarget(std::string_view text) {
  auto target = admin::ParseTarget(text);
  if (!target.ok()) {
    Check(!target.status().message().empty());
    return;
  }
  for (const std::string& segment : target->segments) {
    Check(segment.find('/') == std::string::npos);
    Check(segment.find('\0') == std::string::npos);
    // Encoding a decoded segment and parsing it again gives it back.
    auto again = admin::ParseTarget("/" + admin::PercentEncode(segment));
    Check(again.ok() && again->segments.size() == 1 && again->segments[0] == segment);
  }
  auto paging =
      admin::ReadPaging(*target, {"status", "serialNumber", "userPrincipalName"}, {"format"});
  if (!paging.ok()) {
    Check(!paging.status().message().empty());
    return;
  }
  Check(paging->top >= 1 && paging->top <= 999);
  for (const admin::FilterClause& c : paging->filter) {
    Check(c.field == "status" || c.field == "serialNumber" || c.field == "userPrincipalName");
    Check(!c.values.empty());
    if (c.op != admin::FilterClause::Op::kIn) Check(c.values.size() == 1);
    // Every literal satisfies its own clause.
    for (const std::string& v : c.values) Check(c.Matches(v));
  }
  if (!paging->after.empty()) {
    auto token = admin::DecodeSkipToken(admin::EncodeSkipToken(paging->after));
    Check(token.ok() && *token == paging->after);
  }
}

void FuzzBody(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return;
  admin::FieldReader in(v.as_object());
  in.String("serialNumber", admin::FieldReader::kRequired);
  in.OptionalString("displayName");
  in.OptionalInt("digits", 6, 8);
  in.OptionalBool("enabled");
  in.OptionalStringArray("roles");
  if (const json::object* device = in.Object("device")) {
    admin::FieldReader d(*device, "device.");
    d.String("id");
    if (!d.Finish().ok()) return;
  }
  otpd::base::Status s = in.Finish();
  if (!s.ok()) Check(!s.message().empty());
}

}  // namespace

extern "C" int OTPD_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  FuzzTarget(input.substr(0, newline));
  if (newline != std::string_view::npos) FuzzBody(input.substr(newline + 1));
  return 0;
}
