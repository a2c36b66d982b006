// Low-level retries (rclone's --low-level-retries): how many times a read whose bytes a checksum
// refused (corrupted on the way: nothing was written) is done again before the object fails.
// Process-wide, like the limits: main sets it from --low-level-retries; every copy path reads it
// (transfer's whole-object copy, replication's version copy). Default 10; 0 = none.
//
// Thread-safety: thread-safe.
#pragma once

namespace ferry::transfer {

inline constexpr int kDefaultLowLevelRetries = 10;

int LowLevelRetries();
void SetLowLevelRetries(int retries);  // REQUIRES: retries >= 0

}  // namespace ferry::transfer
