// The destination side of compressed transport without a shared state store (`ferry unpack
// STAGING DST`, which finds archives by listing the staging prefix): how the unpackers of the
// several regions an archive is meant for learn of each other.
//
// Each region's unpacker, once every entry meant for it is written, leaves an empty marker
// object on staging next to the archive, "<archive>.done/<region>", then lists the archive's
// markers: the unpacker that finds one for every region the manifest names deletes the archive,
// then the markers. Two finishing at once: each writes its marker before listing, so at least
// the second sees both (both may delete: deletes are idempotent). A crash between the marker and
// the delete leaves the archive with its markers: the next unpacker of any of its regions finds
// its own marker, writes nothing and checks the markers again. A crash between the archive's
// delete and the markers' leaves markers without an archive: listings remove them.
//
// An unpacker of no region ("") writes every entry and deletes the archive as before; so does
// one of the only region the archive names.
//
// Several unpackers of one region (claims, claim.h; only where the staging store honours
// create-only writes, and when the caller passes ClaimOptions): an unpacker first claims the
// archive for its region. A live claim of another: the archive is skipped (`held`), to be tried
// on a later listing. Owned: the marker and the archive are looked at again (another owner may
// have finished meanwhile), then UnpackArchive runs with the claim as its journal's first
// record (each Record a new generation carrying the watermark; Load: the carried watermark or
// this unpacker's own, the larger) and its fence before each write (UnpackOptions::
// before_write). A lost claim fails the unpack (`lost`), nothing written after the loss was
// seen. Once this region is done (the archive deleted, or its marker written) the claim's
// generations are deleted; claims whose archive is gone are orphans too.
//
// Errors: the staging backend's; UnpackArchive's. Thread-safety: one call per thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "storage/backend.h"
#include "transport/claim.h"
#include "transport/unpack.h"

namespace ferry::transport {

// "<archive>.done/": where the markers of `archive` are.
std::string MarkerPrefix(std::string_view archive);
// True for a marker's key ("....fza.done/<region>").
bool IsMarker(std::string_view key);

// Whether `key` (relative to the staging prefix) is an archive a compressed run's pack wrote
// there: "<run>-<job>-<8 hex>.fza" at the top of the prefix. Archives deeper down (another
// prefix's), replication's ("r<run>-j<job>-..."), backups' ("b<run>-...") and any other
// "*.fza" (`ferry archive pack`) are not.
bool IsRunArchive(std::string_view key);

// What one listing of staging finds, handed over as it is listed (ScanStaged).
struct StagedVisitor {
  // A run's archive (IsRunArchive), in key order; markers and claims are not archives.
  std::function<Status(const std::string& key)> archive;
  // A marker or claim of a run's archive that is gone (deleted by an unpacker that died before
  // deleting its markers and claims).
  std::function<Status(const std::string& key)> orphan;
};
struct StagedCounts {
  uint64_t archives = 0;
  uint64_t orphans = 0;
  uint64_t others = 0;  // other "*.fza" keys: never unpacked nor deleted here
};
// One listing of `staging` in key order (storage::ListSorted), each archive and orphan handed
// to `visit` as it comes; an error a visitor returns ends the scan with it. Memory is one page
// of the listing whatever the number of keys: an archive's markers and claims list right after
// it (its key is their prefix), so only the archives whose key prefixes the current one are
// remembered. Errors: the listing's, the visitor's.
Result<StagedCounts> ScanStaged(storage::Backend& staging, const StagedVisitor& visit);

struct ListedResult {
  UnpackResult unpack;
  bool skipped = false;  // this region's marker was there (or the claim chain said done)
  bool held = false;     // another unpacker of the region holds a live claim: nothing done
};

struct ListedOptions {
  UnpackOptions unpack;  // how the archive is unpacked; `unpack.region` is this unpacker's
  // Claim the archive first (above); its region must be unpack.region. Null: one unpacker per
  // region and prefix. Not owned.
  const ClaimOptions* claims = nullptr;
};

// Unpacks `key` for `options.unpack.region` as described above, `journal` recording the
// progress of this unpacker (its own store). The archive is deleted by the last region's
// unpacker. A lost claim is kFailedPrecondition.
Result<ListedResult> UnpackListed(storage::Backend& staging, const std::string& key,
                                  storage::Backend& dst, UnpackJournal& journal,
                                  const ListedOptions& options, std::stop_token stop);

// The archives another unpacker of the region held (claims), each tried again a quarter of the
// claim's ttl after it was last found held: a stalled holder's claim expires ttl after its last
// generation (by the store's clock), so trying every ttl/4 takes it over at most ttl/4 late
// (plus the store's whole-second Date). Times are the unpacker's own clock (MonoNow).
// At most kMaxHeld archives are remembered: one found held beyond them is tried again on the
// next listing only (memory stays bounded however many archives other unpackers hold).
// Thread-safety: none (one unpack loop).
class HeldArchives {
 public:
  static constexpr size_t kMaxHeld = 10'000;
  HeldArchives(std::chrono::milliseconds ttl, Clock& clock);
  // `key` was found held just now.
  void Held(const std::string& key);
  // `key` is not held any more (owned, done, failed, or no longer listed).
  void Forget(const std::string& key);
  bool Contains(const std::string& key) const { return held_.count(key) > 0; }
  // Keeps only the held archives in `listed` (those a new listing found).
  void Retain(const std::set<std::string>& listed);
  // The held archives whose retry has come, in key order.
  std::vector<std::string> Due() const;
  bool empty() const { return held_.empty(); }
  // How long an unpack loop waits before its next listing: `interval` (its listing interval,
  // `--follow`; zero: none, it lists again only while archives are held) when nothing is held,
  // else until the first retry is due, never longer than `interval` when that is set.
  std::chrono::milliseconds NextListingIn(std::chrono::milliseconds interval) const;

 private:
  std::chrono::milliseconds retry_;
  Clock& clock_;
  std::map<std::string, Clock::MonoTime> held_;  // key -> when it was last found held
};

// One pass of `ferry unpack` over `staging`: one listing (ScanStaged; orphan markers and claims
// deleted as they are found), every archive in key order given to `try_archive`, which unpacks it
// (UnpackListed) and returns true when another unpacker held it. After each archive the held
// ones whose retry has come (`held`, kept across passes) are tried again, so an unpacker busy
// with the other archives of a pass for longer than ttl/4 still takes a stalled holder's
// archive over as soon as it has finished the archive it is on, not after the whole pass. An
// archive is tried at most once per pass besides its retries; held archives the listing no
// longer shows are forgotten at its end. Memory: the listing's page, the held archives.
// Errors: the listing's; kCancelled once `stop` is requested.
Status UnpackPass(storage::Backend& staging, HeldArchives& held,
                  const std::function<bool(const std::string& key)>& try_archive,
                  std::stop_token stop);

}  // namespace ferry::transport
