#include "tests/testing/http_client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "tests/testing/subprocess.h"

namespace otpd::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

using asio::ip::tcp;
using Local = asio::local::stream_protocol;

boost::json::value HttpReply::Json() const {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  return ec ? boost::json::value() : v;
}

std::string HttpReply::ErrorCode() const {
  boost::json::value v = Json();
  if (!v.is_object()) return "";
  const auto* error = v.as_object().if_contains("error");
  if (error == nullptr || !error->is_object()) return "";
  const auto* code = error->as_object().if_contains("code");
  return code != nullptr && code->is_string() ? std::string(code->as_string()) : "";
}

std::string HttpReply::Header(const std::string& name) const {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = headers.find(lower);
  return it == headers.end() ? "" : it->second;
}

class HttpClient::Impl {
 public:
  virtual ~Impl() = default;

  HttpReply Exchange(bhttp::request<bhttp::string_body>& request) {
    HttpReply reply;
    for (int attempt = 0; attempt < 2; ++attempt) {
      reply = HttpReply();
      if (!connected_) {
        boost::system::error_code ec = Connect();
        if (ec) {
          reply.error = "connect: " + ec.message();
          return reply;
        }
        connected_ = true;
        buffer_.clear();
      }
      boost::system::error_code ec = Send(request);
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      // A server may answer (413, say) and close before taking the whole body: the write fails,
      // but its answer can still be read.
      const boost::system::error_code send_error = ec;
      ec = Receive(parser);
      if (ec && send_error) ec = send_error;
      if (ec) {
        Close();
        connected_ = false;
        reply.error = ec.message();
        // A kept-alive connection the server closed meanwhile: once more on a new one.
        if (attempt == 0 &&
            (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
             ec == asio::error::connection_reset || ec == asio::error::broken_pipe)) {
          continue;
        }
        return reply;
      }
      const auto& response = parser.get();
      reply.status = static_cast<int>(response.result_int());
      reply.body = response.body();
      for (const auto& field : response) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        reply.headers[name] = std::string(field.value());
      }
      if (!response.keep_alive()) {
        Close();
        connected_ = false;
      }
      return reply;
    }
    return reply;
  }

 protected:
  virtual boost::system::error_code Connect() = 0;
  virtual boost::system::error_code Send(bhttp::request<bhttp::string_body>& request) = 0;
  virtual boost::system::error_code Receive(bhttp::response_parser<bhttp::string_body>& p) = 0;
  virtual void Close() = 0;

  asio::io_context io_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

namespace {

template <typename Stream>
boost::system::error_code WriteRequest(Stream& stream,
                                       bhttp::request<bhttp::string_body>& request) {
  boost::system::error_code ec;
  bhttp::write(stream, request, ec);
  return ec;
}

template <typename Stream>
boost::system::error_code ReadResponse(Stream& stream, beast::flat_buffer& buffer,
                                       bhttp::response_parser<bhttp::string_body>& parser) {
  boost::system::error_code ec;
  bhttp::read(stream, buffer, parser, ec);
  return ec;
}

class UnixImpl : public HttpClient::Impl {
 public:
  explicit UnixImpl(std::string path) : path_(std::move(path)), socket_(io_) {}

 protected:
  boost::system::error_code Connect() override {
    socket_ = Local::socket(io_);
    boost::system::error_code ec;
    socket_.connect(Local::endpoint(path_), ec);
    return ec;
  }
  boost::system::error_code Send(bhttp::request<bhttp::string_body>& r) override {
    return WriteRequest(socket_, r);
  }
  boost::system::error_code Receive(bhttp::response_parser<bhttp::string_body>& p) override {
    return ReadResponse(socket_, buffer_, p);
  }
  void Close() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  std::string path_;
  Local::socket socket_;
};

class TcpImpl : public HttpClient::Impl {
 public:
  explicit TcpImpl(uint16_t port) : port_(port), socket_(io_) {}

 protected:
  boost::system::error_code Connect() override {
    socket_ = tcp::socket(io_);
    boost::system::error_code ec;
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    return ec;
  }
  boost::system::error_code Send(bhttp::request<bhttp::string_body>& r) override {
    return WriteRequest(socket_, r);
  }
  boost::system::error_code Receive(bhttp::response_parser<bhttp::string_body>& p) override {
    return ReadResponse(socket_, buffer_, p);
  }
  void Close() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  uint16_t port_;
  tcp::socket socket_;
};

class TlsImpl : public HttpClient::Impl {
 public:
  TlsImpl(uint16_t port, std::string ca_file, std::string host)
      : port_(port), host_(std::move(host)), ctx_(asio::ssl::context::tls_client) {
    boost::system::error_code ignored;
    ctx_.load_verify_file(ca_file, ignored);
    ctx_.set_verify_mode(asio::ssl::verify_peer);
  }

 protected:
  boost::system::error_code Connect() override {
    stream_ = std::make_unique<asio::ssl::stream<tcp::socket>>(io_, ctx_);
    boost::system::error_code ec;
    stream_->next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    if (ec) return ec;
    stream_->set_verify_callback(asio::ssl::host_name_verification(host_));
    SSL_set_tlsext_host_name(stream_->native_handle(), host_.c_str());
    stream_->handshake(asio::ssl::stream_base::client, ec);
    return ec;
  }
  boost::system::error_code Send(bhttp::request<bhttp::string_body>& r) override {
    return WriteRequest(*stream_, r);
  }
  boost::system::error_code Receive(bhttp::response_parser<bhttp::string_body>& p) override {
    return ReadResponse(*stream_, buffer_, p);
  }
  void Close() override {
    if (stream_ == nullptr) return;
    boost::system::error_code ignored;
    stream_->next_layer().close(ignored);
    stream_.reset();
  }

 private:
  uint16_t port_;
  std::string host_;
  asio::ssl::context ctx_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> stream_;
};

}  // namespace

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;
HttpClient::~HttpClient() = default;

HttpClient HttpClient::Unix(std::string path) {
  return HttpClient(std::make_unique<UnixImpl>(std::move(path)));
}
HttpClient HttpClient::Tcp(uint16_t port) { return HttpClient(std::make_unique<TcpImpl>(port)); }
HttpClient HttpClient::Tls(uint16_t port, std::string ca_file, std::string host) {
  return HttpClient(std::make_unique<TlsImpl>(port, std::move(ca_file), std::move(host)));
}

HttpReply HttpClient::Request(const std::string& method, const std::string& target,
                              const std::string& body, const std::string& content_type,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
  bhttp::request<bhttp::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(bhttp::field::host, "localhost");
  request.keep_alive(true);
  if (!bearer_.empty()) request.set(bhttp::field::authorization, "Bearer " + bearer_);
  if (!content_type.empty()) request.set(bhttp::field::content_type, content_type);
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    request.prepare_payload();
  }
  return impl_->Exchange(request);
}

bool MakeTestCertificate(const std::string& cert_file, const std::string& key_file) {
  RunResult r = Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                     "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                     "-keyout", key_file, "-out", cert_file});
  return r.exit_code == 0;
}

}  // namespace otpd::testing
