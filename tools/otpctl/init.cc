#include "tools/otpctl/init.h"

#include <boost/json.hpp>
#include <iostream>

#include "tools/display.h"

namespace otpd::tools {

CLI::App* AddInitCommand(CLI::App& app, InitCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "init", "Create a new data directory and, if --key-file does not exist yet, its master key");
  AddDataDirFlags(cmd, o.dir);
  cmd->add_flag("--json", o.json, "Print the result as JSON");
  return cmd;
}

int RunInitCommand(const InitCommandOptions& o) {
  auto dir = OpenDataDir(o.dir, DataDirAccess::kCreate);
  if (!dir.ok()) {
    std::cerr << "otpctl init: " << dir.status().message() << "\n";
    return 1;
  }
  const std::string key = dir->key_file.empty()
                              ? dir->key_source
                              : (dir->created_key_file ? "new key file " : "existing key file ") +
                                    PrintablePath(dir->key_file) + " (mode 0600)";
  if (o.json) {
    boost::json::object out;
    out["data_dir"] = PrintablePath(o.dir.data_dir);
    out["key_source"] = PrintablePath(dir->key_source);
    out["key_file_created"] = dir->created_key_file;
    out["key_id"] = dir->key_id;
    out["data_key"] = dir->keys->current_version();
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
  }
  std::cout << "created data directory " << PrintablePath(o.dir.data_dir) << "\n"
            << "master key: " << key << ", key id " << dir->key_id << "\n"
            << "Keep a copy of the master key apart from the data backups: without it the seeds "
               "cannot be read.\n";
  return 0;
}

}  // namespace otpd::tools
