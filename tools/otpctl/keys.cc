#include "tools/otpctl/keys.h"

#include <iostream>

#include "service/admin/inventory.h"
#include "tools/data_dir.h"

namespace otpd::tools {
namespace {

int Fail(std::string_view what, const base::Status& s) {
  std::cerr << "otpctl " << what << ": " << s.message() << "\n";
  return 1;
}

int Reseal(storage::KeyRing& keys, const KeysCommandOptions& o) {
  storage::ResealStats stats;
  base::Status s = service::ResealTokenSeeds(keys, o.batch_size, &stats);
  if (!s.ok()) return Fail("key reseal", s);
  std::cout << "re-sealed " << stats.rewritten << " of " << stats.scanned
            << " token seeds under data key " << keys.current_version() << "\n";
  return 0;
}

}  // namespace

CLI::App* AddKeysCommands(CLI::App& app, KeysCommandOptions& o) {
  CLI::App* key = app.add_subcommand("key", "Master and data key rotation");
  key->require_subcommand(1);
  CLI::App* master = key->add_subcommand(
      "rotate-master", "Re-wrap the data keys under a new master key written to a new file");
  master
      ->add_option("--new-key-file", o.new_key_file,
                   "Where to write the new master key (must not exist; created with mode 0600)")
      ->required();
  key->add_subcommand("rotate-data", "Add a new data key and re-seal every seed under it");
  key->add_subcommand("reseal", "Re-seal seeds not yet under the current data key");
  for (CLI::App* leaf : key->get_subcommands({})) {
    AddDataDirFlags(leaf, o.dir);
    leaf->add_option("--batch-size", o.batch_size, "Records per re-seal commit (default 500)")
        ->check(CLI::PositiveNumber);
  }
  return key;
}

int RunKeysCommand(CLI::App* key, const KeysCommandOptions& o) {
  if (!o.new_key_file.empty() && !o.dir.insecure_key_in_data_dir &&
      IsInsideDirectory(o.new_key_file, o.dir.data_dir)) {
    return Fail(
        "key rotate-master",
        base::FailedPreconditionError(
            "new key file " + o.new_key_file + " is inside the data directory " + o.dir.data_dir +
            ": keep the key elsewhere, or pass --insecure-key-in-data-dir"));
  }
  auto dir = OpenDataDir(o.dir, DataDirAccess::kReadWrite);
  if (!dir.ok()) return Fail("key", dir.status());
  const std::string verb = key->get_subcommands().front()->get_name();
  if (verb == "rotate-master") {
    auto fresh = storage::GenerateMasterKey();
    if (!fresh.ok()) return Fail("key rotate-master", fresh.status());
    // The new key is on disk before the data keys depend on it.
    if (base::Status s = storage::WriteMasterKeyFile(o.new_key_file, *fresh); !s.ok()) {
      return Fail("key rotate-master", s);
    }
    if (base::Status s = dir->keys->RotateMasterKey(std::move(*fresh)); !s.ok()) {
      return Fail("key rotate-master", s);
    }
    std::cout << "data keys now wrapped under the key in " << o.new_key_file
              << "; configure it (--key-file) before the next start\n";
    return 0;
  }
  if (verb == "rotate-data") {
    auto version = dir->keys->RotateDataKey();
    if (!version.ok()) return Fail("key rotate-data", version.status());
    std::cout << "data key " << *version << " is current\n";
  }
  return Reseal(*dir->keys, o);
}

}  // namespace otpd::tools
