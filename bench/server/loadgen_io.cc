#include "bench/server/loadgen_io.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "base/codec.h"
#include "server/config.h"
#include "server/protocol.h"

namespace otpd::loadgen {

std::optional<std::vector<Token>> LoadTokens(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string header;
  std::getline(in, header);
  std::string kind = header.substr(0, header.find(','));
  if (kind != "serial" && kind != "user") {
    std::fprintf(stderr, "%s: the header must start with serial, or user,\n", path.c_str());
    return std::nullopt;
  }
  std::vector<Token> tokens;
  std::string line;
  int row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cols;
    size_t start = 0;
    while (true) {
      size_t comma = line.find(',', start);
      cols.push_back(line.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    base::StatusOr<base::SecretBytes> seed =
        cols.size() >= 3 ? base::HexDecode(cols[1]) : base::InvalidArgumentError("columns");
    base::Wipe(line.data(), line.size());
    if (!seed.ok() || cols[0].empty()) {
      std::fprintf(stderr, "%s:%d: expected %s,seed_hex,counter[,digits]\n", path.c_str(), row,
                   kind.c_str());
      return std::nullopt;
    }
    Token t;
    t.selector = kind + "=" + cols[0];
    t.seed = std::move(seed).value();
    t.counter = std::stoull(cols[2]);
    t.digits = cols.size() >= 4 ? static_cast<unsigned>(std::stoul(cols[3])) : 6;
    tokens.push_back(std::move(t));
  }
  return tokens;
}

// Writes `tokens` in the format LoadTokens reads, with the counters they reached.
bool SaveTokens(const std::string& path, const std::string& source,
                const std::vector<Token>& tokens) {
  std::ifstream in(source);
  std::string header;
  std::getline(in, header);
  if (!header.empty() && header.back() == '\r') header.pop_back();
  std::ofstream out(path, std::ios::trunc);
  out << header << "\n";
  for (const Token& t : tokens) {
    out << t.selector.substr(t.selector.find('=') + 1) << "," << base::HexEncode(t.seed.span())
        << "," << t.counter << "," << t.digits << "\n";
  }
  out.flush();
  return static_cast<bool>(out);
}

int Connect(const std::string& unix_path, const std::string& tcp) {
  int fd = -1;
  if (!unix_path.empty()) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, unix_path.c_str(), sizeof(addr.sun_path) - 1);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      fd = -1;
    }
  } else {
    base::StatusOr<server::HostPort> hp = server::ParseHostPort(tcp);
    if (!hp.ok()) return -1;
    std::string host = hp->host == "localhost" ? "127.0.0.1" : hp->host;
    sockaddr_storage storage{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
      // Loopback only: 127.0.0.0/8.
      if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) return -2;
      v4->sin_family = AF_INET;
      v4->sin_port = htons(hp->port);
      len = sizeof(*v4);
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
      if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return -2;
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(hp->port);
      len = sizeof(*v6);
    } else {
      return -1;
    }
    fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&storage), len) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  if (fd >= 0 && ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    ::close(fd);
    fd = -1;
  }
  return fd;
}

std::optional<std::string> HelloLine(const std::string& spec) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::ifstream in(spec.substr(colon + 1));
  std::string key;
  if (!in || !std::getline(in, key)) return std::nullopt;
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
  std::string line = "HELLO\t0\tversion=1\tclient=" + spec.substr(0, colon) + "\tkey=";
  server::AppendEscaped(&line, key);
  base::Wipe(key.data(), key.size());
  return line + "\n";
}

std::optional<ReplyView> SplitReply(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  ReplyView reply;
  if (line.starts_with("OK\t")) {
    reply.ok = true;
    reply.reason = "ok";
    line.remove_prefix(3);
  } else if (line.starts_with("FAIL\t")) {
    line.remove_prefix(5);
  } else {
    return std::nullopt;
  }
  size_t tab = line.find('\t');
  reply.id = line.substr(0, tab);
  while (reply.reason.empty() && tab != std::string_view::npos) {
    line.remove_prefix(tab + 1);
    tab = line.find('\t');
    std::string_view field = line.substr(0, tab);
    if (field.starts_with("reason=")) reply.reason = field.substr(7);
  }
  if (reply.id.empty() || reply.reason.empty()) return std::nullopt;
  return reply;
}

void AppendNumber(std::string* out, uint64_t value) {
  char digits[20];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  out->append(digits, static_cast<size_t>(end - digits));
}

}  // namespace otpd::loadgen
