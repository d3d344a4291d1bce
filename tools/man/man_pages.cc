#include "tools/man/man_pages.h"

#include <set>
#include <vector>

#include "server/config.h"
#include "storage/keyring.h"
#include "tools/data_dir.h"
#include "tools/man/roff.h"

namespace otpd::tools {
namespace {

using server::OptionDoc;

constexpr std::string_view kConfigFile = "/etc/otpd/otpd.toml";
constexpr std::string_view kKeyFile = "/etc/otpd/master.key";
constexpr std::string_view kDataDir = "/var/lib/otpd";
constexpr std::string_view kSocket = "/run/otpd/verify.sock";

std::string Source(std::string_view version) { return "otpd " + std::string(version); }

// "--flag VALUE" for a tag.
std::string FlagTag(const OptionDoc& d) {
  std::string tag = Bold(d.flag);
  if (!d.value_name.empty()) tag += " " + Italic(d.value_name);
  return tag;
}

// The key's default (or, without one, an example), reload and flag, after its help.
std::string OptionDetails(const OptionDoc& d, bool name_flag) {
  std::string text = d.help;
  if (!d.default_text.empty()) {
    text += " Default: " + d.default_text + ".";
  } else if (!d.example.empty()) {
    text += " Example: " + d.example + ".";
  }
  if (d.reloadable) text += " Reloaded on SIGHUP.";
  if (name_flag && !d.flag.empty()) text += " Flag: " + d.flag + ".";
  return text;
}

void SeeAlso(RoffPage& page, std::string_view others) {
  page.Section("SEE ALSO");
  page.Raw(std::string(others) + "\n");
  page.Paragraph(
      "The documentation in /usr/share/doc/otpd: install.md (the package), operations.md (data "
      "directory, master key, backup and restore), protocol.md (the verify socket), pam.md "
      "(pam_otpd.so) and otpd.example.toml.");
}

// ---- otpctl ---------------------------------------------------------------------------------

// `text` ending with a full stop.
std::string Sentence(std::string text) {
  if (!text.empty() && text.back() != '.') text += '.';
  return text;
}

// The value's name: the option's own (option_text), else CLI11's type without its checks
// ("TEXT" for "TEXT:{base32,hex}").
std::string ValueName(const CLI::Option& o) {
  if (!o.get_option_text().empty()) return o.get_option_text();
  const std::string type = o.get_type_name();
  return type.substr(0, type.find(':'));
}

// A command's commands; CLI11's option groups are nameless subcommands and are not among them.
std::vector<const CLI::App*> Commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty(); });
}

// A command's option groups ("Exactly one of:").
std::vector<const CLI::App*> OptionGroups(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return sub->get_name().empty(); });
}

std::string OptionTag(const CLI::Option& o) {
  if (!o.nonpositional()) return Italic(o.get_name(true));
  std::string tag;
  for (const std::string& s : o.get_snames()) tag += (tag.empty() ? "" : ", ") + Bold("-" + s);
  for (const std::string& l : o.get_lnames()) tag += (tag.empty() ? "" : ", ") + Bold("--" + l);
  if (o.get_type_size_max() > 0 && o.get_expected_max() > 0) {
    const std::string value = ValueName(o);
    if (!value.empty()) tag += " " + Italic(value);
  }
  return tag;
}

std::string OptionText(const CLI::Option& o) {
  std::string text = Sentence(o.get_description());
  if (o.get_required() && o.get_envname().empty()) text += " Required.";
  if (!o.get_envname().empty() && text.find(o.get_envname()) == std::string::npos) {
    text += " Default: $" + o.get_envname() + ".";
  }
  if (!o.get_default_str().empty()) text += " Default: " + o.get_default_str() + ".";
  return text;
}

// The options of `command` that --help shows, positionals first, then those of its option
// groups.
std::vector<const CLI::Option*> VisibleOptions(const CLI::App& command) {
  std::vector<const CLI::Option*> out;
  for (bool positional : {true, false}) {
    for (const CLI::Option* o :
         command.get_options([](const CLI::Option* o) { return !o->get_group().empty(); })) {
      if (o->nonpositional() != positional) out.push_back(o);
    }
  }
  for (const CLI::App* group : OptionGroups(command)) {
    for (const CLI::Option* o : VisibleOptions(*group)) out.push_back(o);
  }
  return out;
}

std::string Synopsis(const CLI::App& command) {
  std::string out = CommandPath(command);
  for (const CLI::Option* o : VisibleOptions(command)) {
    if (o->nonpositional()) continue;
    out += o->get_required() ? " " + o->get_name(true) : " [" + o->get_name(true) + "]";
  }
  if (!Commands(command).empty()) out += " COMMAND";
  return out;
}

void AddCommand(RoffPage& page, const CLI::App& command, std::set<std::string>* env) {
  page.Subsection(Synopsis(command));
  page.Paragraph(Sentence(command.get_description()));
  for (const CLI::Option* o : VisibleOptions(command)) {
    if (o == command.get_help_ptr()) continue;  // every command has it
    page.Item(OptionTag(*o), OptionText(*o));
    if (!o->get_envname().empty()) env->insert(o->get_envname());
  }
  for (const CLI::App* group : OptionGroups(command)) {
    std::string names;
    for (const CLI::Option* o : VisibleOptions(*group)) {
      names += (names.empty() ? "" : ", ") + o->get_name();
    }
    page.Paragraph(group->get_description() + " " + names + ".");
  }
  if (command.get_fallthrough() && command.get_parent() != nullptr &&
      command.get_parent()->get_parent() != nullptr) {
    page.Paragraph("Takes the options of " + CommandPath(*command.get_parent()) +
                   " too, before or after the command's name.");
  }
  for (const CLI::App* sub : Commands(command)) AddCommand(page, *sub, env);
}

}  // namespace

std::string CommandPath(const CLI::App& command) {
  std::string path;
  for (const CLI::App* at = &command; at != nullptr; at = at->get_parent()) {
    path = (at->get_parent() == nullptr ? std::string("otpctl") : at->get_name()) +
           (path.empty() ? "" : " " + path);
  }
  return path;
}

std::string OtpdManPage(std::string_view version) {
  RoffPage page("OTPD", 8, Source(version), "System Administration");
  page.Section("NAME");
  page.Raw("otpd \\- OATH (HOTP and TOTP) one-time code verification daemon\n");
  page.Section("SYNOPSIS");
  page.Raw(Bold("otpd") + " [" + Bold("--config") + " " + Italic("PATH") + "] [" +
           Italic("OPTION") + "]...\n");
  page.Section("DESCRIPTION");
  page.Paragraph(
      "otpd verifies HOTP and TOTP codes (RFC 4226, RFC 6238) of hardware and software OATH "
      "tokens for sign-in front ends (PAM, VPN gateways, web applications), which ask it over a "
      "Unix socket or a TCP listener. It never accepts the same code twice: an accepted code's "
      "new watermark is on disk before the answer is sent. Token seeds are sealed under the "
      "master key in the data directory's database.");
  page.Paragraph(
      "Options come from the TOML file given with --config (see otpd.toml(5)); flags given on "
      "the command line override it. otpd opens its data directory and serves until SIGTERM or "
      "SIGINT. A data directory that holds no database is refused unless --init is given, which "
      "creates it and, when the key file does not exist, the master key (otpctl init does the "
      "same). --check-config reports every error of the configuration and exits. While it runs, "
      "the data directory is locked: otpctl(1) works on it only while "
      "otpd is stopped.");
  page.Paragraph(
      "Started by systemd as a service of Type=notify, it tells systemd when it is ready (its "
      "data open and its sockets listening), reloading and stopping; its log lines then carry "
      "the journal's priority prefix instead of a time stamp.");
  page.Section("OPTIONS");
  for (const OptionDoc& d : server::DescribeCommandLineFlags()) page.Item(FlagTag(d), d.help + ".");
  for (const OptionDoc& d : server::DescribeOptions()) {
    if (d.flag.empty()) continue;
    page.Item(FlagTag(d), OptionDetails(d, false) + " Configuration key: " + d.key + ".");
  }
  page.Section("SIGNALS");
  page.Item(Bold("SIGHUP"),
            "Reads the configuration again and applies the options marked \"Reloaded on "
            "SIGHUP\"; a change to any other option is logged and takes effect at the next "
            "start. An invalid file changes nothing.");
  page.Item(Bold("SIGTERM") + ", " + Bold("SIGINT"),
            "Stops: requests in flight are answered within the shutdown grace time, then the "
            "data directory is closed.");
  page.Section("ENVIRONMENT");
  page.Item(Bold(storage::kMasterKeyEnvVar),
            "The master key, 32 bytes as 64 hex digits or 44 base64 characters. When set and "
            "not empty it "
            "is used instead of the key file.");
  page.Item(Bold("NOTIFY_SOCKET"), "Set by systemd: where otpd sends its readiness notifications.");
  page.Item(Bold("JOURNAL_STREAM"),
            "Set by systemd: when it names otpd's standard error, log lines carry the journal's "
            "priority prefix.");
  page.Section("FILES");
  page.Item(Bold(kConfigFile), "The configuration file of the packaged service.");
  page.Item(Bold(kKeyFile),
            "The master key (mode 0600, owned by the otpd user). Keep a copy apart from the "
            "backups: without it the seeds cannot be read.");
  page.Item(Bold(kDataDir), "The data directory (RocksDB).");
  page.Item(Bold(kSocket),
            "The Unix verify socket (mode 0660, group otpd): front ends that connect to it are "
            "members of the group otpd.");
  page.Section("EXIT STATUS");
  page.Item(Bold("0"),
            "Stopped on a signal, or printed what was asked for (--help, --version, "
            "--print-example-config, --check-config of a valid configuration).");
  page.Item(Bold("1"),
            "The data directory could not be opened (or holds no database and --init was not "
            "given) or the sockets not set up.");
  page.Item(Bold("2"), "The command line or the configuration file is invalid.");
  SeeAlso(page, "otpctl(1), otpd.toml(5), systemd.service(5)");
  return page.text();
}

std::string OtpdTomlManPage(std::string_view version) {
  RoffPage page("OTPD.TOML", 5, Source(version), "File Formats");
  page.Section("NAME");
  page.Raw("otpd.toml \\- configuration file of otpd\n");
  page.Section("SYNOPSIS");
  page.Raw(std::string(kConfigFile) + "\n");
  page.Section("DESCRIPTION");
  page.Paragraph(
      "otpd(8) reads its options from the TOML file named by --config. Each key below can also "
      "be given as a flag, which overrides the file. Keys left out take their defaults; an "
      "unknown key, a value of the wrong type or out of range is an error that names the key "
      "(never its value). SIGHUP makes otpd read the file again and apply the keys marked "
      "\"Reloaded on SIGHUP\". otpd --print-example-config prints a file with every key and its "
      "default.");
  std::string table;
  page.Section("KEYS");
  for (const OptionDoc& d : server::DescribeOptions()) {
    std::string key = d.key;
    if (size_t dot = key.find('.'); dot != std::string::npos) {
      if (key.substr(0, dot) != table) {
        table = key.substr(0, dot);
        page.Section("TABLE [" + table + "]");
      }
      key = key.substr(dot + 1);
    }
    std::string tag = Bold(key);
    if (!d.value_name.empty()) tag += " = " + Italic(d.value_name);
    page.Item(tag, OptionDetails(d, true));
  }
  page.Section("TABLE [clients.NAME]");
  page.Paragraph(
      "One table per TCP client of the verify socket, which authenticates with HELLO "
      "client=NAME key=KEY, and of the validate API, which authenticates with HTTP Basic "
      "NAME:KEY. NAME is 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'. Give one of key and "
      "key_file, or validate_without_key with networks, or both:");
  page.Item(Bold("key_file") + " = " + Italic("PATH"),
            "A file whose first line is the key (16 bytes or more). Keep it mode 0600, owned by "
            "the otpd user.");
  page.Item(Bold("key") + " = " + Italic("KEY"),
            "The key itself. The file then holds a secret: members of the group otpd may read "
            "/etc/otpd/otpd.toml, so prefer key_file.");
  page.Item(Bold("validate_without_key") + " = " + Italic("BOOL"),
            "true: the validate API admits a request that sends no Authorization header when its "
            "source address is in networks, as this client (privacyIDEA's PAM module and "
            "FreeRADIUS plugin cannot send a key). Default false. The validate API only: the "
            "verify socket's HELLO always needs a key. Anyone who can send from those addresses "
            "is this client: list only the hosts that run the clients, and firewall the rest.");
  page.Item(Bold("networks") + " = " + Italic("[\"ADDRESS/PREFIX\", ...]"),
            "With validate_without_key: the source networks (IPv4 or IPv6, such as "
            "\"10.1.2.0/24\" or \"fd00:1::/64\"; \"/32\" or \"/128\" for one host) whose "
            "requests are admitted. An address in several clients' networks is the client's with "
            "the longest prefix.");
  page.Section("TABLE [hooks.NAME]");
  page.Paragraph(
      "One table per hook: every lifecycle event (a method added or deleted, a token activated, "
      "a user locked, a password reset, an SMS code to send) reaches each hook at least once and "
      "in order; a failed delivery is retried on a growing schedule and becomes a dead letter "
      "after the last attempt (otpctl hooks). With store = \"etcd\", one node at a time "
      "delivers (the others take over when it stops).");
  page.Item(Bold("type") + " = " + Italic("KIND"),
            "\"exec\": run a program (no shell) with the event's JSON on standard input; "
            "\"webhook\": POST the event, signed the Standard Webhooks way.");
  page.Item(Bold("command") + " = " + Italic("[PROGRAM, ARG...]"), "exec: what to run.");
  page.Item(Bold("timeout_ms") + " = " + Italic("MS"),
            "How long one delivery may take before it counts as failed (the program is killed).");
  page.Item(Bold("url") + " = " + Italic("URL"), "webhook: where to POST (https:// or http://).");
  page.Item(Bold("ca_file") + " = " + Italic("PATH"),
            "webhook: the CA certificates (PEM) that the receiver's certificate must chain to; "
            "the system's by default.");
  page.Item(Bold("secret_file") + " = " + Italic("PATH"),
            "webhook: whsec_ signing secrets, one per line (several while one is rotated).");
  page.Item(Bold("secrets") + " = " + Italic("[SECRET...]"),
            "webhook: the same inline; prefer secret_file.");
  page.Item(Bold("event_secrets") + " = " + Italic("BOOL"),
            "Whether events that carry a secret (the code of an SMS to send) reach this hook with "
            "it (default true).");
  page.Item(Bold("retry_initial_ms") + " = " + Italic("MS"), "The first retry's delay.");
  page.Item(Bold("retry_max_ms") + " = " + Italic("MS"), "The longest delay between retries.");
  page.Item(Bold("attempts") + " = " + Italic("N"),
            "Deliveries tried before the event becomes a dead letter.");
  page.Section("EXAMPLE");
  page.Example(
      "data_dir = \"/var/lib/otpd\"\n"
      "key_file = \"/etc/otpd/master.key\"\n"
      "socket = \"/run/otpd/verify.sock\"\n"
      "listen = \"127.0.0.1:7733\"\n"
      "\n"
      "[limits]\n"
      "max_connections = 2048\n"
      "\n"
      "[clients.vpn]\n"
      "key_file = \"/etc/otpd/clients/vpn.key\"\n");
  SeeAlso(page, "otpd(8), otpctl(1)");
  return page.text();
}

std::string OtpctlManPage(const CLI::App& app, std::string_view version) {
  RoffPage page("OTPCTL", 1, Source(version), "User Commands");
  page.Section("NAME");
  page.Raw("otpctl \\- " + RoffText(app.get_description()) + "\n");
  page.Section("SYNOPSIS");
  page.Raw(Bold("otpctl") + " " + Italic("COMMAND") + " [" + Italic("OPTION") + "]...\n");
  page.Section("DESCRIPTION");
  page.Paragraph(
      "otpctl administers an otpd data directory: it creates one, imports token files, "
      "assigns and activates tokens, backs up, restores and rotates keys. It works offline, "
      "on the data directory of a stopped otpd(8) (it refuses one the daemon holds); commands "
      "that only read open it read-only. otpctl verify and otpctl code need no data directory.");
  // The footer's documentation, as installed.
  std::string footer = app.get_footer();
  for (size_t at = footer.find("docs/"); at != std::string::npos; at = footer.find("docs/", at)) {
    footer.replace(at, 5, "/usr/share/doc/otpd/");
    at += 20;
  }
  page.Paragraph(footer);
  page.Paragraph(
      "Seeds, passwords and keys are read from files, never from the command line. What otpctl "
      "writes is written with umask 077. Run it as the otpd user (for example runuser -u otpd "
      "-- otpctl ...) so that the files it creates belong to the daemon.");
  page.Section("OPTIONS");
  for (const CLI::Option* o : VisibleOptions(app)) page.Item(OptionTag(*o), OptionText(*o));
  page.Section("COMMANDS");
  std::set<std::string> env;
  for (const CLI::App* command : Commands(app)) AddCommand(page, *command, &env);
  page.Section("ENVIRONMENT");
  env.insert(storage::kMasterKeyEnvVar);
  for (const std::string& name : env) {
    if (name == kDataDirEnvVar) {
      page.Item(Bold(name), "The data directory, when --data-dir is not given.");
    } else if (name == kKeyFileEnvVar) {
      page.Item(Bold(name), "The master key file, when --key-file is not given.");
    } else if (name == storage::kMasterKeyEnvVar) {
      page.Item(Bold(name),
                "The master key itself, as 64 hex digits or base64 of 32 bytes; when set and not "
                "empty it is used instead of any key file.");
    } else {
      page.Item(Bold(name), "The default of the option that names it.");
    }
  }
  page.Section("EXIT STATUS");
  page.Item(Bold("0"), "Done (otpctl verify: the code was accepted).");
  page.Item(Bold("1"), "Refused or failed; the reason is on standard error.");
  page.Item(Bold("2"), "A usage error: an unknown command or option, a missing or bad value.");
  page.Section("EXAMPLES");
  page.Example(
      "otpctl init --data-dir /var/lib/otpd --key-file /etc/otpd/master.key\n"
      "export OTPD_DATA_DIR=/var/lib/otpd OTPD_KEY_FILE=/etc/otpd/master.key\n"
      "otpctl import tokens.csv\n"
      "otpctl token assign SERIAL alice@example.com\n"
      "otpctl token activate SERIAL        # reads the code the token shows\n"
      "otpctl verify --socket /run/otpd/verify.sock --user alice@example.com 123456\n");
  SeeAlso(page, "otpd(8), otpd.toml(5)");
  return page.text();
}

}  // namespace otpd::tools
