// A seed's sign-in state outlives every serial that holds it. The codes a seed shows are the same
// whatever serial, user or file it arrives under, so the watermark it reached must follow it: when
// a token's state leaves its serial (the token is deleted, or its seed is replaced), the state is
// kept under the seed's KeyRing fingerprint (state/r/<fingerprint>), always at the highest
// watermark any holder of that seed reached; when the seed is stored again, under any serial, its
// token starts from the highest of the file's own state, the kept one and that of any other serial
// that holds the same seed now (duplicates allowed explicitly). Every path that takes state off a
// serial goes through SeedStates::Retire; every path that gives a seed to a serial through Resume.
//
// A retired state is never deleted: keeping it costs a few bytes per seed that ever left the
// inventory, and means no later path can lose it.
//
// Thread-safety: one SeedStates belongs to one change (one import chunk, one inventory call);
// concurrent changes are ordered by the versions each stages as conditions in its batch.

#ifndef OTPD_SERVICE_INTERNAL_SEED_STATE_H_
#define OTPD_SERVICE_INTERNAL_SEED_STATE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/statusor.h"
#include "service/model/directory.h"
#include "service/model/records.h"
#include "storage/store.h"

namespace otpd::service::internal {

// The stricter of two states of one seed: the one with the higher watermark (its drift with it),
// and the later last use.
CredentialState StricterState(const CredentialState& a, const CredentialState& b);

class SeedStates {
 public:
  // `directory` must outlive this.
  explicit SeedStates(const Directory& directory) : directory_(directory) {}

  // Stages in `batch` the removal of `serial`'s sign-in state and its keeping under `fingerprint`
  // (the fingerprint of the seed the serial held), merged with what is kept there already. The
  // batch is made conditional on both records as read, so a sign-in or another retirement that
  // commits meanwhile aborts it. A serial with no state stages nothing.
  base::Status Retire(storage::WriteBatch& batch, std::string_view serial,
                      std::string_view fingerprint);

  // The state a token that now holds the seed `fingerprint` under `serial` starts from: the
  // stricter of `initial` (what its file says), the state kept for the seed, and the current state
  // of `other_serial` ("" = none), a serial that holds the same seed. Stages the result as
  // `serial`'s state in `batch` when it differs from `initial`, conditional on the kept state as
  // read.
  base::StatusOr<CredentialState> Resume(storage::WriteBatch& batch, std::string_view serial,
                                         std::string_view fingerprint,
                                         const CredentialState& initial,
                                         std::string_view other_serial);

  // Forgets what was staged: call once the batches it staged into are committed or dropped.
  void Clear() { kept_.clear(); }

 private:
  struct Kept {
    std::optional<CredentialState> state;
    uint64_t version = 0;  // as read from the store, for the batch's condition
  };
  // The kept state of `fingerprint`, as read or as staged by this object.
  base::StatusOr<Kept*> KeptFor(storage::WriteBatch& batch, std::string_view fingerprint);

  const Directory& directory_;
  std::map<std::string, Kept, std::less<>> kept_;
};

}  // namespace otpd::service::internal

#endif  // OTPD_SERVICE_INTERNAL_SEED_STATE_H_
