// The manual pages the build writes (tools/man/man_pages.h), checked against the programs
// themselves: every flag `otpd --help` lists is in otpd.8, every key of the example configuration
// is in otpd.toml.5, and every otpctl command has its section in otpctl.1 with every option its
// `--help` lists.

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testing/subprocess.h"
#include "tools/otpctl/app.h"

namespace otpd::tools {
namespace {

using otpd::testing::ReadFile;

// `text` as the pages write it: a word's hyphens as \-.
std::string Roff(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

// An option or key as a bold item tag in a page.
std::string BoldTag(const std::string& name) { return "\\fB" + Roff(name) + "\\fR"; }

// The long flags --help lists on its option lines (not those its prose mentions).
std::set<std::string> HelpFlags(const std::string& help) {
  static const std::regex line(R"(^\s+(?:-\w,)?(--[a-z0-9][a-z0-9-]*))");
  std::set<std::string> flags;
  std::istringstream in(help);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, line)) flags.insert(m[1]);
  }
  return flags;
}

// The section of otpctl.1 for the command `path` ("otpctl token list"): from its .SS heading to
// the next heading; "" when there is none.
std::string CommandSection(const std::string& page, const std::string& path) {
  for (const std::string& end : {std::string("\""), std::string(" ")}) {
    const size_t at = page.find(".SS \"" + path + end);
    if (at == std::string::npos) continue;
    size_t next = page.find("\n.S", at + 1);
    return page.substr(at, next == std::string::npos ? std::string::npos : next - at);
  }
  return "";
}

void CommandPaths(const CLI::App& app, const std::vector<std::string>& words,
                  std::vector<std::vector<std::string>>* out) {
  for (const CLI::App* sub :
       app.get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); })) {
    std::vector<std::string> path = words;
    path.push_back(sub->get_name());
    out->push_back(path);
    CommandPaths(*sub, path, out);
  }
}

TEST(ManPagesTest, OtpdPageHasEveryFlagOfItsHelp) {
  const auto help = otpd::testing::Run({OTPD_PATH, "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  const std::set<std::string> flags = HelpFlags(help.out);
  EXPECT_GE(flags.size(), 25u) << help.out;
  const std::string page = ReadFile(OTPD_MAN_DIR "/otpd.8");
  ASSERT_FALSE(page.empty());
  for (const std::string& flag : flags) {
    EXPECT_NE(page.find(BoldTag(flag)), std::string::npos) << flag << " is not in otpd.8";
  }
}

TEST(ManPagesTest, OtpdTomlPageHasEveryKeyOfTheExampleConfiguration) {
  const std::string page = ReadFile(OTPD_MAN_DIR "/otpd.toml.5");
  ASSERT_FALSE(page.empty());
  // docs/otpd.example.toml, which tests/server/config_test.cc holds to the options'
  // descriptions.
  static const std::regex key_line(R"(^(?:# )?([a-z_]+) = )");
  static const std::regex table_line(R"(^(?:# )?\[([a-z_]+)(?:\.[A-Za-z]+)?\])");
  std::istringstream in(ReadFile("docs/otpd.example.toml"));
  int keys = 0;
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, key_line)) {
      ++keys;
      EXPECT_NE(page.find(BoldTag(m[1])), std::string::npos) << m[1] << " is not in otpd.toml.5";
    } else if (std::regex_search(l, m, table_line)) {
      EXPECT_NE(page.find("[" + std::string(m[1])), std::string::npos)
          << "table " << m[1] << " is not in otpd.toml.5";
    }
  }
  EXPECT_GE(keys, 20);
}

TEST(ManPagesTest, OtpctlPageHasEveryCommandAndEveryOptionOfItsHelp) {
  const std::string page = ReadFile(OTPD_MAN_DIR "/otpctl.1");
  ASSERT_FALSE(page.empty());
  std::unique_ptr<OtpctlApp> cli = BuildOtpctlApp();
  std::vector<std::vector<std::string>> paths;
  CommandPaths(cli->app, {}, &paths);
  EXPECT_GE(paths.size(), 20u);
  for (const std::vector<std::string>& words : paths) {
    std::string path = "otpctl";
    std::vector<std::string> argv = {OTPCTL_PATH};
    for (const std::string& w : words) {
      path += " " + w;
      argv.push_back(w);
    }
    argv.push_back("--help");
    const auto help = otpd::testing::Run(argv);
    ASSERT_EQ(help.exit_code, 0) << path << ": " << help.err;
    const std::string section = CommandSection(page, path);
    ASSERT_FALSE(section.empty()) << path << " has no section in otpctl.1";
    for (const std::string& flag : HelpFlags(help.out)) {
      // --help is every command's; the page gives it once, among otpctl's own options.
      const std::string& where = flag == "--help" ? page : section;
      EXPECT_NE(where.find(BoldTag(flag)), std::string::npos)
          << path << " " << flag << " is not in its section of otpctl.1";
    }
  }
  const auto help = otpd::testing::Run({OTPCTL_PATH, "--help"});
  for (const std::string& flag : HelpFlags(help.out)) {
    EXPECT_NE(page.find(BoldTag(flag)), std::string::npos) << "otpctl " << flag;
  }
}

}  // namespace
}  // namespace otpd::tools
