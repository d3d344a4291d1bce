// The table of otpd's options (server/config.h): for each, its TOML key, its command-line flag,
// its help, its kind and bounds, whether SIGHUP reloads it, and how it is read from and written
// to a ServerConfig. config.cc reads files and flags through it; --help, otpd.toml(5) and the
// example file are written from it, so that they cannot drift apart. Private to server/.

#ifndef OTPD_SERVER_INTERNAL_CONFIG_OPTIONS_H_
#define OTPD_SERVER_INTERNAL_CONFIG_OPTIONS_H_

#include <spdlog/common.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "server/config.h"

namespace otpd::server::config_options {

// An option's value: text, a number (in the unit its key names), a switch, or a list of texts.
using Value = std::variant<std::string, uint64_t, bool, std::vector<std::string>>;

// kList: a TOML array of strings; on the command line, the items separated by commas.
enum class Kind { kText, kNumber, kSwitch, kChoice, kList };

struct Option {
  std::string_view key;         // TOML key; "table.key" inside a table
  std::string_view flag;        // command-line flag, or "" when there is none
  std::string_view value_name;  // for --help and the docs
  std::string_view help;
  Kind kind = Kind::kText;
  uint64_t min = 0, max = UINT32_MAX;          // kNumber
  std::vector<std::string_view> choices = {};  // kChoice
  bool reloadable = false;
  std::string_view example = {};  // shown in the example file when the default is empty
  Value (*get)(const ServerConfig&) = nullptr;
  void (*set)(ServerConfig&, const Value&) = nullptr;
};

// A value's content by kind (the variant must hold that kind).
std::string Text(const Value& v);
std::vector<std::string> List(const Value& v);
uint64_t Number(const Value& v);

// log_level's names and levels.
inline constexpr std::pair<std::string_view, spdlog::level::level_enum> kLogLevels[] = {
    {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
    {"off", spdlog::level::off}};

// The one description of every option. The order is the example file's and --help's.
const std::vector<Option>& Options();
// The option with TOML key `key`, or null.
const Option* FindOption(std::string_view key);

}  // namespace otpd::server::config_options

#endif  // OTPD_SERVER_INTERNAL_CONFIG_OPTIONS_H_
