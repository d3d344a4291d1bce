// Fuzzes the verify socket's request parser (server/protocol.h ParseRequest), the escape helpers
// and the client-side reply parser with arbitrary bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "server/protocol.h"

using otpd::fuzz::Check;
namespace server = otpd::server;

namespace {

bool IsDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void CheckRequest(const server::ParseResult& r, std::string_view line) {
  Check(r.id == server::kNoId || server::IsValidId(r.id));
  if (!r.ok) {
    Check(!r.error.empty());
    return;
  }
  const server::Request& q = r.request;
  Check(server::IsValidId(q.id));
  Check(q.id == r.id);
  // Every view points into the parsed line.
  for (std::string_view v : {q.id, q.version, q.client, q.key, q.user, q.serial, q.otp, q.otp2,
                             q.password, q.pass, q.session, q.old_password, q.new_password, q.tap,
                             q.days, q.name, q.method, q.channel, q.from}) {
    if (v.empty()) continue;
    Check(v.data() >= line.data() && v.data() + v.size() <= line.data() + line.size());
  }
  if (q.verb == server::Verb::kVerify || q.verb == server::Verb::kResync) {
    Check(q.user.empty() != q.serial.empty());
    Check(q.otp.size() >= 6 && q.otp.size() <= 9 && IsDigits(q.otp));
  }
  // The other verbs: what each requires is there, and the numbers are in range.
  switch (q.verb) {
    case server::Verb::kPassword:
    case server::Verb::kAppPassword:
      Check(!q.user.empty() && !q.password.empty());
      break;
    case server::Verb::kTap:
      Check(!q.user.empty() && !q.pass.empty());
      break;
    case server::Verb::kSession:
      Check(!q.user.empty() && !q.session.empty());
      break;
    case server::Verb::kRemember:
      Check(!q.user.empty());
      if (!q.days.empty()) {
        Check(IsDigits(q.days) && q.days.size() <= 3 && q.days[0] != '0');
        const int days = std::stoi(std::string(q.days));
        Check(days >= 1 && days <= 365);
      }
      break;
    case server::Verb::kSetPassword:
      Check(!q.user.empty() && !q.old_password.empty() && !q.new_password.empty());
      break;
    case server::Verb::kConfirm:
      Check(!q.user.empty() && !q.method.empty() && IsDigits(q.otp) && q.otp.size() >= 6);
      break;
    case server::Verb::kChallenge:
      // No method: the phone of the user's default sign-in method.
      Check(!q.user.empty());
      Check(q.method.empty() || q.method == "mobile" || q.method == "alternateMobile" ||
            q.method == "office");
      Check(q.channel.empty() || q.channel == "sms" || q.channel == "voice");
      break;
    case server::Verb::kSubscribe:
      Check(q.from.empty() || (IsDigits(q.from) && q.from[0] != '0'));
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int OTPD_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);

  // The server hands ParseRequest each line without its LF.
  std::vector<char> line(input.begin(), input.end());
  server::ParseResult r = server::ParseRequest(line);
  CheckRequest(r, std::string_view(line.data(), line.size()));

  // Escaping round-trips.
  std::string escaped;
  server::AppendEscaped(&escaped, input);
  Check(escaped.find('\t') == std::string::npos && escaped.find('\n') == std::string::npos);
  std::vector<char> buffer(escaped.begin(), escaped.end());
  auto n = server::UnescapeInPlace(buffer);
  Check(n.has_value() && std::string_view(buffer.data(), *n) == input);

  // Unescaping arbitrary bytes never grows them.
  std::vector<char> raw(input.begin(), input.end());
  auto m = server::UnescapeInPlace(raw);
  Check(!m || *m <= raw.size());

  // Reply parsing (client side) tolerates anything; an accepted reply has a valid shape.
  auto reply = server::ParseReply(input);
  if (reply) Check(!reply->reason().empty());
  return 0;
}
