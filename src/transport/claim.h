// Claims by generation: several `ferry unpack` of one region and staging prefix, without a
// shared state store, unpack each archive once (docs/design/transport.md, "Several unpackers of
// one region").
//
// A claim of `archive` for `region` is a chain of objects on staging,
// "<archive>.claim/<region>/<n>" (region "" spelled "-"; n zero-padded to 10 digits so that
// listing order is numeric order), each created only if absent (WriteSpec::if_absent: of
// several creators of one generation exactly one wins) and never overwritten. The newest
// generation decides; its body (JSON) names its owner (host:pid:random), the lease ttl, and the
// unpack's watermark (every entry below it is on the destination; null: nothing started yet),
// the archive's entry count and whether the unpack is done.
//
//  - Acquire: no generation: create 0. The newest one is live while younger than its ttl by the
//    *store's* clock (Backend::ServerTime against its mtime, both the store's: the unpackers'
//    clocks are never compared with each other); live: held by another (skip the archive, try
//    it on a later listing); expired: take it over by creating n+1 with the watermark carried.
//    Losing a creation race: held.
//  - The owner's lease counts from just before it sent the request that created its newest
//    generation, on its own monotonic clock (the store's mtime is later), so it ends no later
//    than the others see it end, as long as the clocks' rates agree within a factor of two.
//  - Fence (before each write, from writer threads): a write may start only while the owner's
//    newest generation is younger than ttl/2; from ttl/3 on it renews first (creates n+1
//    itself). A renewal that finds n+1 taken means someone took over: the claim is lost, and
//    every later Fence and Record fails (kFailedPrecondition): nothing more is written.
//  - Record: the journal's record as a new generation (a renewal with the new watermark), so
//    the chain is the journal every unpacker of the region can read: a taker resumes at the
//    carried watermark and checks the window past it (UnpackArchive's rule).
//  - Release: deletes every generation, oldest first (after the archive, or when this region
//    is done). A renewal whose n+1 was free checks that its own n is still there: a released
//    chain (a successor finished the archive) is a lost claim too, and the stray n+1 is
//    deleted.
//
// A create that fails after a transient error may have been stored by the attempt before (its
// retry then sees 412): a refused generation whose body is this owner's own counts as won.
//
// Thread-safety: Claim's methods may be called from many threads (one mutex; a renewal holds
// it while its request runs).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "storage/backend.h"

namespace ferry::transport {

// The part of a claim's key from its archive's suffix on: "<name>.fza.claim/<region>/<n>".
inline constexpr std::string_view kClaimInfix = ".fza.claim/";

// "<archive>.claim/<region or ->/": where the generations of one region's claim are.
std::string ClaimPrefix(std::string_view archive, std::string_view region);
// True for a generation's key ("....fza.claim/<region>/<n>").
bool IsClaim(std::string_view key);

struct ClaimOptions {
  std::string region;                     // "" = every region
  std::chrono::milliseconds ttl{60'000};  // the lease
  std::string owner;                      // host:pid:random; unique per process
  Clock* clock = nullptr;                 // the owner's monotonic time; nullptr: the system's
};

// A new owner id: "<host>:<pid>:<16 random hex digits>".
std::string NewOwnerId();

// One generation's body.
struct ClaimGeneration {
  uint64_t n = 0;
  std::string owner;
  std::chrono::milliseconds ttl{0};
  std::optional<uint64_t> watermark;
  uint64_t entries = 0;
  bool done = false;
};

// Whether `staging` honours create-only writes: one is made, a second of the same key must be
// refused, then the key is deleted. False when features().put_if_absent is false, the store
// refuses the header (Swift: 501) or ignores it (the second create succeeds), or it cannot
// tell the time (ServerTime). Errors: the store's, for a failure that says nothing about it.
Result<bool> ProbeCreateOnly(storage::Backend& staging, std::string_view owner,
                             std::stop_token stop);

class Claim {
 public:
  enum class Outcome {
    kOwned,  // this process holds the claim
    kHeld,   // another unpacker holds a live claim (or won the race): try on a later listing
    kDone,   // the newest generation says the unpack is done
  };

  // Claims `archive` as described above; `*outcome` says what happened (a claim is returned
  // only for kOwned). `staging` must outlive the claim.
  static Result<std::unique_ptr<Claim>> Acquire(storage::Backend& staging,
                                                const std::string& archive,
                                                const ClaimOptions& options, Outcome* outcome,
                                                std::stop_token stop);

  // The watermark carried by the generation this claim took over (or null).
  std::optional<uint64_t> carried() const;
  uint64_t generation() const;
  // OK when a write may start now (renewing first from ttl/3 on); kFailedPrecondition once
  // the claim is lost (or when its lease passed ttl/2 and renewing failed).
  Status Fence();
  // A new generation with this watermark; kFailedPrecondition when the claim is lost.
  Status Record(uint64_t written, uint64_t entries, bool done);
  // Deletes every generation of the chain.
  Status Release();
  bool lost() const;

 private:
  Claim(storage::Backend& staging, std::string archive, ClaimOptions options,
        std::stop_token stop);
  // Creates generation n_ + 1 carrying `watermark_`; REQUIRES(mu_).
  Status RenewLocked();
  Clock& clock() const;

  storage::Backend& staging_;
  const std::string archive_;
  const ClaimOptions options_;
  std::stop_token stop_;
  mutable std::mutex mu_;
  uint64_t next_ = 0;                       // the generation Acquire creates
  bool has_generation_ = false;             // GUARDED_BY(mu_): n_ was created by us
  uint64_t n_ = 0;                          // GUARDED_BY(mu_): the newest, ours
  Clock::MonoTime granted_{};               // GUARDED_BY(mu_): just before n_ was created
  std::optional<uint64_t> carried_;         // the watermark taken over
  std::optional<uint64_t> watermark_;       // GUARDED_BY(mu_): the last recorded
  uint64_t entries_ = 0;                    // GUARDED_BY(mu_)
  bool done_ = false;                       // GUARDED_BY(mu_)
  bool lost_ = false;                       // GUARDED_BY(mu_)
};

}  // namespace ferry::transport
