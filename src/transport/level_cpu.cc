// The CPU benchmark and CPU accounting of the adaptive level (contract in level_cpu.h).
#include "transport/level_cpu.h"

#include <sys/resource.h>
#include <zstd.h>

#include <ctime>
#include <future>
#include <string>
#include <vector>

namespace ferry::transport {

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

namespace {

constexpr size_t kBenchmarkBytes = 8u << 20;

// Text-like bytes: words of a small vocabulary and numbers from a fixed linear congruential
// sequence, so that every machine compresses the same bytes at the same ratio.
std::string BenchmarkData() {
  static constexpr const char* kWords[] = {
      "region", "object", "bucket", "archive", "frame",  "level", "transfer", "staging",
      "worker", "lease",  "id",     "size",    "status", "ok",    "error",    "key"};
  std::string out;
  out.reserve(kBenchmarkBytes + 64);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  while (out.size() < kBenchmarkBytes) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    out += kWords[(x >> 33) % 16];
    out += (x >> 40) % 7 == 0 ? ",\n" : ",";
    out += std::to_string((x >> 20) % 100000);
    out += ' ';
  }
  out.resize(kBenchmarkBytes);
  return out;
}

double RunBenchmark() {
  const std::string data = BenchmarkData();
  std::vector<char> out(ZSTD_compressBound(data.size()));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  const double start = ThreadCpuSeconds();
  (void)ZSTD_compressCCtx(cctx, out.data(), out.size(), data.data(), data.size(), 3);
  const double seconds = ThreadCpuSeconds() - start;
  ZSTD_freeCCtx(cctx);
  return seconds > 1e-6 ? seconds : 1e-6;
}

// The benchmark's one run in this process, started by the first caller.
std::shared_future<double>& Benchmark() {
  static std::shared_future<double> seconds = std::async(std::launch::async, RunBenchmark).share();
  return seconds;
}

}  // namespace

void StartCpuBenchmark() { (void)Benchmark(); }

double CpuBenchmarkSeconds() { return Benchmark().get(); }

double ReferenceCpuSeconds(double seconds, double benchmark_seconds) {
  if (benchmark_seconds <= 0) return seconds;
  return seconds * kReferenceBenchmarkSeconds / benchmark_seconds;
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

CpuShare::CpuShare(std::function<double()> cpu_now) : cpu_now_(std::move(cpu_now)) {
  last_ = cpu_now_();
}

CpuShare& CpuShare::Process() {
  static CpuShare share;
  return share;
}

void CpuShare::Advance() {
  const double now = cpu_now_();
  const double used = now > last_ ? now - last_ : 0;
  last_ = now;
  if (running_.empty()) return;
  const double each = used / static_cast<double>(running_.size());
  for (auto& [id, seconds] : running_) seconds += each;
}

uint64_t CpuShare::Begin() {
  std::lock_guard lock(mu_);
  Advance();
  const uint64_t id = next_id_++;
  running_[id] = 0;
  return id;
}

double CpuShare::End(uint64_t id) {
  std::lock_guard lock(mu_);
  Advance();
  auto it = running_.find(id);
  if (it == running_.end()) return 0;
  const double seconds = it->second;
  running_.erase(it);
  return seconds;
}

}  // namespace ferry::transport
