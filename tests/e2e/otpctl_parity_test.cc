// otpctl prints the same thing whichever way a command goes: every command that prints is run on
// one data directory with the daemon stopped (offline) and again with it running (online, through
// admin.sock), and the exit codes, standard output and standard error are compared byte for byte.
// Commands that change data are run on two identical copies of a data directory, one offline and
// one under a running daemon. Only what differs by nature is normalised: an import batch's id,
// which is new for every import.

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/codec.h"
#include "tests/e2e/e2e_env.h"

namespace otpd::e2e {
namespace {

using otpd::testing::Daemon;
using otpd::testing::RunResult;
using otpd::testing::TempDir;

constexpr char kAlice[] = "alice@example.com";
constexpr char kCarol[] = "carol@example.com";

std::string SeedFor(const std::string& serial) {
  std::string seed = serial + "-parity-seed";
  seed.resize(20, '#');
  return seed;
}

std::string Base32Of(const std::string& seed) {
  return base::Base32Encode({reinterpret_cast<const uint8_t*>(seed.data()), seed.size()},
                            /*pad=*/false);
}

std::string Show(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

// An import batch's id is new for every import (and so for each copy).
std::string Normalise(const std::string& text) {
  static const std::regex kBatch("batch [0-9a-f]{16}");
  return std::regex_replace(text, kBatch, "batch <id>");
}

class OtpctlParityTest : public ::testing::Test {
 protected:
  std::string Data(const std::string& name) const { return dir_.File(name); }

  // otpctl on `data` as its owner: through admin.sock when a daemon runs there, else offline.
  static RunResult Otpctl(const std::string& data, std::vector<std::string> args,
                          const std::string& input = "") {
    args.insert(args.begin(), OTPCTL_PATH);
    args.insert(args.end(), {"--data-dir", data, "--key-file", KeyFileFor(data)});
    return otpd::testing::Run(
        args, {"OTPD_MASTER_KEY", "OTPD_KEY_FILE", "OTPD_DATA_DIR", "OTPD_API_KEY"}, input);
  }

  // A token file of available TOTP tokens; a serial ending in "bare" has no manufacturer or model.
  std::string TokenFile(const std::string& name, const std::vector<std::string>& serials) {
    std::string csv = "upn,serial number,secret key,time interval,manufacturer,model\n";
    for (const std::string& s : serials) {
      csv += "," + s + "," + Base32Of(SeedFor(s)) + ",30," +
             (s.ends_with("bare") ? std::string(",") : std::string("Acme,K1")) + "\n";
    }
    const std::string path = dir_.File(name);
    otpd::testing::WriteFile(path, csv);
    return path;
  }

  // A data directory with something of every kind, made offline.
  void Populate(const std::string& data) {
    std::string error;
    ASSERT_TRUE(PrepareDataDir(data, {}, &error)) << error;
    const std::vector<std::vector<std::string>> steps = {
        {"import", TokenFile("tokens.csv", {"P1", "P2", "P3", "Pbare"})},
        {"user", "add", kAlice, "--display-name", "Alice Example"},
        {"user", "add", "bob@example.com"},
        {"token", "assign", "P1", kAlice},
        {"phone", "add", kAlice, "+1 4255551234"},
        {"email", "add", kAlice, "alice@example.org"},
        {"app-password", "create", kAlice, "mail client"},
        {"apikey", "create", "helpdesk", "--role", "reader", "--out", dir_.File("helpdesk.key")},
        {"software-token", "enrol", kAlice, "--no-confirm"},
    };
    for (const auto& step : steps) {
      RunResult r = Otpctl(data, step);
      ASSERT_EQ(r.exit_code, 0) << Show(step) << ": " << r.err;
    }
  }

  // Runs `args` on `offline` (no daemon) and `online` (a daemon running) and compares.
  void ExpectAlike(const std::string& offline, const std::string& online,
                   const std::vector<std::string>& args, const std::string& input = "") {
    RunResult off = Otpctl(offline, args, input);
    RunResult on = Otpctl(online, args, input);
    const std::string what = "otpctl " + Show(args);
    EXPECT_EQ(off.exit_code, on.exit_code)
        << what << "\noffline: " << off.err << "\nonline: " << on.err;
    EXPECT_EQ(Normalise(off.out), Normalise(on.out)) << what;
    EXPECT_EQ(Normalise(off.err), Normalise(on.err)) << what;
  }

  // A PSKC pre-shared key file, mode 0600 as key files must be.
  std::string PskFile() {
    const std::string path = dir_.File("psk.hex");
    otpd::testing::WriteFile(path, otpd::testing::ReadFile("fixtures/tokenio/psk_aes128.hex"));
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return path;
  }

  TempDir dir_;
};

// The read commands, with and without --json, and their refusals.
std::vector<std::vector<std::string>> ReadCommands(const std::string& export_path,
                                                   const std::string& psk_file) {
  return {
      {"token", "list"},
      {"token", "list", "--json"},
      {"token", "show", "P1"},
      {"token", "show", "Pbare"},
      {"token", "show", "P1", "--json"},
      {"token", "show", "NOSUCH"},
      {"batch", "list"},
      {"batch", "list", "--json"},
      {"user", "list"},
      {"user", "list", "--json"},
      {"user", "show", kAlice},
      {"user", "show", kAlice, "--json"},
      {"user", "show", "nobody@example.com"},
      {"user", "roles", kAlice},
      {"method", "list", kAlice},
      {"method", "list", kAlice, "--json"},
      {"app-password", "list", kAlice},
      {"app-password", "list", kAlice, "--json"},
      {"apikey", "list"},
      {"apikey", "list", "--json"},
      {"hooks", "list"},
      {"hooks", "list", "--json"},
      {"hooks", "dead-letters", "nosuch"},
      {"audit"},
      {"audit", "--json"},
      {"audit", "--limit", "3"},
      {"export", export_path, "--psk-file", psk_file},
  };
}

TEST_F(OtpctlParityTest, ReadCommandsPrintTheSameOnlineAndOffline) {
  const std::string data = Data("data");
  ASSERT_NO_FATAL_FAILURE(Populate(data));
  const std::string exported = dir_.File("tokens.pskc");
  const auto commands = ReadCommands(exported, PskFile());
  std::vector<RunResult> offline;
  for (const auto& args : commands) offline.push_back(Otpctl(data, args));
  ASSERT_EQ(offline.back().exit_code, 0) << offline.back().err;  // the export
  ASSERT_TRUE(std::filesystem::remove(exported));

  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(data))) << daemon.log();
  ASSERT_EQ(Otpctl(data, {"user", "list", "--online"}).exit_code, 0);
  for (size_t i = 0; i < commands.size(); ++i) {
    RunResult online = Otpctl(data, commands[i]);
    const std::string what = "otpctl " + Show(commands[i]);
    EXPECT_EQ(offline[i].exit_code, online.exit_code)
        << what << "\noffline: " << offline[i].err << "\nonline: " << online.err;
    EXPECT_EQ(offline[i].out, online.out) << what;
    EXPECT_EQ(offline[i].err, online.err) << what;
  }
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.log();
}

TEST_F(OtpctlParityTest, WriteCommandsPrintTheSameOnlineAndOffline) {
  const std::string offline = Data("offline");
  const std::string online = Data("online");
  ASSERT_NO_FATAL_FAILURE(Populate(offline));
  std::filesystem::copy(offline, online, std::filesystem::copy_options::recursive);
  std::filesystem::copy_file(KeyFileFor(offline), KeyFileFor(online));
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(online))) << daemon.log();
  ASSERT_EQ(Otpctl(online, {"user", "list", "--online"}).exit_code, 0);

  const TestToken p2{"P2", kCarol, SeedFor("P2"), {}};
  const std::string wrong = p2.Code(0) == "000000" ? "000001" : "000000";
  const std::vector<std::vector<std::string>> commands = {
      {"import", TokenFile("more.csv", {"P4", "P5"})},
      {"user", "add", kCarol, "--display-name", "Carol"},
      {"user", "add", kCarol},
      {"phone", "add", kCarol, "+1 4255550000"},
      {"phone", "enable-sms", kCarol},
      {"phone", "delete", kCarol, "mobile"},
      {"phone", "add", kCarol, "12345"},
      {"email", "add", kCarol, "carol@example.org"},
      {"token", "assign", "P2", kCarol},
      {"token", "assign", "P2", kCarol},
      {"token", "activate", "P2", "-"},
      {"token", "activate", "P3", "-"},
      {"token", "deactivate", "P2"},
      {"token", "unassign", "P2"},
      {"token", "delete", "P3"},
      {"token", "delete", "P1"},
      {"user", "require-reregister", kAlice},
      {"app-password", "delete", kAlice, "--all"},
      {"apikey", "revoke", "helpdesk"},
      {"hooks", "enable", "nosuch"},
      {"user", "delete", kCarol},
  };
  for (const auto& args : commands) {
    std::string input;
    if (args[0] == "token" && args[1] == "activate") input = wrong + "\n";
    ExpectAlike(offline, online, args, input);
  }
  // A right code, after the wrong one above.
  ExpectAlike(offline, online, {"token", "assign", "P2", kCarol});
  ExpectAlike(offline, online, {"token", "activate", "P2", "-"}, p2.Code(0) + "\n");
  ExpectAlike(offline, online, {"token", "list"});
  ExpectAlike(offline, online, {"user", "list"});
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.log();
}

// A backup prints only its result, on standard output, either way: RocksDB's own warnings while
// it takes the checkpoint do not reach the administrator's terminal.
TEST_F(OtpctlParityTest, BackupPrintsOnlyItsResult) {
  const std::string data = Data("data");
  ASSERT_NO_FATAL_FAILURE(Populate(data));
  const std::string dest = dir_.File("backup");
  RunResult offline = Otpctl(data, {"backup", dest});
  ASSERT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_EQ(offline.err, "");
  EXPECT_NE(offline.out.find("backup written to " + dest + ": 4 tokens"), std::string::npos)
      << offline.out;
  std::filesystem::remove_all(dest);

  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(data))) << daemon.log();
  RunResult online = Otpctl(data, {"backup", dest});
  ASSERT_EQ(online.exit_code, 0) << online.err;
  EXPECT_EQ(online.err, "");
  // The time a backup was taken differs by nature.
  static const std::regex kTaken("taken [0-9TZ:-]+");
  EXPECT_EQ(std::regex_replace(offline.out, kTaken, "taken <time>"),
            std::regex_replace(online.out, kTaken, "taken <time>"));
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.log();
}

// Batches are listed by the time of their import, the oldest first, beside a running daemon too.
TEST_F(OtpctlParityTest, BatchListIsInTimeOrder) {
  const std::string data = Data("data");
  std::string error;
  ASSERT_TRUE(PrepareDataDir(data, {}, &error)) << error;
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    const std::string serial = "B" + std::to_string(i);
    RunResult r = Otpctl(data, {"import", TokenFile(serial + ".csv", {serial}), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("\"batch\":\"([0-9a-f]{16})\""))) << r.out;
    ids.push_back(m[1]);
  }
  Daemon daemon;
  ASSERT_TRUE(daemon.Start(OTPD_PATH, DaemonArgs(data))) << daemon.log();
  RunResult list = Otpctl(data, {"batch", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> listed;
  std::istringstream lines(list.out);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) listed.push_back(line.substr(0, line.find_first_of(" \t")));
  EXPECT_EQ(listed, ids) << list.out;
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.log();
}

}  // namespace
}  // namespace otpd::e2e
