// Schema migrations of a RocksDB data directory (see schema.h for the history).
//
// Migrations()[i] upgrades schema version i+1 to i+2. It adds its changes to ctx.batch (and may
// create column families through ctx.db first); the opener appends the new schema version to the
// same batch and writes it with sync, so a crash leaves either the old or the new version, never a
// half-migrated store. A migration must therefore be idempotent with respect to any column family
// it creates.

#ifndef OTPD_STORAGE_ROCKSDB_MIGRATIONS_H_
#define OTPD_STORAGE_ROCKSDB_MIGRATIONS_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <span>
#include <string>

#include "base/status.h"

namespace otpd::storage::rocksdb_schema {

struct MigrationContext {
  rocksdb::DB* db;
  std::map<std::string, rocksdb::ColumnFamilyHandle*>* column_families;  // by name
  rocksdb::WriteBatch* batch;
};

using MigrationFn = base::Status (*)(MigrationContext& ctx);

// Version 1 is the first schema, so there is nothing to migrate yet.
std::span<const MigrationFn> Migrations();

}  // namespace otpd::storage::rocksdb_schema

#endif  // OTPD_STORAGE_ROCKSDB_MIGRATIONS_H_
