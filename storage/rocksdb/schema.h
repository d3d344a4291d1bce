// The on-disk schema of an otpd RocksDB data directory.
//
// RocksDB's "default" column family belongs to the storage layer itself (the namespaces, kMeta
// included, belong to the service). It holds:
//   kProductKey        -> kProductName: refuses directories of other products
//   kSchemaVersionKey  -> decimal schema version
// Each namespace lives in the column family named NamespaceName(ns).
//
// Schema history:
//   1  initial: nine namespaces, values = 8-byte big-endian version + payload.
//
// A migration from version N to N+1 is a function registered in schema.cc's table; Open() runs
// the ones needed in order, each committing its changes and the new version atomically, and
// refuses versions above kCurrentSchemaVersion.

#ifndef OTPD_STORAGE_ROCKSDB_SCHEMA_H_
#define OTPD_STORAGE_ROCKSDB_SCHEMA_H_

#include <cstdint>
#include <string_view>

namespace otpd::storage::rocksdb_schema {

inline constexpr std::string_view kProductKey = "otpd.product";
inline constexpr std::string_view kProductName = "otpd";
inline constexpr std::string_view kSchemaVersionKey = "otpd.schema_version";
inline constexpr uint32_t kCurrentSchemaVersion = 1;

}  // namespace otpd::storage::rocksdb_schema

#endif  // OTPD_STORAGE_ROCKSDB_SCHEMA_H_
