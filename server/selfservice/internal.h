// What the Security info server's files share: one request being answered, and how answers are
// made (selfservice_server.cc).

#ifndef OTPD_SERVER_SELFSERVICE_INTERNAL_H_
#define OTPD_SERVER_SELFSERVICE_INTERNAL_H_

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/http/http_server.h"
#include "server/selfservice/selfservice_server.h"
#include "server/selfservice/session_table.h"
#include "service/model/records.h"

namespace otpd::server::selfservice {

inline constexpr std::string_view kCookieName = "otpd_session";

struct SelfServiceServer::Call {
  http::Request request;
  http::Peer peer;
  http::Reply reply;
  std::string request_id;
  std::string path;   // the target without its query
  std::string query;  // "?..." or ""
  // Once admitted (SelfServiceServer::Admit):
  std::string token;  // the session cookie's value
  PageSession session;
  service::UserRecord user;
  // A Set-Cookie for the answer (a new session, or the end of one).
  std::string set_cookie;
  // More headers for the answer (Retry-After, Location).
  std::vector<std::pair<std::string, std::string>> headers;

  // Sends `response` with the headers every answer carries; a request of a live session keeps
  // its connection.
  void Answer(http::Response response);
  // A JSON answer; a Graph error (graph.h) with `code` and `message`.
  void Json(unsigned status, const boost::json::object& body);
  void Error(unsigned status, std::string_view code, std::string_view message);
  // The error a status stands for, as the admin API answers it (graph.h ClassifyStatus).
  void Error(const base::Status& status);
  void NoContent();
  // 403 `locked`, saying when to try again (Retry-After too).
  void Locked(int64_t retry_after_seconds);
};

// The cookie that holds `token`, or (token empty) the one that ends it in the browser.
std::string SessionCookie(std::string_view token);

}  // namespace otpd::server::selfservice

#endif  // OTPD_SERVER_SELFSERVICE_INTERNAL_H_
