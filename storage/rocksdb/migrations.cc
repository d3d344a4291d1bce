#include "storage/rocksdb/migrations.h"

#include "storage/rocksdb/schema.h"

namespace otpd::storage::rocksdb_schema {

std::span<const MigrationFn> Migrations() {
  // Append a function here when kCurrentSchemaVersion grows: entry i turns version i+1 into i+2.
  static constexpr MigrationFn kMigrations[] = {nullptr};
  static_assert(std::size(kMigrations) == kCurrentSchemaVersion,
                "one migration per schema version above 1 (plus the placeholder)");
  return std::span<const MigrationFn>(kMigrations).first(kCurrentSchemaVersion - 1);
}

}  // namespace otpd::storage::rocksdb_schema
