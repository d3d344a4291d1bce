// Reading a file that holds a secret (a master key, a transfer key, a password): every such file
// is checked the same way, so that a key readable by others is refused wherever it is given, with
// the same message.
//
// Thread-safety: a plain function.

#ifndef OTPD_BASE_SECRET_FILE_H_
#define OTPD_BASE_SECRET_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "base/secret_bytes.h"
#include "base/statusor.h"

namespace otpd::base {

// Reads the whole file at `path` (a symbolic link is not followed). `what` names it in errors
// ("key file", "password file"). Errors:
//   - NotFound "<what> PATH does not exist";
//   - PermissionDenied when it cannot be opened, is not a regular file, or its mode lets its
//     group or others in: "<what> PATH has mode 0644: it must not be accessible by group or
//     others (chmod 600 PATH)";
//   - InvalidArgument when it is larger than `max_bytes`; Unavailable when reading fails.
StatusOr<SecretBytes> ReadPrivateFile(const std::string& path, std::string_view what,
                                      size_t max_bytes = 4096);

}  // namespace otpd::base

#endif  // OTPD_BASE_SECRET_FILE_H_
