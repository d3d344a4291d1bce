// The only test code that touches RocksDB directly: it fabricates directories that otpd itself
// would never write (a foreign database, a future schema version).

#include <rocksdb/db.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "storage/rocksdb/schema.h"
#include "tests/storage/test_util.h"

namespace otpd::storage::testing {
namespace {

void Check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

}  // namespace

void CreateForeignRocksDb(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  Check(rocksdb::DB::Open(options, path, &raw), "open foreign db");
  std::unique_ptr<rocksdb::DB> db(raw);
  Check(db->Put(rocksdb::WriteOptions(), "someone-elses", "data"), "put");
  Check(db->Close(), "close");
}

void SetSchemaVersion(const std::string& path, const std::string& version) {
  std::vector<std::string> names;
  Check(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names), "list cfs");
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  Check(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &raw), "open");
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  Check(db->Put(sync, std::string(rocksdb_schema::kSchemaVersionKey), version), "put version");
  for (auto* h : handles) Check(db->DestroyColumnFamilyHandle(h), "destroy handle");
  Check(db->Close(), "close");
}

}  // namespace otpd::storage::testing
