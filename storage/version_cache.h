// A LocalBackend's memory of record versions (storage/local_backend.h), kept compact so that it can
// cover the whole hot working set (two state records per user) without a backend read per rewrite.
//
// A record is named by a 128-bit fingerprint of its namespace and key (KeyPrint), not by the key
// itself: 24 bytes a slot in an open-addressing table, where a map of strings costs about 80
// bytes an entry and an allocation per insert. Two keys whose fingerprints collide would share a
// version; with two independent 64-bit hashes the odds are about n^2 / 2^129 (1e-26 for four
// million keys), far below those of a disk error.
//
// Thread-safety: none; the committer thread owns it.

#ifndef OTPD_STORAGE_VERSION_CACHE_H_
#define OTPD_STORAGE_VERSION_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace otpd::storage {

struct KeyPrint {
  uint64_t a = 0;
  uint64_t b = 0;
  bool operator==(const KeyPrint&) const = default;
};

// Never all zero (the cache's empty-slot marker).
KeyPrint Fingerprint(Namespace ns, std::string_view key);

struct KeyPrintHash {
  size_t operator()(const KeyPrint& p) const { return static_cast<size_t>(p.a); }
};

class VersionCache {
 public:
  // Holds at most `max_entries` versions (0: none). The table starts small and doubles as it
  // fills, up to the size that keeps max_entries at 3/4 load; an insert beyond max_entries
  // forgets everything first.
  explicit VersionCache(size_t max_entries);

  std::optional<uint64_t> Find(const KeyPrint& key) const;
  void Put(const KeyPrint& key, uint64_t version);
  void Erase(const KeyPrint& key);
  void Clear();

  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }
  // Counts the calls that may have forgotten a version (Erase, Clear, and the Put that clears at
  // the limit). A version learned elsewhere while this stayed the same is still current unless
  // the key was written meanwhile (see LocalBackend::Learn).
  uint64_t forgets() const { return forgets_; }

 private:
  struct Slot {
    KeyPrint key;  // all zero: empty
    uint64_t version = 0;
  };

  size_t Home(const KeyPrint& key) const {
    return static_cast<size_t>(key.a) & (slots_.size() - 1);
  }
  // The slot holding `key`, or the empty slot where it would go.
  size_t Probe(const KeyPrint& key) const;
  void Grow();

  const size_t max_entries_;
  size_t max_slots_;
  std::vector<Slot> slots_;  // a power of two in size, or empty
  size_t size_ = 0;
  uint64_t forgets_ = 0;
};

}  // namespace otpd::storage

#endif  // OTPD_STORAGE_VERSION_CACHE_H_
