#include "storage/rocksdb/rocksdb_backend.h"

#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "storage/internal/record_codec.h"

namespace otpd::storage {

base::Status FromRocksDb(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return base::OkStatus();
  std::string message = std::string(context) + ": " + s.ToString();
  if (s.IsCorruption()) return base::DataLossError(message);
  if (s.IsNotFound()) return base::NotFoundError(message);
  if (s.IsInvalidArgument()) return base::InvalidArgumentError(message);
  if (s.IsNotSupported()) return base::UnimplementedError(message);
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsAborted() ||
      s.IsShutdownInProgress() || s.IsIncomplete()) {
    return base::UnavailableError(message);
  }
  return base::InternalError(message);
}

RocksDbBackend::RocksDbBackend(std::string path, std::unique_ptr<rocksdb::DB> db,
                               std::vector<rocksdb::ColumnFamilyHandle*> handles, bool read_only)
    : path_(std::move(path)),
      db_(std::move(db)),
      handles_(std::move(handles)),
      read_only_(read_only) {
  for (auto* h : handles_) {
    for (Namespace ns : AllNamespaces()) {
      if (h->GetName() == NamespaceName(ns)) namespaces_[static_cast<size_t>(ns)] = h;
    }
  }
}

namespace {

base::StatusOr<std::optional<Record>> DecodeOrCorrupt(const rocksdb::PinnableSlice& value,
                                                      Namespace ns) {
  auto record = internal::DecodeRecord(std::string_view(value.data(), value.size()));
  if (!record) {
    return base::DataLossError("record in namespace " + std::string(NamespaceName(ns)) +
                               " is shorter than its version prefix");
  }
  return std::optional<Record>(std::move(*record));
}

}  // namespace

base::StatusOr<std::optional<Record>> RocksDbBackend::ReadStored(Namespace ns,
                                                                 std::string_view key) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(ns), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<Record>();
  if (!s.ok()) return FromRocksDb(s, "read from " + path_);
  return DecodeOrCorrupt(value, ns);
}

base::StatusOr<uint64_t> RocksDbBackend::ReadVersion(Namespace ns, std::string_view key) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(ns), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return uint64_t{0};
  if (!s.ok()) return FromRocksDb(s, "read from " + path_);
  if (value.size() < internal::kVersionPrefixBytes) {
    return base::DataLossError("record in namespace " + std::string(NamespaceName(ns)) +
                               " is shorter than its version prefix");
  }
  return internal::ReadBigEndian64(std::string_view(value.data(), value.size()));
}

base::Status RocksDbBackend::Scan(Namespace ns, std::string_view prefix, std::string_view start,
                                  const ScanFn& fn) const {
  rocksdb::ReadOptions options;
  std::optional<std::string> upper = internal::PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice;
  if (upper) {
    upper_slice = rocksdb::Slice(*upper);
    options.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, cf(ns)));
  for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(prefix)) break;
    auto record = internal::DecodeRecord(std::string_view(it->value().data(), it->value().size()));
    if (!record) {
      return base::DataLossError("record in namespace " + std::string(NamespaceName(ns)) +
                                 " is shorter than its version prefix");
    }
    OTPD_ASSIGN_OR_RETURN(bool more, fn(key, *record));
    if (!more) return base::OkStatus();
  }
  return FromRocksDb(it->status(), "scan of " + path_);
}

base::Status RocksDbBackend::Apply(std::span<const Mutation> mutations, bool sync) {
  if (read_only_) {
    return base::FailedPreconditionError("data directory " + path_ + " is open read-only");
  }
  if (last_write_failed_) {
    // A failed WAL write or sync puts RocksDB in read-only mode; try to leave it so that the store
    // recovers once the underlying problem (a full disk, say) is gone. If it cannot resume, the
    // write below fails and reports why.
    (void)db_->Resume();
  }
  rocksdb::Status s;
  if (mutations.empty()) {
    s = sync ? db_->FlushWAL(/*sync=*/true) : rocksdb::Status::OK();
  } else {
    // In key order: RocksDB's memtable skiplist keeps where its last insert went, and a key near
    // the previous one reuses most of that search, where a random order repeats all of it (about
    // 20 cache-missing comparisons per key with a million users). The sort is stable, so two
    // changes of one key keep their order and the later one wins, as before.
    std::vector<const Mutation*> order(mutations.size());
    for (size_t i = 0; i < mutations.size(); ++i) order[i] = &mutations[i];
    std::stable_sort(order.begin(), order.end(), [](const Mutation* a, const Mutation* b) {
      return a->ns != b->ns ? a->ns < b->ns : a->key < b->key;
    });
    rocksdb::WriteBatch batch;
    for (const Mutation* mutation : order) {
      const Mutation& m = *mutation;
      rocksdb::Slice key(m.key.data(), m.key.size());
      if (m.is_delete) {
        s = batch.Delete(cf(m.ns), key);
      } else {
        char prefix[internal::kVersionPrefixBytes];
        for (size_t i = 0; i < sizeof prefix; ++i) {
          prefix[i] = static_cast<char>((m.version >> (56 - 8 * i)) & 0xff);
        }
        rocksdb::Slice parts[2] = {rocksdb::Slice(prefix, sizeof prefix),
                                   rocksdb::Slice(m.value.data(), m.value.size())};
        s = batch.Put(cf(m.ns), rocksdb::SliceParts(&key, 1), rocksdb::SliceParts(parts, 2));
      }
      if (!s.ok()) return FromRocksDb(s, "building write batch for " + path_);
    }
    rocksdb::WriteOptions options;
    options.sync = sync;
    s = db_->Write(options, &batch);
  }
  last_write_failed_ = !s.ok();
  return FromRocksDb(s, std::string(sync ? "durable" : "relaxed") + " write to " + path_);
}

base::Status RocksDbBackend::Checkpoint(const std::string& dest_dir) const {
  struct stat st;
  if (stat(dest_dir.c_str(), &st) == 0) {
    return base::AlreadyExistsError("checkpoint destination " + dest_dir + " already exists");
  }
  rocksdb::Checkpoint* raw = nullptr;
  OTPD_RETURN_IF_ERROR(
      FromRocksDb(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint of " + path_));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocksDb(checkpoint->CreateCheckpoint(dest_dir),
                     "checkpoint of " + path_ + " to " + dest_dir);
}

base::Status RocksDbBackend::Flush() {
  rocksdb::FlushOptions options;
  options.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(namespaces_.begin(), namespaces_.end());
  return FromRocksDb(db_->Flush(options, cfs), "flush of " + path_);
}

}  // namespace otpd::storage
