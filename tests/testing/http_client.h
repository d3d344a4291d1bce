// A small blocking HTTP/1.1 client (Boost.Beast) for tests of the daemon's HTTP listeners: over
// its Unix socket, plain TCP on loopback, or TLS. One connection per client, kept alive across
// requests; reconnects after the server closed it.

#ifndef OTPD_TESTS_TESTING_HTTP_CLIENT_H_
#define OTPD_TESTS_TESTING_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

namespace otpd::testing {

struct HttpReply {
  int status = 0;  // 0: no answer (connection failed or closed; `error` says why)
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string error;

  // The body as JSON (null when it is not JSON).
  boost::json::value Json() const;
  // The Graph error code of an error body ("" when none).
  std::string ErrorCode() const;
  std::string Header(const std::string& name) const;
};

class HttpClient {
 public:
  static HttpClient Unix(std::string path);
  static HttpClient Tcp(uint16_t port);
  // TLS on 127.0.0.1:port; the server's certificate is checked against `ca_file` (PEM) and the
  // name `host`.
  static HttpClient Tls(uint16_t port, std::string ca_file, std::string host = "localhost");

  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  ~HttpClient();

  // Adds `Authorization: Bearer key` to every request ("" removes it).
  void set_bearer(std::string key) { bearer_ = std::move(key); }

  HttpReply Request(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& content_type = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpReply Get(const std::string& target) { return Request("GET", target); }
  HttpReply Delete(const std::string& target) { return Request("DELETE", target); }
  HttpReply Post(const std::string& target, const boost::json::value& body) {
    return Request("POST", target, boost::json::serialize(body), "application/json");
  }
  HttpReply Patch(const std::string& target, const boost::json::value& body) {
    return Request("PATCH", target, boost::json::serialize(body), "application/json");
  }
  HttpReply Put(const std::string& target, const boost::json::value& body) {
    return Request("PUT", target, boost::json::serialize(body), "application/json");
  }

  class Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string bearer_;
};

// Creates a self-signed certificate for "localhost" and 127.0.0.1 with the openssl command:
// writes `cert_file` and `key_file`. False when openssl failed.
bool MakeTestCertificate(const std::string& cert_file, const std::string& key_file);

}  // namespace otpd::testing

#endif  // OTPD_TESTS_TESTING_HTTP_CLIENT_H_
