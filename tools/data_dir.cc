#include "tools/data_dir.h"

#include <fstream>
#include <iterator>

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

}  // namespace otpd::tools
