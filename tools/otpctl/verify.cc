#include "tools/otpctl/verify.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstring>
#include <iostream>

#include "tools/data_dir.h"

namespace otpd::tools {
namespace {

int Connect(const VerifyCommandOptions& o, std::string* error) {
  if (o.tcp.empty()) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (o.socket.size() >= sizeof(addr.sun_path)) {
      *error = "socket path too long: " + o.socket;
      close(fd);
      return -1;
    }
    std::memcpy(addr.sun_path, o.socket.c_str(), o.socket.size() + 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      *error = "cannot connect to " + o.socket + ": " + std::strerror(errno);
      close(fd);
      return -1;
    }
    return fd;
  }
  size_t colon = o.tcp.rfind(':');
  if (colon == std::string::npos) {
    *error = "--tcp wants HOST:PORT";
    return -1;
  }
  std::string host = o.tcp.substr(0, colon), port = o.tcp.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    *error = "cannot resolve " + o.tcp;
    return -1;
  }
  int fd = socket(found->ai_family, SOCK_STREAM, 0);
  if (connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    *error = "cannot connect to " + o.tcp + ": " + std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool ReadLine(int fd, std::string* buffer, std::string* line) {
  while (true) {
    size_t nl = buffer->find('\n');
    if (nl != std::string::npos) {
      *line = buffer->substr(0, nl);
      buffer->erase(0, nl + 1);
      return true;
    }
    char chunk[4096];
    ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer->append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

CLI::App* AddVerifyCommand(CLI::App& app, VerifyCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("verify", "Ask a running otpd whether a code is right");
  cmd->add_option("--socket", o.socket,
                  "Unix verify socket (default data/verify.sock; otpd puts it in its data "
                  "directory unless configured otherwise)");
  cmd->add_option("--tcp", o.tcp, "TCP verify listener HOST:PORT instead of the socket");
  cmd->add_option("--client", o.client,
                  "TCP client name for HELLO (a [clients.NAME] of otpd's configuration)");
  cmd->add_option("--client-key-file", o.client_key_file, "File with the TCP client's key");
  auto* who = cmd->add_option_group("who", "Exactly one of:");
  who->add_option("--user", o.user, "The user (UPN) signing in");
  who->add_option("--serial", o.serial, "The token's serial number");
  who->require_option(1);
  cmd->add_option("OTP", o.otp, "The code the token shows")->required();
  cmd->add_flag("--json", o.json, "Print the reply's fields as a JSON object");
  return cmd;
}

int RunVerifyCommand(const VerifyCommandOptions& o) {
  std::string error;
  int fd = Connect(o, &error);
  if (fd < 0) {
    std::cerr << "otpctl verify: " << error << "\n";
    return 1;
  }
  std::string request = "HELLO\thello\tversion=1";
  if (!o.client.empty()) {
    auto key = ReadPrivateLine(o.client_key_file, "client key file");
    if (!key.ok()) {
      std::cerr << "otpctl verify: " << key.status().message() << "\n";
      close(fd);
      return 1;
    }
    request += "\tclient=" + o.client + "\tkey=" + std::string(key->view());
  }
  request += "\nVERIFY\tv1\t";
  request += o.user.empty() ? "serial=" + o.serial : "user=" + o.user;
  request += "\totp=" + o.otp + "\n";
  bool sent = SendAll(fd, request);
  base::Wipe(request.data(), request.size());
  std::string buffer, hello, reply;
  if (!sent || !ReadLine(fd, &buffer, &hello) || !ReadLine(fd, &buffer, &reply)) {
    std::cerr << "otpctl verify: the server closed the connection"
              << (hello.empty() ? "" : " (" + hello + ")") << "\n";
    close(fd);
    return 1;
  }
  close(fd);
  if (hello.rfind("OK", 0) != 0) {
    std::cerr << "otpctl verify: HELLO refused: " << hello << "\n";
    return 1;
  }
  const bool accepted = reply.rfind("OK", 0) == 0;
  if (o.json) {
    // "OK\tid\tkey=value..." -> {"result":"OK","id":"id","key":"value",...}
    boost::json::object out;
    size_t start = 0;
    for (int field = 0; start <= reply.size(); ++field) {
      size_t tab = reply.find('\t', start);
      if (tab == std::string::npos) tab = reply.size();
      const std::string part = reply.substr(start, tab - start);
      if (field == 0) {
        out["result"] = part;
      } else if (field == 1) {
        out["id"] = part;
      } else if (size_t eq = part.find('='); eq != std::string::npos) {
        out[part.substr(0, eq)] = part.substr(eq + 1);
      }
      start = tab + 1;
    }
    out["accepted"] = accepted;
    std::cout << boost::json::serialize(out) << "\n";
    return accepted ? 0 : 1;
  }
  std::cout << reply << "\n";
  return accepted ? 0 : 1;
}

}  // namespace otpd::tools
