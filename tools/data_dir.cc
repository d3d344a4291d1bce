#include "tools/data_dir.h"

#include <fstream>
#include <iterator>

#include "base/codec.h"
#include "service/record_upgrade.h"

namespace otpd::tools {

std::string DefaultKeyFile(const std::string& data_dir) { return data_dir + "/master.key"; }

base::StatusOr<DataDir> OpenDataDir(const std::string& data_dir, const std::string& key_file,
                                    bool create_if_missing) {
  storage::RocksDbOptions options;
  options.path = data_dir;
  options.create_if_missing = create_if_missing;
  DataDir dir;
  OTPD_ASSIGN_OR_RETURN(dir.store, storage::RocksDbStore::Open(options));
  storage::MasterKeyOptions key_options;
  key_options.key_file = key_file.empty() ? DefaultKeyFile(data_dir) : key_file;
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes master, storage::LoadMasterKey(key_options));
  OTPD_ASSIGN_OR_RETURN(dir.keys, storage::KeyRing::Open(*dir.store, std::move(master)));
  // Records written by an earlier otpd are signed (once) before anything reads them.
  OTPD_RETURN_IF_ERROR(service::UpgradeRecords(*dir.store, *dir.keys));
  return dir;
}

base::StatusOr<base::SecretBytes> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::NotFoundError("cannot read " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.eof() && in.fail()) return base::UnavailableError("error reading " + path);
  size_t size = text.size();
  if (size > 0 && text[size - 1] == '\n') --size;
  if (size > 0 && text[size - 1] == '\r') --size;
  base::SecretBytes secret = base::SecretBytes::FromString(std::string_view(text).substr(0, size));
  base::Wipe(text.data(), text.size());
  return secret;
}

base::StatusOr<base::SecretBytes> ReadAesKeyFile(const std::string& path) {
  OTPD_ASSIGN_OR_RETURN(base::SecretBytes text, ReadSecretFile(path));
  auto sized = [](const base::SecretBytes& k) {
    return k.size() == 16 || k.size() == 24 || k.size() == 32;
  };
  if (auto hex = base::HexDecode(text.view()); hex.ok() && sized(*hex)) return std::move(*hex);
  if (auto b64 = base::Base64Decode(text.view()); b64.ok() && sized(*b64)) return std::move(*b64);
  if (sized(text)) return text;
  return base::InvalidArgumentError(path +
                                    ": not a 128, 192 or 256-bit AES key (hex, base64 or raw)");
}

}  // namespace otpd::tools
