// Decoding of rows into runs and jobs, name parsing, time conversion and spec validation: the
// pieces every SqlJobStore operation shares.
#include <limits>

#include "jobs/sql/sql_job_store.h"

namespace ferry::jobs::internal {

const char* const kJobColumns =
    "id, run, kind, payload, objects, bytes, max_attempts, state, attempts, last_error, "
    "lease_owner, lease_expires, not_before, created, updated, region";
const char* const kRunColumns =
    "id, source, destination, options, state, created, updated, phase, continuous, "
    "rescan_interval, leases_until";

TimePoint FromMs(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

int64_t ToMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

namespace {

template <class Enum, size_t N>
Result<Enum> ParseName(std::string_view what, std::string_view name, const Enum (&all)[N],
                       std::string_view (*name_of)(Enum)) {
  for (Enum e : all) {
    if (name_of(e) == name) return e;
  }
  return Status::DataLoss("unknown " + std::string(what) + " \"" + std::string(name) +
                          "\" in the state store (written by a newer ferry?)");
}

constexpr JobState kAllJobStates[] = {JobState::kQueued, JobState::kLeased, JobState::kDone,
                                      JobState::kDead};
constexpr RunState kAllRunStates[] = {RunState::kRunning, RunState::kDone, RunState::kFailed};

}  // namespace

Result<JobState> ParseJobState(std::string_view name) {
  return ParseName("job state", name, kAllJobStates, &JobStateName);
}
Result<RunState> ParseRunState(std::string_view name) {
  return ParseName("run state", name, kAllRunStates, &RunStateName);
}

Result<Job> DecodeJob(const SqlRow& row) {
  if (row.size() != 16)
    return Status::Internal("job row has " + std::to_string(row.size()) + " columns, want 16");
  Job job;
  job.id = CellInt(row[0]);
  job.spec.run = CellInt(row[1]);
  job.spec.kind = CellText(row[2]);
  job.spec.payload = CellText(row[3]);
  job.spec.objects = static_cast<uint64_t>(CellInt(row[4]));
  job.spec.bytes = static_cast<uint64_t>(CellInt(row[5]));
  job.spec.max_attempts = static_cast<int>(CellInt(row[6]));
  FERRY_ASSIGN_OR_RETURN(job.state, ParseJobState(CellText(row[7])));
  job.attempts = static_cast<int>(CellInt(row[8]));
  job.last_error = CellText(row[9]);
  job.lease_owner = CellText(row[10]);
  job.lease_expires = FromMs(CellInt(row[11]));
  job.not_before = FromMs(CellInt(row[12]));
  job.spec.not_before = job.not_before;
  job.created = FromMs(CellInt(row[13]));
  job.updated = FromMs(CellInt(row[14]));
  job.spec.region = CellText(row[15]);
  return job;
}

Result<Run> DecodeRun(const SqlRow& row) {
  if (row.size() != 11)
    return Status::Internal("run row has " + std::to_string(row.size()) + " columns, want 11");
  Run run;
  run.id = CellInt(row[0]);
  run.spec.source = CellText(row[1]);
  run.spec.destination = CellText(row[2]);
  run.spec.options = CellText(row[3]);
  FERRY_ASSIGN_OR_RETURN(run.state, ParseRunState(CellText(row[4])));
  run.created = FromMs(CellInt(row[5]));
  run.updated = FromMs(CellInt(row[6]));
  run.phase = static_cast<int>(CellInt(row[7]));
  run.spec.continuous = CellInt(row[8]) != 0;
  run.spec.rescan_interval = std::chrono::milliseconds(CellInt(row[9]));
  run.leases_until = CellInt(row[10]) == 0 ? TimePoint{} : FromMs(CellInt(row[10]));
  return run;
}

std::string RunnableIndexPredicate() {
  return "state IN ('queued', 'leased') AND not_before < " + std::to_string(ToMs(kParked));
}

Status ValidateSpecs(const std::vector<JobSpec>& specs) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (size_t i = 0; i < specs.size(); ++i) {
    const JobSpec& s = specs[i];
    std::string where = "job spec " + std::to_string(i) + ": ";
    if (s.max_attempts < 1) {
      return Status::InvalidArgument(where + "max_attempts must be at least 1");
    }
    if (s.objects > kMax || s.bytes > kMax) {
      return Status::InvalidArgument(where + "objects or bytes out of range");
    }
    if (s.kind.empty()) return Status::InvalidArgument(where + "empty kind");
  }
  return Status::Ok();
}

}  // namespace ferry::jobs::internal
