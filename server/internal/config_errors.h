// What reading otpd's configuration found wrong (server/config.h): every error, so that
// `otpd --check-config` reports them all at once while a normal start refuses on the first; and
// the nearest known key to an unknown one, for "did you mean" hints. Private to server/.
//
// Thread-safety: a plain value type; a free function.

#ifndef OTPD_SERVER_INTERNAL_CONFIG_ERRORS_H_
#define OTPD_SERVER_INTERNAL_CONFIG_ERRORS_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace otpd::server::config_errors {

class ConfigErrors {
 public:
  // Records `status` unless it is OK; returns whether it was OK.
  bool Add(base::Status status);
  bool ok() const { return errors_.empty(); }
  // The first error recorded (OK when there is none).
  base::Status First() const;
  // Every error's message, in the order found.
  std::vector<std::string> Messages() const;

 private:
  std::vector<base::Status> errors_;
};

// The candidate closest to `name` in edit distance (insertions, deletions, substitutions and
// swaps of neighbours), when it is close enough to be a likely typo of it: at most 2 edits, or
// a quarter of the name's length for longer names. "" when none is.
std::string NearestName(std::string_view name, const std::vector<std::string_view>& candidates);

// The hint for an unknown `name`: "; did you mean `X`?" with NearestName's X, or "".
std::string DidYouMean(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace otpd::server::config_errors

#endif  // OTPD_SERVER_INTERNAL_CONFIG_ERRORS_H_
