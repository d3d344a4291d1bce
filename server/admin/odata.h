// The request target of the admin API: the path split into percent-decoded segments, the query
// string decoded, and the OData options Graph's list endpoints take: $top, $skiptoken and a
// $filter of `eq`, `in` and `startswith` clauses joined by `and`:
//
//   $filter=status eq 'available' and startswith(serialNumber,'OATH')
//   $filter=phoneType in ('mobile','office')
//
// Each list endpoint names the fields it filters on; any other field, operator or syntax is
// refused with a message saying what was expected where.
//
// Thread-safety: plain functions and values.

#ifndef OTPD_SERVER_ADMIN_ODATA_H_
#define OTPD_SERVER_ADMIN_ODATA_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/statusor.h"

namespace otpd::server::admin {

struct Target {
  std::vector<std::string> segments;  // "/v1.0/users/a%40b" -> {"v1.0", "users", "a@b"}
  std::map<std::string, std::string, std::less<>> query;  // without $select
  // $select's properties, in the order given; empty when the answer is whole. Any GET answers
  // with it (AdminApi::Handle), so it is kept apart from the options each route reads.
  std::vector<std::string> select;

  // The query parameter, or nullopt.
  std::optional<std::string_view> Param(std::string_view name) const;
};

// Splits and decodes a request target ("/path?query"). InvalidArgument for a target that is not
// an absolute path, bad percent-encoding, an encoded "/" or NUL in a segment, a parameter given
// twice, or a $select that is not a comma-separated list of up to 32 property names.
base::StatusOr<Target> ParseTarget(std::string_view target);

// Percent-encodes `text` for a path segment or a query value.
std::string PercentEncode(std::string_view text);

struct FilterClause {
  enum class Op { kEq, kIn, kStartsWith };
  std::string field;
  Op op = Op::kEq;
  // The literal(s): strings unquoted; true, false and numbers as written.
  std::vector<std::string> values;

  // Whether `value` (the field's value of an item) satisfies the clause.
  bool Matches(std::string_view value) const;
};

// Parses a $filter over `fields`. InvalidArgument naming the position and what was expected.
base::StatusOr<std::vector<FilterClause>> ParseFilter(std::string_view text,
                                                      const std::set<std::string_view>& fields);

// The clauses of `filter` on `field` (there may be several, all of which must hold).
std::vector<const FilterClause*> ClausesOn(const std::vector<FilterClause>& filter,
                                           std::string_view field);

struct Paging {
  uint32_t top = 100;
  std::string after;  // resume after this key (decoded $skiptoken); "" = from the start
  std::vector<FilterClause> filter;
};

// Reads $top (1..999, default 100), $skiptoken and $filter (over `fields`) from the query, and
// refuses any other $option. `allowed_params` are the endpoint's own non-$ parameters; others
// are refused too.
base::StatusOr<Paging> ReadPaging(const Target& target, const std::set<std::string_view>& fields,
                                  const std::set<std::string_view>& allowed_params = {});

// The opaque $skiptoken for resuming after `key`, and back.
std::string EncodeSkipToken(std::string_view key);
base::StatusOr<std::string> DecodeSkipToken(std::string_view token);

}  // namespace otpd::server::admin

#endif  // OTPD_SERVER_ADMIN_ODATA_H_
