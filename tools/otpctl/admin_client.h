// AdminClient: otpctl's client of the admin API (docs/admin-api.md), over the daemon's Unix
// socket, plain HTTP on loopback, or HTTPS; or, with no daemon running, over an AdminApi run in
// this process on the data directory (tools/otpctl/offline_admin.h), so that a command sends the
// same requests and prints the same answers either way.
//
// Errors are Status values whose message says what failed and never holds a secret: the API key,
// a request body (codes, seeds) or a response body are never part of one. A Graph error answer
// becomes the Status matching its HTTP status with Graph's message (401 Unauthenticated, 403
// PermissionDenied, 404 NotFound, 409 AlreadyExists or FailedPrecondition, 429
// ResourceExhausted, 503 Unavailable, other 4xx InvalidArgument, 5xx Internal).
//
// Thread-safety: one thread at a time.

#ifndef OTPD_TOOLS_OTPCTL_ADMIN_CLIENT_H_
#define OTPD_TOOLS_OTPCTL_ADMIN_CLIENT_H_

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/secret_bytes.h"
#include "base/statusor.h"

namespace otpd::tools {

// One request. `body` may hold a secret (a verification code, a PSKC password): it is wiped when
// the request is destroyed and never shown.
struct AdminRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // "/v1.0/users?$top=10", already percent-encoded
  base::SecretBytes body;
  std::string content_type;  // "" with no body
  // Extra headers; values may be secret (X-Otpd-Pskc-Password) and are never shown.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct AdminReply {
  int status = 0;
  std::string body;
  std::string location;  // the Location header, when present
};

// Carries one request to an admin API and brings its answer back.
class AdminTransport {
 public:
  virtual ~AdminTransport() = default;
  // Unavailable when the API could not be reached or the connection broke, naming where.
  virtual base::StatusOr<AdminReply> Exchange(const AdminRequest& request) = 0;
  // "the admin socket /var/lib/otpd/admin.sock", "https://otpd.example.net:7734": for messages.
  virtual std::string Where() const = 0;
};

// The connection's Unix socket path or URL and credentials.
struct AdminEndpoint {
  std::string socket_path;  // set: the Unix socket
  std::string url;          // set: http://HOST:PORT (loopback only) or https://HOST:PORT
  std::string ca_file;      // https: a PEM file of CAs to trust instead of the system's
  std::optional<base::SecretBytes> api_key;  // sent as a bearer token when set
};

// Connects to `endpoint`. Unavailable with "not running" in the message when nothing listens
// there (the socket file is missing or refuses connections, or the TCP port refuses them);
// InvalidArgument for a URL that is malformed or plain http:// off loopback; the TLS handshake's
// failure (an untrusted certificate, a wrong name) as Unavailable naming the URL.
base::StatusOr<std::unique_ptr<AdminTransport>> ConnectAdmin(const AdminEndpoint& endpoint);

// True when `status` from ConnectAdmin means that no daemon listens (rather than another failure).
bool IsNotRunning(const base::Status& status);

class AdminClient {
 public:
  explicit AdminClient(std::unique_ptr<AdminTransport> transport)
      : transport_(std::move(transport)) {}

  // Sends a request and returns the JSON answer (null for 204 and other empty answers). Errors
  // as the file comment describes.
  base::StatusOr<boost::json::value> Call(const std::string& method, const std::string& target,
                                          const boost::json::value* body = nullptr);
  base::StatusOr<boost::json::value> Get(const std::string& target) { return Call("GET", target); }
  base::StatusOr<boost::json::value> Post(const std::string& target,
                                          const boost::json::value& body) {
    return Call("POST", target, &body);
  }
  // Sends `request` as it is (a token file upload, a body with a secret). `location`, when given,
  // receives the answer's Location header ("" without one).
  base::StatusOr<boost::json::value> Send(const AdminRequest& request,
                                          std::string* location = nullptr);
  // Every item of a list, following @odata.nextLink.
  base::StatusOr<boost::json::array> List(const std::string& target);

  const AdminTransport& transport() const { return *transport_; }

 private:
  std::unique_ptr<AdminTransport> transport_;
};

// Percent-encodes a path segment or a query value (a UPN, a serial, a filter).
std::string UrlEncode(std::string_view text);

}  // namespace otpd::tools

#endif  // OTPD_TOOLS_OTPCTL_ADMIN_CLIENT_H_
