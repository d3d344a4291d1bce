#include "tools/otpctl_keys.h"

#include <iostream>

#include "service/inventory.h"
#include "tools/data_dir.h"

namespace otpd::tools {
namespace {

int Fail(std::string_view what, const base::Status& s) {
  std::cerr << "otpctl " << what << ": " << s.message() << "\n";
  return 1;
}

int Backup(const KeysCommandOptions& o) {
  storage::RocksDbOptions options;
  options.path = o.data_dir;
  options.create_if_missing = false;
  auto store = storage::RocksDbStore::Open(options);
  if (!store.ok()) return Fail("backup", store.status());
  if (base::Status s = (*store)->CreateCheckpoint(o.dest); !s.ok()) return Fail("backup", s);
  std::cout << "checkpoint of " << o.data_dir << " written to " << o.dest
            << " (restore: docs/operations.md; it needs the current master key)\n";
  return 0;
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

KeysCommands AddKeysCommands(CLI::App& app, KeysCommandOptions& o) {
  CLI::App* backup = app.add_subcommand("backup", "Write a consistent checkpoint of a data dir");
  backup->add_option("DEST", o.dest, "Checkpoint directory (must not exist)")->required();
  backup->add_option("--data-dir", o.data_dir, "Data directory (the daemon must be stopped)");

  CLI::App* key = app.add_subcommand("key", "Master and data key rotation");
  key->require_subcommand(1);
  CLI::App* master = key->add_subcommand(
      "rotate-master", "Re-wrap the data keys under a new master key written to a new file");
  master->add_option("--new-key-file", o.new_key_file, "Where to write the new key (0600)")
      ->required();
  key->add_subcommand("rotate-data", "Add a new data key and re-seal every seed under it");
  key->add_subcommand("reseal", "Re-seal seeds not yet under the current data key");
  for (CLI::App* leaf : key->get_subcommands({})) {
    leaf->add_option("--data-dir", o.data_dir, "Data directory (the daemon must be stopped)");
    leaf->add_option("--key-file", o.key_file, "Current master key file");
    leaf->add_option("--batch-size", o.batch_size, "Records per re-seal commit");
  }
  return {backup, key};
}

int RunKeysCommand(const KeysCommands& c, const KeysCommandOptions& o) {
  if (c.backup->parsed()) return Backup(o);
  auto dir = OpenDataDir(o.data_dir, o.key_file, /*create_if_missing=*/false);
  if (!dir.ok()) return Fail("key", dir.status());
  const std::string verb = c.key->get_subcommands().front()->get_name();
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
