// Opening a RocksDB data directory: options, product marker, schema version, the clear errors.

#include <dirent.h>
#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "base/mutex.h"
#include "storage/internal/record_codec.h"
#include "storage/rocksdb/migrations.h"
#include "storage/rocksdb/rocksdb_backend.h"
#include "storage/rocksdb/schema.h"

namespace otpd::storage {
namespace {

namespace schema = rocksdb_schema;

// Data directories open in this process. RocksDB's LOCK is an fcntl lock, which a process never
// conflicts with itself on, so a second open from the same process is caught here.
base::Mutex open_dirs_mu;
std::set<std::string> open_dirs OTPD_GUARDED_BY(open_dirs_mu);

std::string CanonicalPath(const std::string& path) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : canonical.string();
}

base::Status InUseError(const std::string& dir) {
  return base::FailedPreconditionError("data directory " + dir +
                                       " is in use by another process (is otpd running?)");
}

base::Status ForeignError(const std::string& dir, std::string_view why) {
  return base::FailedPreconditionError("data directory " + dir +
                                       " is not an otpd data directory (" + std::string(why) + ")");
}

// Fails when another process holds RocksDB's lock on `dir`.
base::Status CheckLockFree(const std::string& dir) {
  std::string lock_path = dir + "/LOCK";
  int fd = open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return base::OkStatus();  // no LOCK file: nobody has it open
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  int rc = fcntl(fd, F_GETLK, &probe);
  close(fd);
  if (rc == 0 && probe.l_type != F_UNLCK) return InUseError(dir);
  return base::OkStatus();
}

base::Status OpenError(const rocksdb::Status& s, const std::string& dir) {
  if (s.IsIOError()) {
    std::string text = s.ToString();
    if (text.find("LOCK") != std::string::npos || text.find("lock ") != std::string::npos) {
      return InUseError(dir);
    }
  }
  // A file the database's own metadata names is missing: as bad as corruption.
  if (s.IsCorruption() || s.IsPathNotFound()) {
    return base::DataLossError("data directory " + dir + " is corrupt: " + s.ToString());
  }
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    return ForeignError(dir, "RocksDB refused it: " + s.ToString());
  }
  return FromRocksDb(s, "cannot open data directory " + dir);
}

enum class DirState { kMissing, kEmpty, kDatabase, kOther };

base::StatusOr<DirState> InspectDir(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return DirState::kMissing;
    return base::UnavailableError("cannot stat data directory " + dir + ": " +
                                  std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return base::FailedPreconditionError("data directory " + dir + " is not a directory");
  }
  if (stat((dir + "/CURRENT").c_str(), &st) == 0) return DirState::kDatabase;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return base::PermissionDeniedError("cannot read data directory " + dir + ": " +
                                       std::strerror(errno));
  }
  // "Empty" tolerates a master key file kept next to the database (tools/ may put it there) and
  // the lost+found of a dedicated filesystem.
  bool empty = true;
  while (dirent* e = readdir(d)) {
    std::string_view name(e->d_name);
    if (name != "." && name != ".." && name != "master.key" && name != "lost+found") empty = false;
  }
  closedir(d);
  return empty ? DirState::kEmpty : DirState::kOther;
}

// RocksDB's diagnostic log, sent to stderr (warnings and errors only) instead of a LOG file in
// the data directory: on a full disk, writing LOG fails too, and Debian's librocksdb (built with
// assertions) aborts on that failure instead of returning the write error to the committer.
class StderrLogger final : public rocksdb::Logger {
 public:
  StderrLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    std::fprintf(stderr, "rocksdb: %s\n", line);
  }
};

rocksdb::DBOptions MakeDbOptions(const RocksDbOptions& o) {
  rocksdb::DBOptions db;
  static const std::shared_ptr<rocksdb::Logger> logger = std::make_shared<StderrLogger>();
  db.info_log = logger;
  db.paranoid_checks = true;
  db.max_background_jobs = o.max_background_jobs;
  db.bytes_per_sync = 1 << 20;
  db.keep_log_file_num = 5;
  db.max_log_file_size = 16 << 20;
  // Point-in-time recovery (the default): a torn record at the WAL's tail after a crash is
  // dropped, everything acknowledged before it is kept.
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  return db;
}

rocksdb::ColumnFamilyOptions MakeNamespaceOptions(const RocksDbOptions& o,
                                                  const std::shared_ptr<rocksdb::Cache>& cache,
                                                  bool point_lookups) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.write_buffer_bytes;
  cf.level_compaction_dynamic_level_bytes = true;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks stay with their table readers instead of competing for the block
  // cache: with a million tokens the cache is far smaller than the data, and a filter block
  // (about 1.2 MiB per million keys) evicted and re-read on every cold Get made each one cost
  // milliseconds. They take about 3.5 MiB per million keys per namespace.
  table.cache_index_and_filter_blocks = false;
  table.format_version = 5;
  if (o.bloom_bits_per_key > 0) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(o.bloom_bits_per_key, false));
  }
  if (point_lookups) {
    // Hash index inside data blocks: a Get finds its key without a binary search; iteration still
    // works. Memtable bloom filter on whole keys: a Get for a key not in the memtable skips it.
    table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
    table.data_block_hash_table_util_ratio = 0.75;
    if (o.bloom_bits_per_key > 0) {
      cf.memtable_whole_key_filtering = true;
      cf.memtable_prefix_bloom_size_ratio = 0.02;
    }
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

std::vector<rocksdb::ColumnFamilyDescriptor> Descriptors(const RocksDbOptions& o,
                                                         const std::vector<std::string>& names) {
  auto cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> out;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyOptions cf;
    for (Namespace ns : AllNamespaces()) {
      if (name == NamespaceName(ns)) {
        bool point = ns != Namespace::kOutbox && ns != Namespace::kAudit;
        cf = MakeNamespaceOptions(o, cache, point);
      }
    }
    out.emplace_back(name, cf);
  }
  return out;
}

std::vector<std::string> AllColumnFamilyNames() {
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  for (Namespace ns : AllNamespaces()) names.emplace_back(NamespaceName(ns));
  return names;
}

// What the read-only probe found out about an existing database.
struct Probe {
  bool needs_init = false;  // an otpd directory whose creation was interrupted
  uint32_t schema_version = 0;
};

base::StatusOr<Probe> ProbeExisting(const RocksDbOptions& o,
                                    const std::vector<std::string>& names) {
  const std::string& dir = o.path;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::OpenForReadOnly(MakeDbOptions(o), dir, Descriptors(o, names), &handles, &raw);
  if (!s.ok()) return OpenError(s, dir);
  std::unique_ptr<rocksdb::DB> db(raw);
  auto cleanup = [&] {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close();
  };
  std::string product, version;
  rocksdb::Status ps = db->Get(rocksdb::ReadOptions(), std::string(schema::kProductKey), &product);
  rocksdb::Status vs =
      db->Get(rocksdb::ReadOptions(), std::string(schema::kSchemaVersionKey), &version);
  Probe probe;
  base::Status result;
  if ((!ps.ok() && !ps.IsNotFound()) || (!vs.ok() && !vs.IsNotFound())) {
    result = OpenError(ps.ok() ? vs : ps, dir);
  } else if (ps.IsNotFound()) {
    // No marker: adopt it only if it is exactly what an interrupted otpd creation leaves behind.
    std::set<std::string> have(names.begin(), names.end());
    auto want = AllColumnFamilyNames();
    bool all_empty = have == std::set<std::string>(want.begin(), want.end());
    for (size_t i = 0; all_empty && i < handles.size(); ++i) {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
      it->SeekToFirst();
      if (it->Valid()) all_empty = false;
    }
    if (all_empty) {
      probe.needs_init = true;
    } else {
      result = ForeignError(dir, "a RocksDB database without otpd's product marker");
    }
  } else if (product != schema::kProductName) {
    result = ForeignError(dir, "it belongs to \"" + product + "\"");
  } else {
    uint64_t v = 0;
    bool valid = !version.empty() && version.size() < 10;
    for (char c : version) {
      if (c < '0' || c > '9') valid = false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!valid || v == 0) {
      result = base::DataLossError("data directory " + dir + " has an unreadable schema version");
    } else if (v > schema::kCurrentSchemaVersion) {
      result = base::FailedPreconditionError(
          "data directory " + dir + " has schema version " + std::to_string(v) +
          ", newer than this otpd supports (" + std::to_string(schema::kCurrentSchemaVersion) +
          "); run a newer otpd or restore a backup made by this version");
    } else {
      probe.schema_version = static_cast<uint32_t>(v);
    }
  }
  cleanup();
  if (!result.ok()) return result;
  return probe;
}

}  // namespace

RocksDbBackend::~RocksDbBackend() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
  db_.reset();
  base::MutexLock lock(open_dirs_mu);
  open_dirs.erase(CanonicalPath(path_));
}

base::StatusOr<std::unique_ptr<RocksDbBackend>> RocksDbBackend::Open(const RocksDbOptions& o) {
  if (o.path.empty()) return base::InvalidArgumentError("RocksDbOptions.path is empty");
  const std::string& dir = o.path;
  OTPD_ASSIGN_OR_RETURN(DirState state, InspectDir(dir));
  if (state == DirState::kOther) {
    return ForeignError(dir, "it is not empty and holds no RocksDB database");
  }
  bool create = state != DirState::kDatabase;
  if (create && (!o.create_if_missing || o.read_only)) {
    return base::NotFoundError("data directory " + dir +
                               (state == DirState::kMissing ? " does not exist" : " is empty"));
  }
  if (create) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      return base::UnavailableError("cannot create data directory " + dir + ": " + ec.message());
  }
  std::string canonical = CanonicalPath(dir);
  {
    base::MutexLock lock(open_dirs_mu);
    if (open_dirs.count(canonical) != 0) return InUseError(dir);
    open_dirs.insert(canonical);
  }
  // From here on the registration must be undone on failure.
  auto unregister = [&] {
    base::MutexLock lock(open_dirs_mu);
    open_dirs.erase(canonical);
  };

  rocksdb::DBOptions db_options = MakeDbOptions(o);
  std::vector<std::string> names = AllColumnFamilyNames();
  Probe probe;
  if (create) {
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.error_if_exists = true;
    probe.needs_init = true;
  } else {
    // A read-only open takes no lock: RocksDB allows read-only instances beside the one writer,
    // so a read works while otpd runs.
    if (auto lock_free = o.read_only ? base::OkStatus() : CheckLockFree(dir); !lock_free.ok()) {
      unregister();
      return lock_free;
    }
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, dir, &names);
    if (!s.ok()) {
      unregister();
      return OpenError(s, dir);
    }
    auto probed = ProbeExisting(o, names);
    if (!probed.ok()) {
      unregister();
      return probed.status();
    }
    probe = *probed;
  }
  if (o.read_only && (probe.needs_init || probe.schema_version < schema::kCurrentSchemaVersion)) {
    unregister();
    return base::NotFoundError(
        "data directory " + dir +
        (probe.needs_init ? " was never fully initialised" : " has an older schema version") +
        ": open it once read-write (start otpd on it) first");
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      o.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, dir, Descriptors(o, names), &handles, &raw)
          : rocksdb::DB::Open(db_options, dir, Descriptors(o, names), &handles, &raw);
  if (!s.ok()) {
    unregister();
    return OpenError(s, dir);
  }
  // The backend owns the handles and the registration from now on.
  std::unique_ptr<RocksDbBackend> backend(
      new RocksDbBackend(dir, std::unique_ptr<rocksdb::DB>(raw), std::move(handles), o.read_only));
  for (Namespace ns : AllNamespaces()) {
    if (backend->cf(ns) == nullptr) {
      return base::DataLossError("data directory " + dir + " lacks column family " +
                                 std::string(NamespaceName(ns)));
    }
  }

  rocksdb::WriteBatch batch;
  if (probe.needs_init) {
    batch.Put(std::string(schema::kProductKey), std::string(schema::kProductName));
  } else if (probe.schema_version < schema::kCurrentSchemaVersion) {
    std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
    for (auto* h : backend->handles_) by_name[h->GetName()] = h;
    schema::MigrationContext ctx{backend->db_.get(), &by_name, &batch};
    auto migrations = schema::Migrations();
    for (uint32_t v = probe.schema_version; v < schema::kCurrentSchemaVersion; ++v) {
      base::Status migrated = migrations[v - 1](ctx);
      if (!migrated.ok()) {
        return migrated.WithContext("migrating data directory " + dir + " from schema version " +
                                    std::to_string(v));
      }
    }
  }
  if (batch.Count() > 0 || probe.schema_version != schema::kCurrentSchemaVersion) {
    batch.Put(std::string(schema::kSchemaVersionKey),
              std::to_string(schema::kCurrentSchemaVersion));
    rocksdb::WriteOptions sync;
    sync.sync = true;
    OTPD_RETURN_IF_ERROR(
        FromRocksDb(backend->db_->Write(sync, &batch), "initialising data directory " + dir));
  }
  return backend;
}

}  // namespace otpd::storage
