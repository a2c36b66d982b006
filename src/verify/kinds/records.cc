// A verify run's payloads and records, and its "verify-result" and "verify-summary" kinds
// (kinds.h).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "jobs/job_report.h"
#include "jobs/payload.h"
#include "jobs/run_context.h"
#include "report/job_rows.h"
#include "storage/key.h"
#include "verify/kinds/kinds.h"

namespace ferry::verify {
namespace {

using json = nlohmann::json;

json VerifyKeyJson(const std::string& key) {
  return json_util::KeyJson(key, storage::IsValidUtf8(key));
}

Mark MarkNamed(const std::string& name) {
  for (Mark m : {Mark::kIdentical, Mark::kMissing, Mark::kExtra, Mark::kDiffer, Mark::kError,
                 Mark::kSizeOnly}) {
    if (name == MarkName(m)) return m;
  }
  throw std::invalid_argument("unknown result \"" + name + "\"");
}

json SizeJson(const std::optional<uint64_t>& size) { return size ? json(*size) : json(nullptr); }
std::optional<uint64_t> SizeFrom(const json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<uint64_t>();
}

class VerifyResultHandler : public jobs::JobHandler {
 public:
  std::string_view name() const override { return kVerifyResultKind; }
  int phase() const override { return jobs::kReportPartPhase; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return false; }
  jobs::JobResult Run(jobs::JobContext&) const override { return {}; }  // a record
};

}  // namespace

std::string EncodeRangeJob(const RangeJob& job) {
  const json j{{"range", jobs::EncodeScan(job.range)},
               {"download", job.compare.download},
               {"metadata", job.compare.metadata}};
  return json_util::Dump(j);
}

Result<RangeJob> DecodeRangeJob(const std::string& text) {
  auto read = [](const json& j) -> Result<RangeJob> {
    RangeJob job;
    FERRY_ASSIGN_OR_RETURN(job.range, jobs::DecodeScan(j.at("range").get<std::string>()));
    job.compare.download = j.at("download").get<bool>();
    job.compare.metadata = j.at("metadata").get<bool>();
    return job;
  };
  return json_util::ParseJson(text, "verify-range job", read);
}

std::string EncodeListJob(const ListJob& job) {
  const json j{{"keys", jobs::EncodeListScan(job.keys)},
               {"download", job.compare.download},
               {"metadata", job.compare.metadata}};
  return json_util::Dump(j);
}

Result<ListJob> DecodeListJob(const std::string& text) {
  return json_util::ParseJson(text, "verify-list job", [](const json& j) -> Result<ListJob> {
    ListJob job;
    FERRY_ASSIGN_OR_RETURN(job.keys, jobs::DecodeListScan(j.at("keys").get<std::string>()));
    job.compare.download = j.at("download").get<bool>();
    job.compare.metadata = j.at("metadata").get<bool>();
    return job;
  });
}

Result<std::vector<jobs::JobSpec>> VerifyListJobs(std::vector<jobs::JobSpec> list_scans,
                                                  const CompareOptions& compare) {
  for (jobs::JobSpec& spec : list_scans) {
    FERRY_ASSIGN_OR_RETURN(std::vector<std::string> keys, jobs::DecodeListScan(spec.payload));
    spec.kind = kVerifyListKind;
    spec.payload = EncodeListJob(ListJob{.keys = std::move(keys), .compare = compare});
  }
  return list_scans;
}

jobs::JobSpec FirstVerifyJob(const CompareOptions& compare, int max_attempts) {
  jobs::JobSpec spec;
  spec.kind = kVerifyRangeKind;
  spec.payload = EncodeRangeJob(RangeJob{.range = jobs::KeyRange{}, .compare = compare});
  spec.max_attempts = max_attempts;
  return spec;
}

void VerifyTally::Note(const Entry& e) {
  if (e.mark == Mark::kIdentical || e.mark == Mark::kSizeOnly) return;
  if (differences.size() < kMaxRecordedDifferences) {
    differences.push_back(e);
  } else {
    ++differences_left_out;
  }
}

void VerifyTally::Merge(const VerifyTally& other) {
  counts.identical += other.counts.identical;
  counts.differ += other.counts.differ;
  counts.missing += other.counts.missing;
  counts.extra += other.counts.extra;
  counts.errors += other.counts.errors;
  counts.size_only += other.counts.size_only;
  differences.insert(differences.end(), other.differences.begin(), other.differences.end());
  differences_left_out += other.differences_left_out;
}

std::string EncodeVerifyTally(const VerifyTally& t) {
  json j{{"identical", t.counts.identical}, {"differ", t.counts.differ},
         {"missing", t.counts.missing},     {"extra", t.counts.extra},
         {"errors", t.counts.errors},       {"size_only", t.counts.size_only},
         {"left_out", t.differences_left_out}};
  json& list = j["differences"] = json::array();
  for (const Entry& e : t.differences) {
    list.push_back({{"k", VerifyKeyJson(e.key)},
                    {"r", MarkName(e.mark)},
                    {"why", e.reason},
                    {"ss", SizeJson(e.src_size)},
                    {"ds", SizeJson(e.dst_size)}});
  }
  return json_util::Dump(j);
}

Result<VerifyTally> DecodeVerifyTally(const std::string& text) {
  auto read = [](const json& j) -> Result<VerifyTally> {
    VerifyTally t;
    t.counts.identical = j.at("identical").get<uint64_t>();
    t.counts.differ = j.at("differ").get<uint64_t>();
    t.counts.missing = j.at("missing").get<uint64_t>();
    t.counts.extra = j.at("extra").get<uint64_t>();
    t.counts.errors = j.at("errors").get<uint64_t>();
    t.counts.size_only = j.at("size_only").get<uint64_t>();
    t.differences_left_out = j.at("left_out").get<size_t>();
    for (const json& d : j.at("differences")) {
      Entry e;
      e.key = json_util::KeyFrom(d.at("k"));
      e.mark = MarkNamed(d.at("r").get<std::string>());
      e.reason = d.at("why").get<std::string>();
      e.src_size = SizeFrom(d.at("ss"));
      e.dst_size = SizeFrom(d.at("ds"));
      t.differences.push_back(std::move(e));
    }
    return t;
  };
  return json_util::ParseJson(text, "verify-result record", read);
}

Result<VerifyTally> RunTally(jobs::JobStore& store, jobs::RunId run) {
  VerifyTally total;
  FERRY_RETURN_IF_ERROR(
      jobs::ForEachJobOfKind(store, run, kVerifyResultKind, [&](const jobs::Job& j) -> Status {
        FERRY_ASSIGN_OR_RETURN(VerifyTally t, DecodeVerifyTally(j.spec.payload));
        total.Merge(t);
        return Status::Ok();
      }));
  return total;
}

std::shared_ptr<const jobs::JobHandler> MakeVerifyResultHandler() {
  return std::make_shared<VerifyResultHandler>();
}

std::shared_ptr<const jobs::JobHandler> MakeVerifySummaryHandler() {
  return jobs::MakeReportSummaryHandler(kVerifySummaryKind);
}

}  // namespace ferry::verify
