// transport::AdaptiveLevel: the adaptive level of one pack (a compressed run without
// --compress-level): the pack job starts it before packing a batch, packs at level(), and
// finishes it with what came out, which records the trial in the history (level_store.h).
//
// The batch's class is its dominant content class by bytes (DominantClass): an archive is
// written at one level, and the listing a batch comes from tells each object's key (and its
// Content-Type where the listing has the details, e.g. a local folder), so the class is known
// before any byte is read. The CPU a pack used is measured by the process's CpuShare between
// Start and Finish and stored in reference seconds (level_cpu.h).
//
// Errors: Start returns the history store's errors (the caller may pack at kStartLevel
// instead); Finish returns the store's. Thread-safety: one AdaptiveLevel per pack, used by one
// thread; any number of them at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/object_info.h"
#include "transport/level.h"
#include "transport/level_store.h"

namespace ferry::transport {

// The content class (content_class.h) holding the most bytes of `objects` (an empty object
// weighs one byte; a tie goes to the class met first); "other" for no objects.
std::string_view DominantClass(std::span<const storage::ObjectInfo> objects);

// A number in [0, 1) from a per-thread generator seeded at random.
double ProcessUniform();

class AdaptiveLevel {
 public:
  struct Options {
    LevelPrices prices;
    UniformSource uniform = &ProcessUniform;
    // This machine's benchmark time; 0 = CpuBenchmarkSeconds() (measured once per process,
    // started by Start on a thread of its own and waited for by Finish).
    double benchmark_seconds = 0;
  };

  // Reads the history of the class of `objects` in `store` (which must outlive the result),
  // picks its level, and starts measuring CPU.
  static Result<std::unique_ptr<AdaptiveLevel>> Start(LevelStore& store,
                                                      std::span<const storage::ObjectInfo> objects,
                                                      const Options& options);
  static Result<std::unique_ptr<AdaptiveLevel>> Start(LevelStore& store,
                                                      std::span<const storage::ObjectInfo> objects) {
    return Start(store, objects, Options{});
  }
  ~AdaptiveLevel();
  AdaptiveLevel(const AdaptiveLevel&) = delete;
  AdaptiveLevel& operator=(const AdaptiveLevel&) = delete;

  int level() const { return choice_.level; }
  const LevelChoice& choice() const { return choice_; }
  const std::string& content_class() const { return class_; }

  // Stops measuring CPU and records the trial: `bytes_in` raw bytes packed into `bytes_out`
  // archive bytes. Once only.
  Status Finish(uint64_t bytes_in, uint64_t bytes_out);

 private:
  AdaptiveLevel() = default;
  LevelStore* store_ = nullptr;
  std::string class_;
  LevelChoice choice_;
  double benchmark_seconds_ = 0;
  uint64_t cpu_id_ = 0;  // 0 = not measuring
};

}  // namespace ferry::transport
