// Opening an unpacker, one pass over staging, the follow loop (unpack_follow.h): `ferry
// unpack` and serve's [[serve.unpack]] roles.
#include "app/unpack_follow.h"

#include <cstdio>

#include "app/location.h"
#include "app/state_files.h"
#include "state/state.h"
#include "transport/unpack.h"

namespace ferry::app {

Status CheckPreserveLock(storage::Backend& dst, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(bool locked, dst.HasObjectLock(stop));
  if (locked) return Status::Ok();
  return Status::FailedPrecondition(
      "--preserve-lock: destination " + dst.Describe() +
      " has no object lock (create it with ferry mb --object-lock); nothing was written");
}

Result<std::unique_ptr<Unpacker>> OpenUnpacker(Wiring& wiring, UnpackTarget target, Clock& clock,
                                               std::stop_token stop) {
  auto u = std::make_unique<Unpacker>();
  u->target = std::move(target);
  const UnpackTarget& a = u->target;
  FERRY_ASSIGN_OR_RETURN(Location staging_loc, ParseLocation(a.staging));
  FERRY_ASSIGN_OR_RETURN(Location dst_loc, ParseLocation(a.dst));
  FERRY_ASSIGN_OR_RETURN(u->staging, wiring.OpenBackend(staging_loc, false));
  FERRY_ASSIGN_OR_RETURN(u->dst, wiring.OpenBackend(dst_loc, true));
  if (Status s = u->staging->Check(stop); !s.ok()) return s.WithContext("staging");
  if (Status s = u->dst->Check(stop); !s.ok()) return s.WithContext("destination");
  if (a.preserve_lock) FERRY_RETURN_IF_ERROR(CheckPreserveLock(*u->dst, stop));
  u->automatic_state = a.state.empty();
  u->state_url = u->automatic_state ? AutoStatePath("unpack", a.staging, a.dst) : a.state;
  FERRY_ASSIGN_OR_RETURN(u->session, state::OpenSession(u->state_url, clock));
  FERRY_ASSIGN_OR_RETURN(u->store, transport::TransportStore::Open(*u->session));
  // Claims where the staging store honours create-only writes (probed: a store may ignore the
  // header); otherwise one unpacker per region and prefix, as before.
  u->claim_options = transport::ClaimOptions{
      .region = a.region, .ttl = a.claim_ttl, .owner = transport::NewOwnerId(), .clock = nullptr};
  Result<bool> honoured = transport::ProbeCreateOnly(*u->staging, u->claim_options.owner, stop);
  if (!honoured.ok()) return honoured.status().WithContext("staging");
  u->claims_honoured = *honoured;
  return u;
}

Status UnpackOnce(const Unpacker& u, transfer::Executor& executor, UnpackTotals& t,
                  transport::HeldArchives& held, std::stop_token stop) {
  const UnpackTarget& a = u.target;
  auto try_archive = [&](const std::string& key) -> bool {
    transport::StoreUnpackJournal journal(
        *u.store, transport::ArchiveRow{.staging = a.staging,
                                        .archive = key,
                                        .destination = a.dst,
                                        .state = transport::ArchiveState::kUnpacking,
                                        .entries = 0,
                                        .written = 0,
                                        .archive_bytes = 0,
                                        .updated_ns = 0});
    transport::ListedOptions o;
    o.unpack.executor = &executor;
    o.unpack.region = a.region;
    o.unpack.storage_class = a.storage_class;
    o.unpack.preserve_lock = a.preserve_lock;
    o.claims = u.claims();
    auto listed_r = transport::UnpackListed(*u.staging, key, *u.dst, journal, o, stop);
    if (!listed_r.ok()) {
      ++t.failed;
      if (listed_r.status().code() == ErrorCode::kFailedPrecondition &&
          listed_r.status().message().find("lost to another unpacker") != std::string::npos) {
        ++t.lost;
      }
      std::fprintf(stderr, "failed: unpack %s: %s\n", key.c_str(),
                   listed_r.status().message().c_str());
      return false;
    }
    t.deleted += listed_r->unpack.archive_deleted ? 1 : 0;
    if (listed_r->held) {
      ++t.held;
      return true;
    }
    if (listed_r->skipped) {
      ++t.skipped;
      return false;
    }
    const transport::UnpackResult* r = &listed_r->unpack;
    ++t.archives;
    t.entries += r->entries;
    t.written += r->written;
    t.bytes += r->bytes_written;
    t.present += r->already_present;
    t.verified += r->checksums_verified;
    t.archive_bytes += r->archive_bytes;
    return false;
  };
  return transport::UnpackPass(*u.staging, held, try_archive, stop);
}

Status FollowStaging(const Unpacker& u, transfer::Executor& executor, UnpackTotals& t,
                     const UnpackFollowOptions& options, std::stop_token stop) {
  Clock& clock = ClockOr(options.clock);
  // Archives held by another unpacker are listed again a quarter of the ttl after they were
  // found held, whatever the interval says (a stalled holder's claim expires after the ttl).
  transport::HeldArchives held(u.claim_options.ttl, clock);
  Status s;
  for (;;) {
    s = UnpackOnce(u, executor, t, held, stop);
    if (stop.stop_requested()) break;
    if (options.on_pass) options.on_pass(s, t);
    if (!s.ok() && options.stop_on_error) break;
    // One pass: again while another unpacker holds archives (it may stall; its claim expires).
    if (options.interval.count() <= 0 && held.empty()) break;
    clock.SleepFor(held.NextListingIn(options.interval), stop);
    if (stop.stop_requested()) break;
  }
  return s;
}

}  // namespace ferry::app
