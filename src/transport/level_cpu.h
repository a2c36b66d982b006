// CPU time for the adaptive level (level.h): how much CPU a pack spent, in units every
// machine shares.
//
//  - CpuBenchmarkSeconds: a fixed compression of generated data (zstd level 3, one thread, a
//    few MiB of text-like bytes) timed on the calling thread's CPU clock, once per process
//    (about 50-100 ms). A machine twice as fast takes half the time.
//  - ReferenceCpuSeconds: CPU seconds of this machine expressed in *reference seconds*, the
//    seconds of a machine that runs the benchmark in kReferenceBenchmarkSeconds. The history
//    stores those, so a slow and a fast worker add up into one history and the CPU price
//    applies to one unit.
//  - CpuShare: the process CPU time (user + system, every thread, zstd's workers included)
//    spent while a pack ran, shared evenly among the packs running at the same time: the CPU
//    of two concurrent packs is split between them rather than counted twice. What else the
//    process does meanwhile (reads, unpacks) is counted too: it is the same for every level,
//    so it shifts every level's reward alike.
//
// Thread-safety: all functions and CpuShare are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace ferry::transport {

// The benchmark's CPU time on the machine it was calibrated on (a 2-core x86-64 VM, 2026;
// docs/design/transport.md): one reference second is one second of that machine.
inline constexpr double kReferenceBenchmarkSeconds = 0.055;

// Starts the benchmark on a thread of its own, once per process; returns at once.
void StartCpuBenchmark();
// This process's benchmark time in seconds (> 0): started on the first call (of this or of
// StartCpuBenchmark), waited for.
double CpuBenchmarkSeconds();

// `seconds` of CPU on a machine whose benchmark took `benchmark_seconds`, in reference seconds.
double ReferenceCpuSeconds(double seconds, double benchmark_seconds);

// CPU seconds used by this process so far (getrusage RUSAGE_SELF).
// CPU seconds of the calling thread so far (CLOCK_THREAD_CPUTIME_ID).
double ThreadCpuSeconds();

double ProcessCpuSeconds();

class CpuShare {
 public:
  // `cpu_now` returns the CPU seconds used so far (tests inject one; default: the process's).
  explicit CpuShare(std::function<double()> cpu_now = &ProcessCpuSeconds);

  // The process's one share (what the pack jobs use).
  static CpuShare& Process();

  // Starts measuring; returns the id End takes.
  uint64_t Begin();
  // Stops measuring `id`: its share of the CPU used since its Begin (every interval's CPU
  // divided by the measurements running then).
  double End(uint64_t id);

 private:
  void Advance();  // REQUIRES: mu_ held

  std::function<double()> cpu_now_;
  std::mutex mu_;
  double last_ = 0;                       // GUARDED_BY(mu_)
  uint64_t next_id_ = 1;                  // GUARDED_BY(mu_)
  std::map<uint64_t, double> running_;  // id -> CPU so far; GUARDED_BY(mu_)
};

}  // namespace ferry::transport
