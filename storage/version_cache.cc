#include "storage/version_cache.h"

#include <bit>
#include <functional>
#include <utility>

namespace otpd::storage {
namespace {

constexpr size_t kInitialSlots = 1024;

// SplitMix64's finaliser: spreads every input bit over the output.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

KeyPrint Fingerprint(Namespace ns, std::string_view key) {
  // Two unrelated hashes: libstdc++'s (MurmurHash2 64A) and FNV-1a, each mixed with the namespace.
  const uint64_t n = static_cast<uint64_t>(ns) + 1;
  uint64_t a = Mix(std::hash<std::string_view>{}(key) ^ (n * 0x9e3779b97f4a7c15ULL));
  uint64_t b = 0xcbf29ce484222325ULL ^ n;
  for (char c : key) {
    b ^= static_cast<unsigned char>(c);
    b *= 0x100000001b3ULL;
  }
  b = Mix(b + key.size());
  if (a == 0 && b == 0) b = 1;
  return KeyPrint{a, b};
}

VersionCache::VersionCache(size_t max_entries) : max_entries_(max_entries) {
  // The largest table: max_entries at no more than 3/4 load.
  max_slots_ = max_entries == 0 ? 0 : std::bit_ceil(max_entries + (max_entries + 2) / 3);
}

size_t VersionCache::Probe(const KeyPrint& key) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = Home(key);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.key == key || s.key == KeyPrint{}) return i;
  }
}

std::optional<uint64_t> VersionCache::Find(const KeyPrint& key) const {
  if (size_ == 0) return std::nullopt;
  const Slot& s = slots_[Probe(key)];
  if (s.key == KeyPrint{}) return std::nullopt;
  return s.version;
}

void VersionCache::Put(const KeyPrint& key, uint64_t version) {
  if (max_entries_ == 0) return;
  if (slots_.empty()) slots_.resize(std::min(kInitialSlots, max_slots_));
  size_t i = Probe(key);
  if (slots_[i].key == key) {
    slots_[i].version = version;
    return;
  }
  if (size_ + 1 > max_entries_) {
    Clear();
  } else if ((size_ + 1) * 4 > slots_.size() * 3 && slots_.size() < max_slots_) {
    Grow();
  } else {
    slots_[i] = Slot{key, version};
    ++size_;
    return;
  }
  slots_[Probe(key)] = Slot{key, version};
  ++size_;
}

void VersionCache::Erase(const KeyPrint& key) {
  ++forgets_;
  if (size_ == 0) return;
  const size_t mask = slots_.size() - 1;
  size_t hole = Probe(key);
  if (slots_[hole].key == KeyPrint{}) return;
  // Backward-shift deletion: move later members of the probe run into the hole when the hole
  // lies on their way from their home slot, so that no lookup meets an empty slot too early.
  for (size_t j = (hole + 1) & mask; slots_[j].key != KeyPrint{}; j = (j + 1) & mask) {
    size_t home = Home(slots_[j].key);
    bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

void VersionCache::Clear() {
  ++forgets_;
  for (Slot& s : slots_) s = Slot{};
  size_ = 0;
}

void VersionCache::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::min(old.size() * 2, max_slots_), Slot{});
  for (const Slot& s : old) {
    if (s.key != KeyPrint{}) slots_[Probe(s.key)] = s;
  }
}

}  // namespace otpd::storage
