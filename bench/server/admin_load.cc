// otpd-adminload: drives the admin API over its Unix socket with closed-loop connections (one
// request in flight each) for a while and reports requests per second and latency percentiles.
// Used by bench/server/admin_bench.sh next to otpd-loadgen's sign-ins.
//
//   otpd-adminload --unix data/admin.sock --connections 4 --duration 15 --mix read
//
// read:  GET /v1.0/users/{upn}/authentication/methods for users of the token file's first column
//        (otpctl seed-load's UPNs), round robin;
// write: PUT /v1.0/users/bench-admin-N@example.com (create, then rename) and
//        POST/DELETE an email method on it: three audited, fenced changes per round.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

struct Worker {
  std::vector<double> latencies_us;
  uint64_t errors = 0;
  std::string first_error;
};

class Connection {
 public:
  explicit Connection(const std::string& path) : socket_(io_) {
    socket_.connect(asio::local::stream_protocol::endpoint(path));
  }
  // Sends one request and returns the status (0 on a transport error).
  unsigned Call(bhttp::verb verb, const std::string& target, const std::string& body) {
    bhttp::request<bhttp::string_body> req{verb, target, 11};
    req.set(bhttp::field::host, "localhost");
    req.keep_alive(true);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    boost::system::error_code ec;
    bhttp::write(socket_, req, ec);
    if (ec) return 0;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket_, buffer_, res, ec);
    if (ec) return 0;
    last_body_ = std::move(res.body());
    return res.result_int();
  }
  const std::string& last_body() const { return last_body_; }

 private:
  asio::io_context io_;
  asio::local::stream_protocol::socket socket_;
  beast::flat_buffer buffer_;
  std::string last_body_;
};

std::vector<std::string> ReadUpns(const std::string& file, size_t max) {
  std::vector<std::string> upns;
  std::ifstream in(file);
  std::string line;
  while (upns.size() < max && std::getline(in, line)) {
    auto comma = line.find(',');
    std::string upn = line.substr(0, comma);
    if (upn.find('@') != std::string::npos) upns.push_back(upn);
  }
  return upns;
}

std::string EmailBody(int round) {
  return R"({"emailAddress":"bench)" + std::to_string(round) + R"(@example.org"})";
}

// The id of the created method in a 201 body ({"id":"..."}), without a JSON parser.
std::string IdOf(const std::string& body) {
  auto key = body.find("\"id\":\"");
  if (key == std::string::npos) return "";
  auto start = key + 6;
  auto end = body.find('"', start);
  return body.substr(start, end - start);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Admin API load: closed-loop connections over the Unix socket"};
  std::string path, tokens, mix = "read";
  int connections = 4;
  double duration = 10;
  app.add_option("--unix", path, "admin socket")->required();
  app.add_option("--connections", connections, "connections (one request in flight each)");
  app.add_option("--duration", duration, "seconds");
  app.add_option("--mix", mix, "read or write")->check(CLI::IsMember({"read", "write"}));
  app.add_option("--tokens", tokens, "token file whose first column holds UPNs (read mix)");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> upns;
  if (mix == "read") {
    upns = ReadUpns(tokens, 100'000);
    if (upns.empty()) {
      std::fprintf(stderr, "otpd-adminload: --tokens must name a file of UPNs for --mix read\n");
      return 2;
    }
  }
  std::vector<Worker> workers(static_cast<size_t>(connections));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int w = 0; w < connections; ++w) {
    threads.emplace_back([&, w] {
      Worker& me = workers[static_cast<size_t>(w)];
      try {
        Connection c(path);
        uint64_t i = static_cast<uint64_t>(w);
        int round = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          // `want` 0: any 2xx.
          auto timed = [&](bhttp::verb verb, const std::string& target, const std::string& body,
                           unsigned want) {
            auto t0 = Clock::now();
            unsigned status = c.Call(verb, target, body);
            me.latencies_us.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
            if (want == 0 ? (status < 200 || status > 299) : status != want) {
              ++me.errors;
              if (me.first_error.empty()) {
                me.first_error = target + " answered " + std::to_string(status);
              }
            }
            return status;
          };
          if (mix == "read") {
            const std::string& upn = upns[i % upns.size()];
            i += static_cast<uint64_t>(connections);
            timed(bhttp::verb::get, "/v1.0/users/" + upn + "/authentication/methods", "", 200);
          } else {
            const std::string user =
                "/v1.0/users/bench-admin-" + std::to_string(w) + "@example.com";
            timed(bhttp::verb::put, user,
                  R"({"displayName":"Bench )" + std::to_string(round) + R"("})", 0);
            if (timed(bhttp::verb::post, user + "/authentication/emailMethods", EmailBody(round),
                      201) == 201) {
              timed(bhttp::verb::delete_,
                    user + "/authentication/emailMethods/" + IdOf(c.last_body()), "", 204);
            }
            ++round;
          }
        }
      } catch (const std::exception& e) {
        ++me.errors;
        me.first_error = e.what();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(duration));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> all;
  uint64_t errors = 0;
  for (const Worker& w : workers) {
    all.insert(all.end(), w.latencies_us.begin(), w.latencies_us.end());
    errors += w.errors;
    if (!w.first_error.empty()) std::fprintf(stderr, "error: %s\n", w.first_error.c_str());
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::printf(
      "mix=%s connections=%d requests=%zu errors=%llu rate=%.0f/s p50=%.2f ms "
      "p99=%.2f ms max=%.2f ms\n",
      mix.c_str(), connections, all.size(), static_cast<unsigned long long>(errors),
      all.size() / elapsed, pct(0.50) / 1000, pct(0.99) / 1000,
      all.empty() ? 0.0 : all.back() / 1000);
  return errors == 0 ? 0 : 1;
}
