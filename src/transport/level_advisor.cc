// One pack's adaptive level (contract in level_advisor.h).
#include "transport/level_advisor.h"

#include <random>
#include <vector>

#include "transport/content_class.h"
#include "transport/level_cpu.h"

namespace ferry::transport {

std::string_view DominantClass(std::span<const storage::ObjectInfo> objects) {
  std::vector<std::pair<std::string_view, uint64_t>> bytes;  // few classes: a linear scan
  for (const storage::ObjectInfo& o : objects) {
    const std::string_view c =
        ContentClass(o.has_details ? std::string_view(o.content.content_type) : "", o.key);
    const uint64_t weight = o.size == 0 ? 1 : o.size;
    auto it = bytes.begin();
    while (it != bytes.end() && it->first != c) ++it;
    if (it == bytes.end()) {
      bytes.emplace_back(c, weight);
    } else {
      it->second += weight;
    }
  }
  std::string_view best = "other";
  uint64_t most = 0;
  for (const auto& [c, b] : bytes) {
    if (b > most) {
      best = c;
      most = b;
    }
  }
  return best;
}

double ProcessUniform() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

Result<std::unique_ptr<AdaptiveLevel>> AdaptiveLevel::Start(
    LevelStore& store, std::span<const storage::ObjectInfo> objects, const Options& options) {
  std::unique_ptr<AdaptiveLevel> a(new AdaptiveLevel());
  a->store_ = &store;
  a->class_ = std::string(DominantClass(objects));
  FERRY_ASSIGN_OR_RETURN(auto history, a->store_->History(a->class_));
  a->choice_ = ChooseLevel(history, options.prices, options.uniform);
  // The benchmark is needed only to record the trial (Finish): it runs beside the packing
  // instead of delaying the first pack of a process by its 0.1-0.2 s.
  a->benchmark_seconds_ = options.benchmark_seconds;
  if (a->benchmark_seconds_ <= 0) StartCpuBenchmark();
  a->cpu_id_ = CpuShare::Process().Begin();
  return a;
}

AdaptiveLevel::~AdaptiveLevel() {
  if (cpu_id_ != 0) (void)CpuShare::Process().End(cpu_id_);
}

Status AdaptiveLevel::Finish(uint64_t bytes_in, uint64_t bytes_out) {
  if (cpu_id_ == 0) return Status::FailedPrecondition("adaptive level finished twice");
  const double cpu = CpuShare::Process().End(cpu_id_);
  cpu_id_ = 0;
  return store_->Record(class_, choice_.level,
                        LevelTrial{.bytes_in = bytes_in,
                                   .bytes_out = bytes_out,
                                   .cpu_seconds = ReferenceCpuSeconds(
                                       cpu, benchmark_seconds_ > 0 ? benchmark_seconds_
                                                                   : CpuBenchmarkSeconds())});
}

}  // namespace ferry::transport
