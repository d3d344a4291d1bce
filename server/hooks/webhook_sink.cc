#include "server/hooks/webhook_sink.h"

#include <openssl/ssl.h>
#include <time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <utility>

#include "base/codec.h"
#include "base/mac.h"

namespace otpd::server::hooks {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr size_t kMaxResponseBody = 64 * 1024;

std::optional<uint64_t> ParseNumber(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// Reads the receiver's answer into a DeliveryResult.
service::DeliveryResult Interpret(const http::response<http::string_body>& response,
                                  int64_t now_unix) {
  service::DeliveryResult result;
  const unsigned status = response.result_int();
  result.detail = "HTTP " + std::to_string(status);
  if (status >= 200 && status < 300) {
    result.outcome = service::DeliveryOutcome::kDelivered;
  } else if (status == 410) {
    result.outcome = service::DeliveryOutcome::kGone;
  } else {
    auto it = response.find(http::field::retry_after);
    if (it != response.end()) {
      result.retry_after = ParseRetryAfter(std::string_view(it->value()), now_unix);
    }
  }
  return result;
}

}  // namespace

base::StatusOr<base::SecretBytes> ParseWebhookSecret(std::string_view text) {
  if (!text.starts_with(kSecretPrefix)) {
    return base::InvalidArgumentError("a webhook secret is written whsec_<base64>");
  }
  auto key = base::Base64Decode(text.substr(kSecretPrefix.size()));
  if (!key.ok()) return base::InvalidArgumentError("a webhook secret's base64 is not valid");
  if (key->size() < 24 || key->size() > 64) {
    return base::InvalidArgumentError("a webhook secret must be 24..64 bytes (base64-encoded)");
  }
  return std::move(*key);
}

std::string SignWebhook(const base::SecretBytes& key, std::string_view id, int64_t timestamp,
                        std::string_view body) {
  const std::string ts = std::to_string(timestamp);
  auto mac = base::HmacSha256(key.span(), {id, ".", ts, ".", body});
  if (!mac.ok()) return "v1,";
  return "v1," + base::Base64Encode(*mac);
}

base::StatusOr<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  WebhookUrl out;
  std::string_view rest;
  if (url.starts_with("https://")) {
    out.tls = true;
    out.port = 443;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    out.port = 80;
    rest = url.substr(7);
  } else {
    return base::InvalidArgumentError("the URL must begin with http:// or https://");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return base::InvalidArgumentError("the URL holds a space or a control character");
    }
  }
  if (url.find('#') != std::string_view::npos) {
    return base::InvalidArgumentError("the URL must not have a fragment (#)");
  }
  const size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
  if (authority.find('@') != std::string_view::npos) {
    return base::InvalidArgumentError("the URL must not hold user information (user@)");
  }
  std::string_view port_text;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return base::InvalidArgumentError("the URL's [host] is not closed");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return base::InvalidArgumentError("the URL's port is malformed");
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return base::InvalidArgumentError("the URL has no host");
  if (!port_text.empty() || authority.ends_with(":")) {
    auto port = ParseNumber(port_text);
    if (!port || *port == 0 || *port > 65535) {
      return base::InvalidArgumentError("the URL's port must be 1..65535");
    }
    out.port = static_cast<uint16_t>(*port);
  }
  return out;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, int64_t now_unix) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (auto seconds = ParseNumber(value)) {
    return std::chrono::milliseconds(std::min<uint64_t>(*seconds, 86400 * 7) * 1000);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::string text(value);
  tm parts{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const int64_t at = timegm(&parts);
  return std::chrono::milliseconds(std::max<int64_t>(0, at - now_unix) * 1000);
}

WebhookSink::WebhookSink(WebhookSinkOptions options, const base::Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  auto url = ParseWebhookUrl(options_.url);
  if (url.ok()) url_ = std::move(*url);
}

WebhookSink::~WebhookSink() = default;

service::DeliveryResult WebhookSink::Deliver(const service::OutboxEvent& event,
                                             std::string_view json) {
  service::DeliveryResult result;
  if (url_.host.empty()) {
    result.detail = "the URL is not valid";
    return result;
  }
  const int64_t now = clock_.NowUnixSeconds();
  http::request<http::string_body> request{http::verb::post, url_.target, 11};
  const bool default_port = url_.port == (url_.tls ? 443 : 80);
  std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
  if (!default_port) host += ":" + std::to_string(url_.port);
  request.set(http::field::host, host);
  request.set(http::field::user_agent, "otpd-webhook");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::connection, "close");
  request.set("webhook-id", event.id);
  request.set("webhook-timestamp", std::to_string(now));
  std::string signatures;
  for (const auto& key : options_.secrets) {
    if (!signatures.empty()) signatures += ' ';
    signatures += SignWebhook(key, event.id, now, json);
  }
  request.set("webhook-signature", signatures);
  request.body().assign(json);
  request.prepare_payload();
  // The body is wiped when the request goes (it may hold an event's secret).
  struct WipeBody {
    std::string& body;
    ~WipeBody() { base::Wipe(body.data(), body.size()); }
  } wipe{request.body()};

  const std::string where = (url_.tls ? "https://" : "http://") + host;
  std::optional<asio::ssl::context> tls;
  if (url_.tls) {
    tls.emplace(asio::ssl::context::tls_client);
    beast::error_code ec;
    tls->set_verify_mode(asio::ssl::verify_peer);
    if (options_.ca_file.empty()) {
      tls->set_default_verify_paths(ec);
    } else {
      tls->load_verify_file(options_.ca_file, ec);
    }
    if (ec) {
      result.detail = "cannot load the trusted certificates: " + ec.message();
      return result;
    }
  }

  // One attempt, start to end (name lookup, connection, TLS, request and answer), within the
  // timeout: the io_context runs at most that long; whatever is still waiting then is abandoned
  // (its socket closed with the stream). Every handler runs on this thread, inside run_for.
  asio::io_context io;
  std::string stage = "cannot resolve " + url_.host;
  std::string failure;
  std::optional<http::response<http::string_body>> response;
  tcp::resolver resolver(io);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;

  auto fail = [&](const beast::error_code& ec) { failure = stage + ": " + ec.message(); };
  auto exchange = [&](auto& stream) {
    stage = "no answer from " + where;
    http::async_write(stream, request, [&](const beast::error_code& ec, size_t) {
      if (ec) return fail(ec);
      http::async_read(stream, buffer, parser, [&](const beast::error_code& rec, size_t) {
        if (rec && rec != http::error::body_limit) return fail(rec);
        response = parser.release();
      });
    });
  };
  resolver.async_resolve(
      url_.host, std::to_string(url_.port),
      [&](const beast::error_code& ec, const tcp::resolver::results_type& endpoints) {
        if (ec) return fail(ec);
        stage = "cannot connect to " + where;
        if (!url_.tls) {
          plain.emplace(io);
          plain->async_connect(endpoints, [&](const beast::error_code& cec, const tcp::endpoint&) {
            if (cec) return fail(cec);
            exchange(*plain);
          });
          return;
        }
        secure.emplace(io, *tls);
        if (!SSL_set_tlsext_host_name(secure->native_handle(), url_.host.c_str())) {
          failure = "cannot set the TLS server name";
          return;
        }
        secure->set_verify_callback(asio::ssl::host_name_verification(url_.host));
        beast::get_lowest_layer(*secure).async_connect(
            endpoints, [&](const beast::error_code& cec, const tcp::endpoint&) {
              if (cec) return fail(cec);
              stage = "TLS handshake with " + where + " failed";
              secure->async_handshake(asio::ssl::stream_base::client,
                                      [&](const beast::error_code& hec) {
                                        if (hec) return fail(hec);
                                        exchange(*secure);
                                      });
            });
      });
  io.run_for(options_.timeout);
  if (!io.stopped()) {
    result.detail = stage + ": timed out after " + std::to_string(options_.timeout.count()) + " ms";
    return result;
  }
  if (!response) {
    result.detail = failure.empty() ? stage : failure;
    return result;
  }
  return Interpret(*response, now);
}

}  // namespace otpd::server::hooks
