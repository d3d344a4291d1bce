#include "server/validate/not_served.h"

#include <string>

#include "server/validate/validate_request.h"

namespace otpd::server::validate {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view kPoll = "/validate/polltransaction";

Answer MethodNotAllowed(std::string_view allow, double now) {
  Answer a = ErrorAnswer(405, kErrorParameter, "use " + std::string(allow), now);
  a.allow = std::string(allow);
  return a;
}

// Whether polltransaction names a transaction: in the path (/validate/polltransaction/ID) or as
// `transaction_id` in the query string, as privacyIDEA takes it.
bool NamesTransaction(std::string_view path, const http::Request& request) {
  if (path.size() > kPoll.size() + 1) return true;
  const std::string_view target = request.target();
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return false;
  bool named = false;
  const base::Status read =
      DecodeForm(target.substr(q + 1), [&named](std::string name, std::string value) {
        if (name == "transaction_id" && !value.empty()) named = true;
        return base::OkStatus();
      });
  return read.ok() && named;
}

std::optional<Answer> PollTransaction(std::string_view path, const http::Request& request,
                                      double now) {
  if (request.method() != bhttp::verb::get) return MethodNotAllowed("GET", now);
  if (!NamesTransaction(path, request)) {
    return ErrorAnswer(400, kErrorParameter, "Missing parameter: 'transaction_id'", now);
  }
  return PollPendingAnswer(now);
}

}  // namespace

std::optional<Answer> NotServedAnswer(std::string_view path, const http::Request& request,
                                      double now) {
  if (path == kPoll || (path.starts_with(kPoll) && path[kPoll.size()] == '/')) {
    return PollTransaction(path, request, now);
  }
  if (path == "/validate/offlinerefill") {
    if (request.method() != bhttp::verb::post) return MethodNotAllowed("POST", now);
    return ErrorAnswer(400, kErrorParameter,
                       "Token is not an offline token or refill token is incorrect", now);
  }
  if (path == "/validate/triggerchallenge") {
    return ErrorAnswer(401, kErrorNoClientAuth,
                       "otpd serves no /validate/triggerchallenge; send /validate/check with the "
                       "user and an empty pass to start a challenge",
                       now);
  }
  if (path == "/auth") {
    return ErrorAnswer(401, kErrorWrongClient,
                       "otpd issues no privacyIDEA administrator tokens (/auth); validate clients "
                       "authenticate with their [clients.NAME] key or network",
                       now);
  }
  return std::nullopt;
}

}  // namespace otpd::server::validate
