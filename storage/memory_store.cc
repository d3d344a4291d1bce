#include "storage/memory_store.h"

#include <array>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/mutex.h"

namespace otpd::storage {
namespace {

class MemoryBackend final : public LocalBackend {
 public:
  explicit MemoryBackend(const PipelineOptions& options) : LocalBackend(options) {}

  base::StatusOr<std::optional<Record>> ReadStored(Namespace ns,
                                                   std::string_view key) const override {
    base::ReaderLock lock(mu_);
    const auto& map = maps_[static_cast<size_t>(ns)];
    auto it = map.find(key);
    if (it == map.end()) return std::optional<Record>();
    return std::optional<Record>(it->second);
  }

  base::StatusOr<uint64_t> ReadVersion(Namespace ns, std::string_view key) const override {
    base::ReaderLock lock(mu_);
    const auto& map = maps_[static_cast<size_t>(ns)];
    auto it = map.find(key);
    return it == map.end() ? 0 : it->second.version;
  }

  // Copies records out in chunks so that fn runs without the lock held (fn may submit writes).
  base::Status Scan(Namespace ns, std::string_view prefix, std::string_view start,
                    const ScanFn& fn) const override {
    constexpr size_t kChunk = 256;
    std::string from(start);
    bool inclusive = true;
    std::vector<std::pair<std::string, Record>> chunk;
    for (;;) {
      chunk.clear();
      {
        base::ReaderLock lock(mu_);
        const auto& map = maps_[static_cast<size_t>(ns)];
        auto it = inclusive ? map.lower_bound(from) : map.upper_bound(from);
        for (; it != map.end() && chunk.size() < kChunk; ++it) {
          if (!std::string_view(it->first).starts_with(prefix)) break;
          chunk.emplace_back(it->first, it->second);
        }
      }
      for (const auto& [key, record] : chunk) {
        OTPD_ASSIGN_OR_RETURN(bool more, fn(key, record));
        if (!more) return base::OkStatus();
      }
      if (chunk.size() < kChunk) return base::OkStatus();
      from = chunk.back().first;
      inclusive = false;
    }
  }

  base::Status Apply(std::span<const Mutation> mutations, bool /*sync*/) override {
    base::WriterLock lock(mu_);
    for (const Mutation& m : mutations) {
      auto& map = maps_[static_cast<size_t>(m.ns)];
      if (m.is_delete) {
        if (auto it = map.find(m.key); it != map.end()) map.erase(it);
      } else {
        Record& r = map[std::string(m.key)];
        r.value.assign(m.value);
        r.version = m.version;
      }
    }
    return base::OkStatus();
  }

 private:
  mutable base::SharedMutex mu_;
  std::array<std::map<std::string, Record, std::less<>>, kNamespaceCount> maps_
      OTPD_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<LocalBackend> NewMemoryBackend(const PipelineOptions& options) {
  return std::make_unique<MemoryBackend>(options);
}

MemoryStore::MemoryStore(PipelineOptions options)
    : PipelinedStore(NewMemoryBackend(options), options) {}

}  // namespace otpd::storage
