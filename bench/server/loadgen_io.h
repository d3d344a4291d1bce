// otpd-loadgen's input and output that is not the event loop: the token file, connecting to
// the verify socket, the HELLO line and the splitting of reply lines. Plain functions; a Token
// is owned by one loop at a time.

#ifndef OTPD_BENCH_SERVER_LOADGEN_IO_H_
#define OTPD_BENCH_SERVER_LOADGEN_IO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_bytes.h"

namespace otpd::loadgen {

// One HOTP token of --tokens.
struct Token {
  std::string selector;  // "serial=..." or "user=..."
  base::SecretBytes seed;
  uint64_t counter = 0;
  unsigned digits = 6;
  bool busy = false;
};

// Reads a token file (header `serial,seed_hex,counter[,digits]` or `user,...`); nullopt, with a
// message on stderr naming the file and row, when it is unreadable or malformed.
std::optional<std::vector<Token>> LoadTokens(const std::string& path);

// Writes `tokens` in the format LoadTokens reads (the header copied from `source`), with the
// counters they reached.
bool SaveTokens(const std::string& path, const std::string& source,
                const std::vector<Token>& tokens);

// Connects (blocking, loopback is quick) to the Unix socket `unix_path`, or when that is empty to
// TCP `tcp` (HOST:PORT), and returns a non-blocking socket; -1 when the connection fails, -2 when
// `tcp` names an address that is not loopback.
int Connect(const std::string& unix_path, const std::string& tcp);

// The HELLO line (with LF) for --hello CLIENT:KEYFILE; nullopt when the spec or file is unusable.
std::optional<std::string> HelloLine(const std::string& spec);

// The parts of a reply line the generator needs, pointing into the line. server::ParseReply
// unescapes every field into a map, which costs allocations per reply; this only splits.
// Reasons are plain words and never escaped.
struct ReplyView {
  bool ok = false;
  std::string_view id;
  std::string_view reason;  // "ok" for an OK
};

// `OK<TAB>id[<TAB>key=value...]` or `FAIL<TAB>id<TAB>...reason=R...` (docs/protocol.md), without
// the LF; nullopt for anything else.
std::optional<ReplyView> SplitReply(std::string_view line);

// Appends `value` in decimal.
void AppendNumber(std::string* out, uint64_t value);

}  // namespace otpd::loadgen

#endif  // OTPD_BENCH_SERVER_LOADGEN_IO_H_
