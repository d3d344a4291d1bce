#include "tools/backup_manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "tools/display.h"

namespace otpd::tools {
namespace {

namespace json = boost::json;

std::string ManifestPath(const std::string& dir) { return dir + "/" + kManifestFile; }

}  // namespace

std::string ManifestJson(const BackupManifest& m) {
  json::object o;
  o["format"] = "otpd-backup";
  o["manifest_version"] = kManifestVersion;
  o["created"] = IsoTime(m.created);
  o["created_unix"] = m.created;
  o["source"] = m.source;
  o["schema_version"] = m.schema_version;
  json::array versions;
  for (uint32_t v : m.data_key_versions) versions.push_back(v);
  o["data_key_versions"] = std::move(versions);
  o["current_data_key"] = m.current_data_key;
  json::object key;
  key["source"] = m.key_source;
  key["key_file"] = m.key_file;
  key["key_id"] = m.key_id;
  o["master_key"] = std::move(key);
  o["tokens"] = m.tokens;
  return json::serialize(o);
}

base::Status WriteManifest(const std::string& dir, const BackupManifest& manifest) {
  const std::string path = ManifestPath(dir);
  const std::string text = ManifestJson(manifest) + "\n";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return base::UnavailableError("cannot create " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == text.size() && fsync(fd) == 0;
  close(fd);
  if (!ok) return base::UnavailableError("cannot write " + path);
  return base::OkStatus();
}

base::StatusOr<BackupManifest> ReadManifest(const std::string& dir) {
  const std::string path = ManifestPath(dir);
  std::ifstream in(path);
  if (!in) {
    return base::NotFoundError(dir + " has no " + kManifestFile +
                               ": it is not a backup made by otpctl backup");
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  auto bad = [&](const std::string& what) {
    return base::DataLossError(path + " is damaged: " + what);
  };
  if (ec || !v.is_object()) return bad("not a JSON object");
  const json::object& o = v.as_object();
  auto str = [&](const json::object& obj, const char* name, std::string* out) {
    const json::value* f = obj.if_contains(name);
    if (f == nullptr || !f->is_string()) return false;
    *out = std::string(f->as_string());
    return true;
  };
  auto num = [&](const json::object& obj, const char* name, auto* out) {
    const json::value* f = obj.if_contains(name);
    if (f == nullptr) return false;
    auto n = f->to_number<int64_t>(ec);
    if (ec || n < 0) return false;
    *out = static_cast<std::remove_pointer_t<decltype(out)>>(n);
    return true;
  };
  std::string format;
  if (!str(o, "format", &format) || format != "otpd-backup") return bad("not an otpd backup");
  int64_t version = 0;
  if (!num(o, "manifest_version", &version)) return bad("no manifest_version");
  if (version != kManifestVersion) {
    return base::FailedPreconditionError(path + " has manifest version " + std::to_string(version) +
                                         "; this otpctl reads version " +
                                         std::to_string(kManifestVersion));
  }
  BackupManifest m;
  const json::value* versions = o.if_contains("data_key_versions");
  const json::value* key = o.if_contains("master_key");
  if (!num(o, "created_unix", &m.created) || !str(o, "source", &m.source) ||
      !num(o, "schema_version", &m.schema_version) ||
      !num(o, "current_data_key", &m.current_data_key) || !num(o, "tokens", &m.tokens) ||
      versions == nullptr || !versions->is_array() || key == nullptr || !key->is_object() ||
      !str(key->as_object(), "source", &m.key_source) ||
      !str(key->as_object(), "key_file", &m.key_file) ||
      !str(key->as_object(), "key_id", &m.key_id)) {
    return bad("a field is missing or has the wrong type");
  }
  for (const json::value& e : versions->as_array()) {
    auto n = e.to_number<uint32_t>(ec);
    if (ec) return bad("data_key_versions");
    m.data_key_versions.push_back(n);
  }
  return m;
}

}  // namespace otpd::tools
