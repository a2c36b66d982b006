// Unpacking what `ferry sync --compress --pack-only` staged, found by listing the staging prefix
// (docs/design/transport.md): an unpacker opened, one pass over staging, and the follow loop.
// `ferry unpack` and serve's [[serve.unpack]] roles unpack with this code: `ferry unpack
// --follow N` is FollowStaging with an interval of N seconds, a role is FollowStaging on
// serve's executor that goes on after a failed pass.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "app/wiring.h"
#include "base/clock.h"
#include "base/status.h"
#include "state/sql_session.h"
#include "storage/backend.h"
#include "transfer/executor.h"
#include "transport/claim.h"
#include "transport/store.h"
#include "transport/unpack_listed.h"

namespace ferry::app {

// What an unpacker unpacks, from where, and how: the command's arguments or a role's entry.
struct UnpackTarget {
  std::string staging;  // the staging location (REMOTE:bucket/prefix)
  std::string dst;      // the destination the archives were packed for
  std::string region;   // only this region's entries ("": every entry)
  std::string state;    // progress store; "": app::AutoStatePath("unpack", staging, dst)
  std::string storage_class;
  bool preserve_lock = false;
  std::chrono::seconds claim_ttl{60};
};

// What passes unpacked so far (added to by each pass).
struct UnpackTotals {
  uint64_t archives = 0, failed = 0, entries = 0, written = 0, bytes = 0, present = 0,
           verified = 0, archive_bytes = 0, skipped = 0, deleted = 0, held = 0, lost = 0;
};

// An unpacker, opened: both locations checked (and the destination's object lock with
// preserve_lock), its progress store open, the claims probed (staging honours create-only
// writes or not). Not movable (`claims()` points into it); thread-safety: one loop at a time.
struct Unpacker {
  UnpackTarget target;
  std::string state_url;        // the progress store's
  bool automatic_state = false;  // state_url is the automatic file (target.state empty)
  std::unique_ptr<storage::Backend> staging;
  std::unique_ptr<storage::Backend> dst;
  std::unique_ptr<state::SqlSession> session;
  std::unique_ptr<transport::TransportStore> store;
  transport::ClaimOptions claim_options;
  bool claims_honoured = false;  // the staging store honours create-only writes
  // The claims on archives; null where the staging store does not honour create-only writes
  // (then one unpacker per region and staging prefix: the caller warns).
  const transport::ClaimOptions* claims() const {
    return claims_honoured ? &claim_options : nullptr;
  }
};

// --preserve-lock (the retention and legal hold archive entries recorded, written to each
// object): kFailedPrecondition in one line when `dst` has no object lock
// (Backend::HasObjectLock), before anything is written.
Status CheckPreserveLock(storage::Backend& dst, std::stop_token stop);

// Opens `target` through `wiring` (which must outlive the unpacker); the progress store reads
// time from `clock` (which must too). Errors, one line each: a malformed location, a backend's
// Check ("staging: ...", "destination: ..."), the preserve-lock check, the store's, the probe's.
Result<std::unique_ptr<Unpacker>> OpenUnpacker(Wiring& wiring, UnpackTarget target, Clock& clock,
                                               std::stop_token stop);

// One listing of the staging prefix, every archive unpacked in key order
// (transport::UnpackPass) with its entries written on `executor`; `held`: the archives other
// unpackers hold, tried again a quarter of the claim's ttl after they were found held (kept
// across passes). A failed archive is counted (t.failed) and said on stderr; it does not end
// the pass. Errors: the listing's; kCancelled once `stop` is requested.
Status UnpackOnce(const Unpacker& u, transfer::Executor& executor, UnpackTotals& t,
                  transport::HeldArchives& held, std::stop_token stop);

struct UnpackFollowOptions {
  // Between listings; zero: one pass, and again only while other unpackers hold archives.
  std::chrono::milliseconds interval{0};
  // The command stops at a pass's error; serve's roles go on (the store may come back).
  bool stop_on_error = true;
  Clock* clock = nullptr;  // how it waits; null: the system clock (ClockOr)
  // After each pass that was not stopped: its status and the totals so far.
  std::function<void(const Status&, const UnpackTotals&)> on_pass;
};

// Passes (UnpackOnce) until `stop`, or as the options say; `t` collects the totals. Returns the
// last pass's status (kCancelled when stopped during one).
Status FollowStaging(const Unpacker& u, transfer::Executor& executor, UnpackTotals& t,
                     const UnpackFollowOptions& options, std::stop_token stop);

}  // namespace ferry::app
