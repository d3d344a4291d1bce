// The command line explains itself: unknown commands are named with the valid ones, --version,
// every option and positional described, --json where a result is printed, tables with headers
// and ISO 8601 times; and bad arguments (a UPN that is not an address, a code of the wrong
// length) are usage errors that change nothing.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/codec.h"
#include "engine/credential.h"
#include "tests/tools/otpctl_env.h"

namespace otpd::tools {
namespace {

using otpd::testing::RunResult;

std::string AliceCode(int64_t offset_seconds = 0) {
  auto seed = base::Base32Decode("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
  auto cred = engine::Credential::Create(engine::OtpParams{}, seed->span());
  return cred->TotpAt(base::RealClock::Get()->NowUnixSeconds() + offset_seconds);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The names listed under "Subcommands:" in a --help text.
std::vector<std::string> Subcommands(const std::string& help) {
  std::vector<std::string> out;
  bool in_section = false;
  for (const std::string& line : Lines(help)) {
    if (line.empty()) in_section = false;
    if (in_section) {
      std::istringstream words(line);
      std::string name;
      words >> name;
      out.push_back(name);
    }
    if (line == "Subcommands:") in_section = true;
  }
  return out;
}

// Entries of the Options: and Positionals: sections (and option groups) of a --help text that
// have no description. CLI11 writes an entry indented by 2 (4 in an option group) and its
// description from column 30 (32), on the entry's line or, after a long entry, the next one.
std::vector<std::string> Undescribed(const std::string& help) {
  std::vector<std::string> out;
  const std::vector<std::string> lines = Lines(help);
  bool in_section = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty()) in_section = false;
    if (line == "Options:" || line == "Positionals:") {
      in_section = true;
      continue;
    }
    const size_t indent = line.find_first_not_of(' ');
    if (!in_section || indent == std::string::npos || line[indent] == '[') continue;
    std::string trimmed = line.substr(indent);
    while (!trimmed.empty() && trimmed.back() == ' ') trimmed.pop_back();
    if (trimmed.back() == ':' || (indent != 2 && indent != 4)) continue;
    const size_t column = 28 + indent;
    const bool same_line = line.size() > column && line[column - 1] == ' ' && line[column] != ' ';
    const bool next_line = i + 1 < lines.size() &&
                           lines[i + 1].rfind(std::string(column, ' '), 0) == 0 &&
                           lines[i + 1].find_first_not_of(' ') != std::string::npos;
    if (!same_line && !next_line) out.push_back(line);
  }
  return out;
}

class CliTest : public OtpctlEnv {
 protected:
  void SetUp() override {
    InitDataDir();
    ASSERT_EQ(Otpctl({"import", "fixtures/demo/tokens.csv"}).exit_code, 0);
  }
};

TEST_F(CliTest, AnUnknownCommandIsNamedWithTheValidOnes) {
  RunResult top = Raw({"frobnicate"});
  EXPECT_EQ(top.exit_code, 2);
  EXPECT_NE(top.err.find("'frobnicate'"), std::string::npos) << top.err;
  for (const char* command : {"init", "import", "token", "batch", "backup", "restore", "user"}) {
    EXPECT_NE(top.err.find(command), std::string::npos) << command << " in " << top.err;
  }
  RunResult nested = Otpctl({"token", "frobnicate"});
  EXPECT_EQ(nested.exit_code, 2);
  EXPECT_NE(nested.err.find("'frobnicate'"), std::string::npos) << nested.err;
  EXPECT_NE(nested.err.find("list, show, update, assign, activate"), std::string::npos)
      << nested.err;
  RunResult none = Raw({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("a command is required"), std::string::npos) << none.err;
}

TEST_F(CliTest, VersionIsTheProjectVersion) {
  RunResult r = Raw({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string("otpctl ") + OTPD_VERSION + "\n");
}

TEST_F(CliTest, EveryOptionAndPositionalIsDescribed) {
  std::vector<std::vector<std::string>> todo = {{}};
  std::set<std::string> seen;
  while (!todo.empty()) {
    std::vector<std::string> path = todo.back();
    todo.pop_back();
    std::vector<std::string> args = path;
    args.push_back("--help");
    RunResult r = Raw(args);
    std::string name = "otpctl";
    for (const std::string& p : path) name += " " + p;
    seen.insert(name);
    EXPECT_EQ(r.exit_code, 0) << name;
    for (const std::string& line : Undescribed(r.out)) {
      ADD_FAILURE() << name << ": no description for: " << line;
    }
    for (const std::string& sub : Subcommands(r.out)) {
      std::vector<std::string> deeper = path;
      deeper.push_back(sub);
      todo.push_back(deeper);
    }
  }
  EXPECT_TRUE(seen.count("otpctl token activate")) << "the walk missed commands";
  EXPECT_TRUE(seen.count("otpctl user unlock")) << "the walk missed commands";
}

TEST_F(CliTest, TablesHaveHeadersAndIsoTimes) {
  RunResult list = Otpctl({"token", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  ASSERT_FALSE(Lines(list.out).empty());
  EXPECT_EQ(Lines(list.out)[0].rfind("SERIAL", 0), 0u) << list.out;
  RunResult batches = Otpctl({"batch", "list"});
  ASSERT_EQ(batches.exit_code, 0) << batches.err;
  ASSERT_EQ(Lines(batches.out).size(), 2u) << batches.out;
  EXPECT_EQ(Lines(batches.out)[0].rfind("BATCH", 0), 0u) << batches.out;
  const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  const std::regex epoch(R"(\b1\d{9}\b)");
  EXPECT_TRUE(std::regex_search(Lines(batches.out)[1], iso)) << batches.out;
  EXPECT_FALSE(std::regex_search(batches.out, epoch)) << batches.out;
  RunResult show = Otpctl({"token", "show", "DEMO0001"});
  EXPECT_TRUE(std::regex_search(show.out, iso)) << show.out;
  EXPECT_FALSE(std::regex_search(show.out, epoch)) << show.out;
}

TEST_F(CliTest, ResultsAreAvailableAsJson) {
  auto parse = [](const std::string& text) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    EXPECT_FALSE(ec) << text;
    return v;
  };
  boost::json::value show = parse(Otpctl({"token", "show", "DEMO0001", "--json"}).out);
  ASSERT_TRUE(show.is_object());
  EXPECT_EQ(show.as_object()["serial"], "DEMO0001");
  EXPECT_TRUE(parse(Otpctl({"batch", "list", "--json"}).out).is_array());
  EXPECT_TRUE(parse(Otpctl({"token", "list", "--json"}).out).is_array());
  boost::json::value import = parse(Otpctl({"import", "fixtures/demo/tokens.csv", "--json"}).out);
  ASSERT_TRUE(import.is_object());
  EXPECT_EQ(import.as_object()["unchanged"], 3);
  boost::json::value exported =
      parse(Otpctl({"export", dir_.File("out.pskc"), "--psk-file",
                    PrivateCopy("fixtures/tokenio/psk_aes128.hex"), "--json"})
                .out);
  ASSERT_TRUE(exported.is_object());
  EXPECT_EQ(exported.as_object()["exported"], 3);
  boost::json::value backup = parse(Otpctl({"backup", dir_.File("b"), "--json"}).out);
  ASSERT_TRUE(backup.is_object());
  EXPECT_TRUE(backup.as_object().contains("manifest"));
}

TEST_F(CliTest, AssignChecksTheUpnAsImportDoes) {
  for (const std::string& upn : {std::string(""), std::string("not-an-email"), std::string("a@b"),
                                 std::string("two@@example.com")}) {
    RunResult r = Otpctl({"token", "assign", "DEMO0003", upn});
    EXPECT_EQ(r.exit_code, 2) << "'" << upn << "': " << r.out;
    EXPECT_NE(r.err.find("upn"), std::string::npos) << r.err;
  }
  EXPECT_NE(Otpctl({"token", "show", "DEMO0003"}).out.find("available"), std::string::npos);
  // A good one names a user only once the user exists, and is stored lower-cased, as import
  // stores it.
  RunResult nobody = Otpctl({"token", "assign", "DEMO0003", "Zoe@Example.COM"});
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_NE(nobody.err.find("no user zoe@example.com"), std::string::npos) << nobody.err;
  ASSERT_EQ(Otpctl({"user", "add", "zoe@example.com"}).exit_code, 0);
  ASSERT_EQ(Otpctl({"token", "assign", "DEMO0003", "Zoe@Example.COM"}).exit_code, 0);
  EXPECT_NE(Otpctl({"token", "list", "--user", "zoe@example.com"}).out.find("DEMO0003"),
            std::string::npos);
}

TEST_F(CliTest, ACodeOfTheWrongShapeIsAUsageErrorThatChangesNothing) {
  for (const char* code : {"12345", "1234567890", "12a456", ""}) {
    RunResult r = Otpctl({"token", "activate", "DEMO0001", code});
    EXPECT_EQ(r.exit_code, 2) << "'" << code << "': " << r.out << r.err;
    EXPECT_NE(r.err.find("6 to 9 digits"), std::string::npos) << r.err;
  }
  RunResult show = Otpctl({"token", "show", "DEMO0001"});
  EXPECT_NE(show.out.find("status:              assigned"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("activation failures: 0"), std::string::npos) << show.out;
}

TEST_F(CliTest, TheCodeCanComeFromStandardInput) {
  // "-" reads one line from standard input.
  RunResult dash = Otpctl({"token", "activate", "DEMO0001", "-"}, AliceCode() + "\n");
  EXPECT_EQ(dash.exit_code, 0) << dash.err;
  // So does leaving it out.
  ASSERT_EQ(Otpctl({"user", "add", "carol@example.com"}).exit_code, 0);
  ASSERT_EQ(Otpctl({"token", "assign", "DEMO0003", "carol@example.com"}).exit_code, 0);
  auto seed = base::Base32Decode("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U");
  auto cred = engine::Credential::Create(engine::OtpParams{}, seed->span());
  const std::string code = cred->TotpAt(base::RealClock::Get()->NowUnixSeconds());
  RunResult omitted = Otpctl({"token", "activate", "DEMO0003"}, code + "\r\n");
  EXPECT_EQ(omitted.exit_code, 0) << omitted.err;
  // The code is never repeated in the output.
  EXPECT_EQ(omitted.out.find(code), std::string::npos);
  EXPECT_EQ(omitted.err.find(code), std::string::npos);
  // Nothing on standard input is a usage error too.
  EXPECT_EQ(Otpctl({"token", "activate", "DEMO0002"}).exit_code, 2);
}

// --data-dir and --key-file on the command line win over $OTPD_DATA_DIR and $OTPD_KEY_FILE for
// every command, also where commands that share their options (token and batch, backup and
// restore) would read the environment for the one not run: a backup of another directory than
// the one named would be a silent disaster.
TEST_F(CliTest, CommandLineDirectoriesAndKeysWinOverTheEnvironment) {
  const std::string other_dir = dir_.File("other"), other_key = dir_.File("other.key");
  ASSERT_EQ(Raw({"init", "--data-dir", other_dir, "--key-file", other_key}).exit_code, 0);
  const std::vector<std::string> env = {"OTPD_DATA_DIR=" + other_dir, "OTPD_KEY_FILE=" + other_key};

  RunResult list = Raw({"token", "list", "--data-dir", DataDir(), "--key-file", KeyFile()}, env);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("DEMO0001"), std::string::npos) << list.out;

  const std::string dest = dir_.File("named-backup");
  RunResult backup = Raw({"backup", dest, "--data-dir", DataDir(), "--key-file", KeyFile()}, env);
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  // The backup holds the named directory's tokens (the other one has none).
  RunResult backed_up = Raw({"token", "list", "--data-dir", dest, "--key-file", KeyFile()});
  ASSERT_EQ(backed_up.exit_code, 0) << backed_up.err;
  EXPECT_NE(backed_up.out.find("DEMO0001"), std::string::npos) << backed_up.out;

  // The environment still gives what the command line leaves out.
  RunResult from_env =
      Raw({"token", "list"}, {"OTPD_DATA_DIR=" + DataDir(), "OTPD_KEY_FILE=" + KeyFile()});
  ASSERT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_NE(from_env.out.find("DEMO0001"), std::string::npos) << from_env.out;
}

TEST_F(CliTest, AdminApiOptionsAreCheckedBeforeAnythingIsOpened) {
  const auto before = Snapshot(DataDir());
  // Contradictions and malformed arguments are usage errors.
  EXPECT_EQ(Otpctl({"user", "list", "--online", "--offline"}).exit_code, 2);
  RunResult offline_url = Otpctl({"user", "list", "--offline", "--admin", "http://127.0.0.1:1"});
  EXPECT_EQ(offline_url.exit_code, 2);
  EXPECT_NE(offline_url.err.find("--offline"), std::string::npos) << offline_url.err;
  EXPECT_EQ(Otpctl({"user", "add", "not-an-address"}).exit_code, 2);
  EXPECT_EQ(Otpctl({"phone", "delete", "a@example.com", "fax"}).exit_code, 2);
  RunResult code = Otpctl({"software-token", "confirm", "a@example.com", "ID", "12345"});
  EXPECT_EQ(code.exit_code, 2);
  EXPECT_NE(code.err.find("6 to 9 digits"), std::string::npos) << code.err;
  // Neither a data directory nor --admin: nowhere to go.
  RunResult nowhere = Raw({"user", "list"});
  EXPECT_EQ(nowhere.exit_code, 2);
  EXPECT_NE(nowhere.err.find("--data-dir"), std::string::npos) << nowhere.err;
  // A URL of another scheme, and TCP without a key, are refused before any connection.
  RunResult ftp = Raw({"user", "list", "--admin", "ftp://127.0.0.1:1"});
  EXPECT_EQ(ftp.exit_code, 1);
  EXPECT_NE(ftp.err.find("--admin must be a URL"), std::string::npos) << ftp.err;
  RunResult keyless = Raw({"user", "list", "--admin", "https://127.0.0.1:1"});
  EXPECT_EQ(keyless.exit_code, 1);
  EXPECT_NE(keyless.err.find("OTPD_API_KEY"), std::string::npos) << keyless.err;
  EXPECT_EQ(Snapshot(DataDir()), before);
}

}  // namespace
}  // namespace otpd::tools
