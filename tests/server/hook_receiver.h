// A webhook receiver for tests: an HTTP/1.1 server on 127.0.0.1 (an ephemeral port) in a thread
// of its own, plain or over TLS with a certificate the test made. It answers each request as
// scripted (a status, a Retry-After, a delay before answering; 200 when the script is empty),
// records what it got, and checks the Standard Webhooks signature of each request with its own HMAC
// code (OpenSSL directly, not otpd's).

#ifndef OTPD_TESTS_SERVER_HOOK_RECEIVER_H_
#define OTPD_TESTS_SERVER_HOOK_RECEIVER_H_

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace otpd::testing {

// base64 of HMAC-SHA256(key, id.timestamp.body), as a receiver computes it.
inline std::string ReceiverSignature(const std::string& key, const std::string& id,
                                     const std::string& timestamp, const std::string& body) {
  const std::string content = id + "." + timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &mac_len);
  std::string out(4 * ((mac_len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, mac_len);
  out.resize(static_cast<size_t>(n));
  return out;
}

inline std::string ReceiverBase64Decode(const std::string& text) {
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return {};
  size_t len = static_cast<size_t>(n);
  if (text.ends_with("==")) {
    len -= 2;
  } else if (text.ends_with("=")) {
    len -= 1;
  }
  out.resize(len);
  return out;
}

class HookReceiver {
 public:
  struct Answer {
    unsigned status = 200;
    std::string retry_after;  // sent when not empty
    std::chrono::milliseconds delay{0};
  };
  struct Received {
    std::string id, timestamp, signature, content_type, body, target;
    std::chrono::steady_clock::time_point at;
    bool signature_valid = false;  // one of the signatures verifies with one of the keys
  };

  // A certificate and its key (PEM files) for an https:// receiver.
  struct Tls {
    std::string cert_file, key_file;
  };

  // `keys` are the raw signing keys (the bytes of each whsec_ secret). With `tls` the receiver
  // speaks HTTPS only: a client that does not complete the handshake gets nothing.
  explicit HookReceiver(std::vector<std::string> keys, std::optional<Tls> tls = std::nullopt)
      : keys_(std::move(keys)) {
    namespace asio = boost::asio;
    if (tls) {
      tls_.emplace(asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(tls->cert_file);
      tls_->use_private_key_file(tls->key_file, asio::ssl::context::pem);
    }
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~HookReceiver() {
    stopping_ = true;
    boost::system::error_code ec;
    // Wakes the accept with a connection of our own.
    boost::asio::ip::tcp::socket poke(io_);
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  // TLS handshakes that failed (a client that did not trust the certificate, or spoke plain
  // HTTP).
  size_t failed_handshakes() const { return failed_handshakes_; }

  void Script(std::vector<Answer> answers) {
    std::lock_guard lock(mu_);
    script_.assign(answers.begin(), answers.end());
  }
  // The answer once the script is used up (default 200).
  void SetDefault(Answer answer) {
    std::lock_guard lock(mu_);
    default_ = answer;
  }
  std::vector<Received> received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
  }

 private:
  void Serve() {
    while (!stopping_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) continue;
      if (!tls_) {
        Exchange(socket);
        socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
        continue;
      }
      boost::asio::ssl::stream<boost::asio::ip::tcp::socket&> secure(socket, *tls_);
      secure.handshake(boost::asio::ssl::stream_base::server, ec);
      if (ec) {
        ++failed_handshakes_;
        continue;
      }
      Exchange(secure);
      secure.shutdown(ec);
    }
  }

  // Reads one request from `stream`, records it and answers as scripted.
  template <typename Stream>
  void Exchange(Stream& stream) {
    namespace http = boost::beast::http;
    boost::system::error_code ec;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(stream, buffer, request, ec);
    if (ec) return;
    Received r;
    r.at = std::chrono::steady_clock::now();
    r.id = std::string(request["webhook-id"]);
    r.timestamp = std::string(request["webhook-timestamp"]);
    r.signature = std::string(request["webhook-signature"]);
    r.content_type = std::string(request[http::field::content_type]);
    r.body = request.body();
    r.target = std::string(request.target());
    r.signature_valid = Verify(r);
    Answer answer;
    {
      std::lock_guard lock(mu_);
      if (!script_.empty()) {
        answer = script_.front();
        script_.pop_front();
      } else {
        answer = default_;
      }
    }
    if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
    {
      std::lock_guard lock(mu_);
      received_.push_back(r);
    }
    cv_.notify_all();
    http::response<http::string_body> response{static_cast<http::status>(answer.status), 11};
    if (!answer.retry_after.empty()) response.set(http::field::retry_after, answer.retry_after);
    if (answer.status != 204 && answer.status != 304) response.body() = "ok";
    response.prepare_payload();
    http::write(stream, response, ec);
  }

  // Splits "v1,sig v1,sig2" and checks each against each key.
  bool Verify(const Received& r) const {
    size_t pos = 0;
    while (pos < r.signature.size()) {
      size_t end = r.signature.find(' ', pos);
      if (end == std::string::npos) end = r.signature.size();
      const std::string item = r.signature.substr(pos, end - pos);
      pos = end + 1;
      if (!item.starts_with("v1,")) continue;
      for (const auto& key : keys_) {
        if (ReceiverSignature(key, r.id, r.timestamp, r.body) == item.substr(3)) return true;
      }
    }
    return false;
  }

  const std::vector<std::string> keys_;
  std::optional<boost::asio::ssl::context> tls_;
  std::atomic<size_t> failed_handshakes_{0};
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Answer> script_;
  Answer default_;
  std::vector<Received> received_;
};

}  // namespace otpd::testing

#endif  // OTPD_TESTS_SERVER_HOOK_RECEIVER_H_
