// Order in one key's pass (key.cc): a version that comes late (written after newer ones reached
// the destination), and two-way's latest write kept current (at the destination, at the source
// after a contest, at the source after a covered write). Pure functions over plain data (the
// key's listed versions, status rows, write orders); thread-safe. See
// docs/design/replication.md, "The pass" (step 3, WriteLate) and "Replicas, two-way,
// convergence".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/key_replicas.h"
#include "replicate/replica.h"
#include "replicate/status_store.h"
#include "storage/object_info.h"

namespace ferry::replicate::internal {

// A version and its write order.
struct Ordered {
  WriteOrder order;
  std::string version;
  std::chrono::system_clock::time_point listed;  // its time in the listing
};

// The newest later version of the key (after `v`, an element of `versions`, oldest first) that
// is COMPLETED in `rows` for (`rule`, `destination`): `v` comes late (it failed on its own while
// they went on). nullptr when none.
const VersionStatus* WrittenAfter(const std::vector<storage::ObjectInfo>& versions,
                                  const storage::ObjectInfo& v,
                                  const std::vector<VersionStatus>& rows, std::string_view rule,
                                  std::string_view destination);

// A late version's fate at a destination where `newer` (WrittenAfter) is COMPLETED: a versioned
// destination gets it and then `newer` made current again; one without versions (`newer` made
// no destination version) holds only its current object, which the late one would replace: it
// is recorded COMPLETED with this message, "superseded: ...", and not written. nullopt: write it.
std::optional<std::string> SupersededMessage(const VersionStatus& newer);

// Whether the source's current version (the newest of `versions`) is an original this pass
// ordered as `written` (its origin `source`).
bool SourceCurrentWasWritten(const std::vector<storage::ObjectInfo>& versions,
                             std::string_view source, const WriteOrder& written);

// Whether `current` (a HEAD reply of the current version at location `name`: an original's time
// is whole seconds there, so rounded up) may be ordered after `written`.
bool MayBeLater(const storage::ObjectInfo& current, std::string_view name,
                const WriteOrder& written, const Connected& connected);

// Among `theirs` (the destination's versions a pass did not make, newest listed first, each
// with its order), the latest-ordered (the first of equals), when it is ordered after
// `last_written`, what this pass wrote last there: to keep current. nullopt otherwise.
std::optional<Ordered> LatestIfAfter(const std::vector<Ordered>& theirs,
                                     const WriteOrder& last_written);

// The latest-ordered known original among the source's `versions` (not markers; by listing
// time, `source`, version): HealSource makes it current again when the current version is a
// replica ordered before it. nullopt when none is known (SourceVersionsSeen::KnownOriginal).
std::optional<Ordered> LatestOriginal(const std::vector<storage::ObjectInfo>& versions,
                                      std::string_view source, const SourceVersionsSeen& seen);

}  // namespace ferry::replicate::internal
