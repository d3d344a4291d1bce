// docs/otpctl.md names only commands that exist: every code span in it that starts with a command
// word (`token list SERIAL`, `otpctl user --data-dir D list`, `hooks …`) is looked up by running
// `otpctl <command> --help`, whose usage line must name that very command. (An unknown command
// with --help prints the parent's help and exits 0, so the exit code alone would not tell.)

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testing/subprocess.h"

namespace otpd::tools {
namespace {

using otpd::testing::ReadFile;
using otpd::testing::RunResult;

// The command words at the start of a code span: lower-case words up to the first argument
// (UPN, [--flag], --flag, …). An optional leading "otpctl" is dropped. Empty when the span does
// not start with a command word (a flag, a path, a JSON field such as last_event).
std::vector<std::string> CommandWords(const std::string& span) {
  static const std::regex kWord("^[a-z][a-z-]*$");
  std::istringstream in(span);
  std::vector<std::string> words;
  for (std::string w; in >> w;) {
    if (!std::regex_match(w, kWord)) break;
    words.push_back(w);
  }
  if (!words.empty() && words.front() == "otpctl") words.erase(words.begin());
  return words;
}

// Every distinct command named in `markdown`'s code spans (which may continue on the next line),
// as "token list". Fenced code blocks are examples, not spans, and are left out.
std::set<std::string> NamedCommands(const std::string& markdown) {
  static const std::regex kFence("```[^`]*```");
  static const std::regex kSpan("`([^`]+)`");
  const std::string text = std::regex_replace(markdown, kFence, "");
  std::set<std::string> commands;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kSpan);
       it != std::sregex_iterator(); ++it) {
    std::vector<std::string> words = CommandWords((*it)[1]);
    std::string path;
    for (const std::string& w : words) path += (path.empty() ? "" : " ") + w;
    if (!words.empty()) commands.insert(path);
  }
  return commands;
}

TEST(OtpctlDocsTest, TheSpanParserFindsCommands) {
  EXPECT_EQ(NamedCommands("`token list [--status S]`, `otpctl user --data-dir D list`, `hooks "
                          "…`, `--json`, `last_event`, `uid:N`, `backup DEST`, `seed`, `user\n"
                          "reset-password UPN`\n```sh\nsh -c x\n```\nand `tap create`"),
            (std::set<std::string>{"token list", "user", "hooks", "backup", "seed",
                                   "user reset-password", "tap create"}));
}

TEST(OtpctlDocsTest, EveryCommandTheGuideNamesExists) {
  const std::string guide = ReadFile("docs/otpctl.md");
  ASSERT_FALSE(guide.empty()) << "cannot read docs/otpctl.md (run from the source directory)";
  const std::set<std::string> commands = NamedCommands(guide);
  ASSERT_GT(commands.size(), 30u);  // the guide's table alone names more
  for (const std::string& command : commands) {
    std::vector<std::string> args = {OTPCTL_PATH};
    std::istringstream words(command);
    for (std::string w; words >> w;) args.push_back(w);
    args.push_back("--help");
    RunResult help = otpd::testing::Run(args, {"OTPD_DATA_DIR", "OTPD_KEY_FILE"});
    const std::string usage = "Usage: otpctl " + command + " [";
    EXPECT_TRUE(help.exit_code == 0 && help.out.find(usage) != std::string::npos)
        << "docs/otpctl.md names `" << command << "`, which is not an otpctl command";
  }
}

}  // namespace
}  // namespace otpd::tools
