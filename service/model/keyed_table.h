// KeyedTable maps string keys to values for the sign-in cache, where a million users make every
// lookup a string of cache misses. std::unordered_map costs two divisions and three dependent
// loads (bucket, node, next node's hash) before it reaches the key; here a lookup reads one slot
// of a flat array (hash and pointer side by side, found with a multiply and a shift) and then the
// entry, which holds the key and the value together.
//
// The caller supplies each key's 64-bit hash, so that one hash can also pick a lock stripe. Keys
// are always compared in full: equal hashes never stand for equal keys. Open addressing with
// linear probing, at most 3/4 full, backward-shift deletion (no tombstones). Values do not move
// when the table grows: a reference stays valid until its key is erased.
//
// Thread-safety: none; the sign-in cache guards each table with its stripe's mutex.

#ifndef OTPD_SERVICE_MODEL_KEYED_TABLE_H_
#define OTPD_SERVICE_MODEL_KEYED_TABLE_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otpd::service {

template <typename T>
class KeyedTable {
 public:
  KeyedTable() = default;
  KeyedTable(const KeyedTable&) = delete;
  KeyedTable& operator=(const KeyedTable&) = delete;

  // The value stored under `key`, or nullptr.
  T* Find(std::string_view key, uint64_t hash) const {
    if (size_ == 0) return nullptr;
    const Slot& s = slots_[Probe(key, hash)];
    return s.entry ? &s.entry->value : nullptr;
  }

  // Stores `value` under `key` unless the key is already present; returns the value now stored.
  T& Insert(std::string_view key, uint64_t hash, T value) {
    if (slots_.empty() || (size_ + 1) * 4 > slots_.size() * 3) Grow();
    Slot& s = slots_[Probe(key, hash)];
    if (!s.entry) {
      s.hash = hash;
      s.entry = std::make_unique<Entry>(Entry{std::string(key), std::move(value)});
      ++size_;
    }
    return s.entry->value;
  }

  // Removes `key`; false when it was not present.
  bool Erase(std::string_view key, uint64_t hash) {
    if (size_ == 0) return false;
    const size_t mask = slots_.size() - 1;
    size_t hole = Probe(key, hash);
    if (!slots_[hole].entry) return false;
    slots_[hole].entry.reset();
    // Move later members of the probe run back into the hole when the hole lies between their
    // home slot and where they are, so that no lookup stops at an empty slot too early.
    for (size_t j = (hole + 1) & mask; slots_[j].entry; j = (j + 1) & mask) {
      const size_t home = Home(slots_[j].hash);
      const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        slots_[hole] = std::move(slots_[j]);
        hole = j;
      }
    }
    --size_;
    return true;
  }

  size_t size() const { return size_; }

  // Slot-by-slot access, for a sweep over the table (the sign-in cache's eviction clock): the
  // number of slots, and the entry in a slot (key, hash and value), or nullopt for an empty slot.
  // Erasing an entry may move a later entry into its slot; a sweep re-reads the slot after an
  // erase. Growth reorders everything.
  struct SlotView {
    std::string_view key;
    uint64_t hash;
    T* value;
  };
  size_t slot_count() const { return slots_.size(); }
  std::optional<SlotView> At(size_t slot) const {
    const Slot& s = slots_[slot];
    if (!s.entry) return std::nullopt;
    return SlotView{s.entry->key, s.hash, &s.entry->value};
  }

 private:
  static constexpr size_t kInitialSlots = 16;

  struct Entry {
    std::string key;
    T value;
  };
  struct Slot {
    uint64_t hash = 0;
    std::unique_ptr<Entry> entry;  // null: empty
  };

  // Fibonacci hashing: the top bits of hash * 2^64/phi. The callers' stripes use the hash's low
  // bits, which are therefore the same for every key of one table.
  size_t Home(uint64_t hash) const {
    return static_cast<size_t>((hash * 0x9e3779b97f4a7c15ULL) >> shift_);
  }

  // The slot holding `key`, or the empty slot where it would go.
  size_t Probe(std::string_view key, uint64_t hash) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = Home(hash);; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (!s.entry || (s.hash == hash && s.entry->key == key)) return i;
    }
  }

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    const size_t n = old.empty() ? kInitialSlots : old.size() * 2;
    slots_ = std::vector<Slot>(n);
    shift_ = 64 - std::countr_zero(n);
    const size_t mask = n - 1;
    for (Slot& s : old) {
      if (!s.entry) continue;
      size_t i = Home(s.hash);
      while (slots_[i].entry) i = (i + 1) & mask;
      slots_[i] = std::move(s);
    }
  }

  std::vector<Slot> slots_;  // a power of two in size, or empty
  int shift_ = 64;
  size_t size_ = 0;
};

}  // namespace otpd::service

#endif  // OTPD_SERVICE_MODEL_KEYED_TABLE_H_
