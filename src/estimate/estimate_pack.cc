// Packs an estimate's sample with the pack jobs' own code (archive::Writer) at one level.
#include <time.h>

#include "archive/io.h"
#include "archive/writer.h"
#include "estimate/estimate_internal.h"

namespace ferry::estimate::internal {
namespace {

class CountingSink : public archive::ByteSink {
 public:
  Status Write(std::span<const std::byte> data) override {
    bytes += data.size();
    return Status::Ok();
  }
  uint64_t bytes = 0;
};

double ProcessCpuSeconds() {
  timespec ts{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

archive::WriterOptions OptionsFor(int level, bool large) {
  archive::WriterOptions o;
  o.level = level;
  o.threads = 1;
  // A large object's ranges stand for an entry of its own frames (judged raw or not by its
  // first chunk), as the pack writes objects above its small limit.
  if (large) o.small_limit = 0;
  return o;
}

Result<uint64_t> PackOne(const std::vector<const SampleEntry*>& entries, int level, bool large) {
  CountingSink sink;
  FERRY_ASSIGN_OR_RETURN(auto writer, archive::Writer::Open(sink, OptionsFor(level, large)));
  for (const SampleEntry* e : entries) {
    archive::StringChunkSource body(e->bytes);
    FERRY_RETURN_IF_ERROR(writer->Add(e->header, body));
  }
  FERRY_ASSIGN_OR_RETURN(archive::WriteSummary w, writer->Finish());
  (void)w;
  return sink.bytes;
}

}  // namespace

Result<PackedSample> PackSample(const std::vector<SampleEntry>& sample, size_t strata, int level) {
  PackedSample out;
  out.wire.assign(strata, 0);
  out.cpu.assign(strata, 0);
  FERRY_ASSIGN_OR_RETURN(out.empty_archive, PackOne({}, level, false));
  for (size_t s = 0; s < strata; ++s) {
    std::vector<const SampleEntry*> small, large;
    for (const SampleEntry& e : sample) {
      if (e.stratum == s) (e.large ? large : small).push_back(&e);
    }
    const double start = ProcessCpuSeconds();
    for (const auto* group : {&small, &large}) {
      if (group->empty()) continue;
      FERRY_ASSIGN_OR_RETURN(uint64_t bytes, PackOne(*group, level, group == &large));
      out.wire[s] += bytes > out.empty_archive ? bytes - out.empty_archive : 0;
    }
    out.cpu[s] = ProcessCpuSeconds() - start;
  }
  return out;
}

}  // namespace ferry::estimate::internal
