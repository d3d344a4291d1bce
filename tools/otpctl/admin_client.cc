#include "tools/otpctl/admin_client.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>

#include "tools/display.h"

namespace otpd::tools {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using asio::ip::tcp;
using Local = asio::local::stream_protocol;

// Marks the messages IsNotRunning() recognises.
constexpr std::string_view kNotRunning = "is not running";
// A stalled daemon must not hang otpctl forever: each request has this long.
constexpr auto kRequestTimeout = std::chrono::seconds(120);
// Answers larger than this are refused (a list page is far smaller).
constexpr uint64_t kMaxReply = 64u << 20;

bool Refused(const boost::system::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::not_found ||
         ec == boost::system::errc::no_such_file_or_directory;
}

bhttp::request<bhttp::string_body> MakeRequest(const AdminRequest& r, const std::string& host,
                                               const std::optional<base::SecretBytes>& key) {
  bhttp::request<bhttp::string_body> request;
  request.method_string(r.method);
  request.target(r.target);
  request.version(11);
  request.set(bhttp::field::host, host);
  request.set(bhttp::field::user_agent, "otpctl");
  request.keep_alive(true);
  if (key) request.set(bhttp::field::authorization, "Bearer " + std::string(key->view()));
  if (!r.content_type.empty()) request.set(bhttp::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) request.set(name, value);
  request.body() = std::string(r.body.view());
  request.prepare_payload();
  return request;
}

// Overwrites the copies of the key and the body a request held.
void WipeRequest(bhttp::request<bhttp::string_body>& request) {
  std::string& body = request.body();
  base::Wipe(body.data(), body.size());
  request.erase(bhttp::field::authorization);
}

// A Beast stream (a socket or a TLS stream) with one connection kept alive.
template <typename Stream>
class StreamTransport : public AdminTransport {
 public:
  StreamTransport(std::unique_ptr<asio::io_context> io, std::unique_ptr<Stream> stream,
                  std::string where, std::string host, std::optional<base::SecretBytes> key)
      : io_(std::move(io)),
        stream_(std::move(stream)),
        where_(std::move(where)),
        host_(std::move(host)),
        key_(std::move(key)) {}

  base::StatusOr<AdminReply> Exchange(const AdminRequest& r) override {
    if (closed_) return base::UnavailableError(where_ + " closed the connection");
    bhttp::request<bhttp::string_body> request = MakeRequest(r, host_, key_);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxReply);
    boost::system::error_code write_error, read_error;
    // Blocking calls with a deadline: the io_context runs the async forms until done or late.
    bool wrote = false, read = false;
    bhttp::async_write(*stream_, request, [&](boost::system::error_code ec, size_t) {
      write_error = ec;
      wrote = true;
      // A server may answer (413, say) before taking the whole body: read either way.
      bhttp::async_read(*stream_, buffer_, parser, [&](boost::system::error_code ec2, size_t) {
        read_error = ec2;
        read = true;
      });
    });
    io_->restart();
    io_->run_for(kRequestTimeout);
    WipeRequest(request);
    if (!wrote || !read) {
      closed_ = true;
      return base::UnavailableError(where_ + " did not answer within " +
                                    std::to_string(kRequestTimeout.count()) + " s");
    }
    if (read_error) {
      closed_ = true;
      const auto& ec = write_error ? write_error : read_error;
      return base::UnavailableError("the connection to " + where_ + " failed: " + ec.message());
    }
    auto& response = parser.get();
    AdminReply reply;
    reply.status = static_cast<int>(response.result_int());
    reply.body = std::move(response.body());
    reply.location = std::string(response[bhttp::field::location]);
    if (!response.keep_alive()) closed_ = true;
    return reply;
  }

  std::string Where() const override { return where_; }

 private:
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<Stream> stream_;
  std::string where_;
  std::string host_;
  std::optional<base::SecretBytes> key_;
  beast::flat_buffer buffer_;
  bool closed_ = false;
};

struct ParsedUrl {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
};

base::StatusOr<ParsedUrl> ParseUrl(const std::string& url) {
  ParsedUrl p;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    p.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return base::InvalidArgumentError(
        "--admin must be a URL http://HOST:PORT or https://HOST:PORT");
  }
  rest = rest.substr(0, rest.find('/'));
  if (rest.starts_with("[")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos)
      return base::InvalidArgumentError("--admin: bad IPv6 host");
    p.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.starts_with(":")) p.port = std::string(rest.substr(1));
  } else {
    const size_t colon = rest.rfind(':');
    p.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) p.port = std::string(rest.substr(colon + 1));
  }
  if (p.host.empty()) return base::InvalidArgumentError("--admin: the URL names no host");
  if (p.port.empty()) p.port = p.tls ? "443" : "80";
  return p;
}

bool IsLoopbackName(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  asio::ip::address a = asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

base::StatusOr<std::unique_ptr<AdminTransport>> ConnectUnix(const AdminEndpoint& e) {
  const std::string where = "the admin socket " + PrintablePath(e.socket_path);
  auto io = std::make_unique<asio::io_context>();
  auto socket = std::make_unique<Local::socket>(*io);
  boost::system::error_code ec;
  socket->connect(Local::endpoint(e.socket_path), ec);
  if (ec) {
    if (Refused(ec)) {
      return base::UnavailableError("the daemon " + std::string(kNotRunning) + " at " + where +
                                    " (" + ec.message() + ")");
    }
    return base::UnavailableError("cannot connect to " + where + ": " + ec.message());
  }
  std::optional<base::SecretBytes> key;
  if (e.api_key) key = e.api_key->Clone();
  return std::unique_ptr<AdminTransport>(new StreamTransport<Local::socket>(
      std::move(io), std::move(socket), where, "localhost", std::move(key)));
}

base::StatusOr<std::unique_ptr<AdminTransport>> ConnectUrl(const AdminEndpoint& e) {
  OTPD_ASSIGN_OR_RETURN(ParsedUrl url, ParseUrl(e.url));
  const std::string where = Printable(e.url, 200);
  if (!url.tls && !IsLoopbackName(url.host)) {
    return base::InvalidArgumentError(
        "--admin: plain http:// is for loopback only (the API key would cross the network in "
        "clear); use https://");
  }
  if (!e.api_key) {
    return base::InvalidArgumentError(
        "the admin API over TCP needs an API key: --api-key-file PATH or $OTPD_API_KEY");
  }
  auto io = std::make_unique<asio::io_context>();
  tcp::resolver resolver(*io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(url.host, url.port, ec);
  if (ec) return base::UnavailableError("cannot resolve " + where + ": " + ec.message());
  tcp::socket socket(*io);
  asio::connect(socket, endpoints, ec);
  if (ec) {
    if (Refused(ec)) {
      return base::UnavailableError("the daemon " + std::string(kNotRunning) + " at " + where +
                                    " (" + ec.message() + ")");
    }
    return base::UnavailableError("cannot connect to " + where + ": " + ec.message());
  }
  const std::string host =
      url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (!url.tls) {
    return std::unique_ptr<AdminTransport>(new StreamTransport<tcp::socket>(
        std::move(io), std::make_unique<tcp::socket>(std::move(socket)), where, host,
        e.api_key->Clone()));
  }
  // The stream keeps a reference to the context: TlsStream below owns it too.
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  if (!e.ca_file.empty()) {
    ctx->load_verify_file(e.ca_file, ec);
    if (ec) {
      return base::InvalidArgumentError("--admin-ca-file " + PrintablePath(e.ca_file) +
                                        ": cannot load it as PEM certificates: " + ec.message());
    }
  } else {
    ctx->set_default_verify_paths(ec);
  }
  ctx->set_verify_mode(asio::ssl::verify_peer);
  struct TlsStream : asio::ssl::stream<tcp::socket> {
    TlsStream(tcp::socket s, std::shared_ptr<asio::ssl::context> c)
        : asio::ssl::stream<tcp::socket>(std::move(s), *c), ctx(std::move(c)) {}
    std::shared_ptr<asio::ssl::context> ctx;
  };
  auto stream = std::make_unique<TlsStream>(std::move(socket), ctx);
  stream->set_verify_callback(asio::ssl::host_name_verification(url.host));
  SSL_set_tlsext_host_name(stream->native_handle(), url.host.c_str());
  stream->handshake(asio::ssl::stream_base::client, ec);
  if (ec) {
    return base::UnavailableError(
        "TLS with " + where + " failed: " + ec.message() +
        (e.ca_file.empty() ? " (for a private CA give --admin-ca-file)" : ""));
  }
  return std::unique_ptr<AdminTransport>(new StreamTransport<TlsStream>(
      std::move(io), std::move(stream), where, host, e.api_key->Clone()));
}

// The Status for an error answer: Graph's message, never the body itself otherwise.
base::Status ErrorStatus(const AdminReply& reply, const std::string& where) {
  std::string message;
  boost::system::error_code ec;
  json::value v = json::parse(reply.body, ec);
  if (!ec && v.is_object()) {
    if (const json::value* e = v.as_object().if_contains("error"); e && e->is_object()) {
      if (const json::value* m = e->as_object().if_contains("message"); m && m->is_string()) {
        message = Printable(m->as_string(), 400);
      }
    }
  }
  if (message.empty()) {
    message = where + " answered HTTP " + std::to_string(reply.status);
  }
  switch (reply.status) {
    case 401:
      return base::UnauthenticatedError("not authenticated: " + message);
    case 403:
      return base::PermissionDeniedError("access denied: " + message);
    case 404:
      return base::NotFoundError(message);
    case 409:
      return base::FailedPreconditionError(message);
    case 413:
      return base::InvalidArgumentError("too large for the daemon's limits: " + message);
    case 429:
      return base::ResourceExhaustedError(message);
    case 501:
      return base::UnimplementedError(message);
    case 503:
      return base::UnavailableError(message);
    default:
      return reply.status >= 500 ? base::InternalError(message)
                                 : base::InvalidArgumentError(message);
  }
}

}  // namespace

base::StatusOr<std::unique_ptr<AdminTransport>> ConnectAdmin(const AdminEndpoint& endpoint) {
  try {
    if (!endpoint.url.empty()) return ConnectUrl(endpoint);
    return ConnectUnix(endpoint);
  } catch (const std::exception& e) {
    return base::UnavailableError(std::string("cannot connect to the admin API: ") + e.what());
  }
}

bool IsNotRunning(const base::Status& status) {
  return base::IsUnavailable(status) &&
         std::string_view(status.message()).find(kNotRunning) != std::string_view::npos;
}

base::StatusOr<json::value> AdminClient::Send(const AdminRequest& request, std::string* location) {
  base::StatusOr<AdminReply> reply = base::InternalError("no answer");
  try {
    reply = transport_->Exchange(request);
  } catch (const std::exception& e) {
    return base::UnavailableError("the request to " + transport_->Where() + " failed: " + e.what());
  }
  if (!reply.ok()) return reply.status();
  if (reply->status < 200 || reply->status >= 300) {
    return ErrorStatus(*reply, transport_->Where());
  }
  if (location != nullptr) *location = reply->location;
  if (reply->body.empty()) return json::value(nullptr);
  boost::system::error_code ec;
  json::value v = json::parse(reply->body, ec);
  base::Wipe(reply->body.data(), reply->body.size());  // may hold a new key or a seed
  if (ec) return base::InternalError(transport_->Where() + " answered something other than JSON");
  return v;
}

base::StatusOr<json::value> AdminClient::Call(const std::string& method, const std::string& target,
                                              const json::value* body) {
  AdminRequest request;
  request.method = method;
  request.target = target;
  if (body != nullptr) {
    std::string text = json::serialize(*body);
    request.body = base::SecretBytes::FromString(text);
    base::Wipe(text.data(), text.size());
    request.content_type = "application/json";
  }
  return Send(request);
}

base::StatusOr<json::array> AdminClient::List(const std::string& target) {
  json::array all;
  std::string next = target;
  for (int page = 0; !next.empty(); ++page) {
    if (page > 100000) return base::InternalError("the list does not end");
    OTPD_ASSIGN_OR_RETURN(json::value v, Get(next));
    next.clear();
    if (!v.is_object() || !v.as_object().contains("value") ||
        !v.as_object().at("value").is_array()) {
      return base::InternalError(transport_->Where() + " answered a list without \"value\"");
    }
    for (json::value& item : v.as_object()["value"].as_array()) all.push_back(std::move(item));
    if (const json::value* link = v.as_object().if_contains("@odata.nextLink");
        link != nullptr && link->is_string()) {
      // Links may be absolute (http://host/v1.0/...): keep the path and query.
      std::string_view l = link->as_string();
      if (size_t scheme = l.find("://"); scheme != std::string_view::npos) {
        size_t path = l.find('/', scheme + 3);
        l = path == std::string_view::npos ? std::string_view("/") : l.substr(path);
      }
      next = std::string(l);
    }
  }
  return all;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace otpd::tools
