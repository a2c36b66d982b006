// Internals of EstimateCopy (estimate.cc) shared with estimate_pack.cc and the tests: the
// sample as read, and its packing at one level.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "archive/format.h"
#include "base/status.h"

namespace ferry::estimate::internal {

// One sampled object: its entry header (size = the bytes read) and the bytes read (a small
// object whole, a large one as ranges put end to end).
struct SampleEntry {
  size_t stratum = 0;
  archive::EntryHeader header;
  std::string bytes;
  bool large = false;  // read as ranges: packed in frames of its own, as pack does
};

// Per stratum: archive bytes of its sample (the empty archive's own bytes taken off) and CPU
// seconds spent packing it.
struct PackedSample {
  std::vector<uint64_t> wire;
  std::vector<double> cpu;
  uint64_t empty_archive = 0;  // bytes of an archive of no entry (header, manifest, trailer)
};

// Packs each stratum's entries into an archive of its own with archive::Writer at `level`,
// counting the bytes written. CPU: the process's CPU time meanwhile (zstd works on a thread of
// its own), so no other work should run then.
Result<PackedSample> PackSample(const std::vector<SampleEntry>& sample, size_t strata, int level);

}  // namespace ferry::estimate::internal
