// Part jobs (part_jobs.h): the owner's steps (hand the parts out, wait, complete), the part
// jobs' payload and their journal in the owner's checkpoint.
#include "jobs/part_jobs.h"

#include <algorithm>
#include <future>
#include <memory>

#include <nlohmann/json.hpp>

#include "jobs/payload.h"
#include "obs/log.h"

namespace ferry::jobs {
namespace {

using json = nlohmann::json;

// The owner's payload once its parts were handed out: {"part_jobs":{"parts":N,"jobs":J},
// "transfer":<its transfer payload>}. Written with sorted keys, so it starts with the marker.
constexpr std::string_view kOwnerMarker = "{\"part_jobs\":";

uint64_t PartsOf(uint64_t size, uint64_t part_size) {
  return part_size == 0 ? 0 : (size + part_size - 1) / part_size;
}

// How many of an object's `parts` parts a checkpoint holds.
uint64_t PartsRecorded(const std::vector<PartCheckpoint>& checkpointed, uint64_t parts) {
  return static_cast<uint64_t>(
      std::count_if(checkpointed.begin(), checkpointed.end(), [&](const PartCheckpoint& p) {
        return p.part_number >= 1 && static_cast<uint64_t>(p.part_number) <= parts;
      }));
}

std::string EncodeOwner(const std::string& transfer, uint64_t parts, uint64_t jobs) {
  json j = {{"part_jobs", {{"parts", parts}, {"jobs", jobs}}},
            {"transfer", json::parse(transfer)}};
  return j.dump();
}

// The transfer payload inside an owner's payload; nullopt for any other payload.
std::optional<std::string> OwnerTransfer(const std::string& payload) {
  if (!payload.starts_with(kOwnerMarker)) return std::nullopt;
  json j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("transfer")) return std::nullopt;
  return j["transfer"].dump();
}

JobResult WaitForParts(std::string why) {
  JobResult r;
  r.outcome.kind = Outcome::Kind::kWait;
  r.outcome.error = std::move(why);
  r.outcome.retry_after = kOwnerPoll;
  return r;
}

// The completion (copy_here) keeps the owner's form of a payload it replaces (the objects that
// failed), so that its retry completes the same upload instead of handing the parts out again.
JobResult KeepOwnerForm(JobResult r, uint64_t parts) {
  if (r.outcome.payload) r.outcome.payload = EncodeOwner(*r.outcome.payload, parts, 0);
  return r;
}

// Step 1: opens (or resumes) the object's upload in the owner's checkpoint, then hands its
// parts out with the owner's new payload in one transaction, and waits for them.
JobResult HandOutParts(JobContext& ctx, const transfer::CopyRequest& object,
                       const std::string& payload, const CopyHere& copy_here) {
  const Job& j = ctx.claimed.job;
  const UploadRef ref{"", object.src.key};
  transfer::CopyRequest open = object;
  open.journal = std::make_shared<StoreJournal>(ctx.store, ctx.claimed.lease, ref, ctx.lease_lost);
  open.only_parts = transfer::CopyRequest::PartRange{.first = 1, .last = 0, .open_upload = true};
  Status opened = CopyAndWait(ctx, std::move(open));
  if (!opened.ok()) return EndedWith(opened, j.attempts);
  auto saved = ctx.store.LoadUpload(j.id, ref);
  if (!saved.ok()) return EndedWith(saved.status(), j.attempts);
  // No upload (the object needs no copy after a closer look, or is archived): as always.
  if (!saved->has_value() || (*saved)->upload_id.empty()) return copy_here(payload);
  const uint64_t part_size = (*saved)->part_size;
  std::vector<JobSpec> parts = PartJobsFor(j, payload, object.src.size, part_size);
  Status handed = ctx.control.HandOff(
      EncodeOwner(payload, PartsOf(object.src.size, part_size), parts.size()), parts);
  if (!handed.ok()) return EndedWith(handed, j.attempts);
  obs::Log(ctx.options.verbose ? obs::Level::kInfo : obs::Level::kDebug, "parts handed out",
           {{"key", object.src.key}, {"jobs", std::to_string(parts.size())},
            {"upload", (*saved)->upload_id}});
  return WaitForParts("waiting for its part jobs");
}

// Step 2: completes the object once every part is checkpointed, or once no part job of the run
// is left to run (the completion sends what is missing); waits otherwise.
JobResult AwaitParts(JobContext& ctx, const std::string& transfer, const CopyHere& copy_here) {
  const Job& j = ctx.claimed.job;
  auto objects = DecodeTransfer(transfer);
  if (!objects.ok()) return FailedAtOnce(objects.status());
  if (objects->size() != 1) return copy_here(transfer);
  const transfer::CopyRequest& object = objects->front();
  auto saved = ctx.store.LoadUpload(j.id, UploadRef{"", object.src.key});
  if (!saved.ok()) return EndedWith(saved.status(), j.attempts);
  if (!saved->has_value() || (*saved)->upload_id.empty()) return copy_here(transfer);
  const uint64_t parts = PartsOf(object.src.size, (*saved)->part_size);
  const uint64_t recorded = PartsRecorded((*saved)->parts, parts);
  if (recorded < parts) {
    auto counts = ctx.store.CountJobs(j.spec.run);
    if (!counts.ok()) return EndedWith(counts.status(), j.attempts);
    if (counts->of(kPartKind).active() > 0) {
      return WaitForParts(std::to_string(recorded) + " of " + std::to_string(parts) +
                          " parts checkpointed");
    }
  }
  return KeepOwnerForm(copy_here(transfer), parts);
}

}  // namespace

bool SpreadsParts(const RunContext& run, const transfer::CopyRequest& object) {
  const RunOptions& o = run.options;
  if (o.part_jobs_min_parts <= 0 || object.src.size < o.multipart_threshold) return false;
  if (PartsOf(object.src.size, o.part_size) < static_cast<uint64_t>(o.part_jobs_min_parts)) {
    return false;
  }
  if (run.src == nullptr || run.dst == nullptr || run.engine == nullptr) return false;
  return run.dst->features().chunked_write && !run.dst->CanCopyFrom(*run.src) &&
         !run.engine->options().dry_run;
}

std::optional<JobResult> RunPartOwner(JobContext& ctx, const CopyHere& copy_here) {
  const std::string& payload = ctx.claimed.job.spec.payload;
  if (std::optional<std::string> transfer = OwnerTransfer(payload)) {
    return AwaitParts(ctx, *transfer, copy_here);
  }
  if (ctx.run.options.part_jobs_min_parts <= 0) return std::nullopt;
  auto objects = DecodeTransfer(payload);
  if (!objects.ok() || objects->size() != 1 || !SpreadsParts(ctx.run, objects->front())) {
    return std::nullopt;
  }
  return HandOutParts(ctx, objects->front(), payload, copy_here);
}

std::string EncodePartJob(const PartJobPayload& p) {
  json j = {{"owner", p.owner},
            {"first", p.first},
            {"last", p.last},
            {"transfer", json::parse(p.transfer)}};
  return j.dump();
}

Result<PartJobPayload> DecodePartJob(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::DataLoss("part job: not JSON: " + text);
  try {
    PartJobPayload p;
    p.owner = j.at("owner").get<JobId>();
    p.first = j.at("first").get<int>();
    p.last = j.at("last").get<int>();
    p.transfer = j.at("transfer").dump();
    if (p.owner <= 0 || p.first < 1 || p.last < p.first) {
      return Status::DataLoss("part job: bad owner or range: " + text);
    }
    return p;
  } catch (const json::exception& e) {
    return Status::DataLoss(std::string("part job: ") + e.what());
  }
}

std::vector<JobSpec> PartJobsFor(const Job& owner, const std::string& transfer, uint64_t size,
                                 uint64_t part_size) {
  std::vector<JobSpec> out;
  const auto parts = static_cast<int>(PartsOf(size, part_size));
  for (int first = 1; first <= parts; first += kPartsPerJob) {
    const int last = std::min(parts, first + kPartsPerJob - 1);
    const uint64_t begin = static_cast<uint64_t>(first - 1) * part_size;
    const uint64_t end = std::min(size, static_cast<uint64_t>(last) * part_size);
    JobSpec spec;
    spec.run = owner.spec.run;
    spec.kind = kPartKind;
    spec.payload = EncodePartJob({owner.id, first, last, transfer});
    spec.objects = 0;
    spec.bytes = end - begin;
    spec.max_attempts = owner.spec.max_attempts;
    spec.region = owner.spec.region;
    out.push_back(std::move(spec));
  }
  return out;
}

Result<std::optional<transfer::UploadJournal::Upload>> SharedPartJournal::Load() {
  FERRY_ASSIGN_OR_RETURN(auto saved, store_.LoadUpload(owner_, ref_));
  if (!saved || saved->upload_id.empty()) return std::optional<Upload>();
  upload_id_ = saved->upload_id;
  Upload u;
  u.upload_id = saved->upload_id;
  u.part_size = saved->part_size;
  u.source = saved->source;
  for (const auto& p : saved->parts) u.parts.push_back({p.part_number, p.crc32c, p.size, p.etag});
  return std::optional<Upload>(std::move(u));
}

Status SharedPartJournal::Creating(const std::string& source) {
  (void)source;
  return Status::FailedPrecondition("a part job never starts an upload");
}

Status SharedPartJournal::Begin(const std::string& upload_id, uint64_t part_size,
                                const std::string& source) {
  (void)upload_id, (void)part_size, (void)source;
  return Status::FailedPrecondition("a part job never starts an upload");
}

Status SharedPartJournal::PartDone(const Part& part) {
  Status s = store_.SaveSharedPart(lease_, owner_, ref_, upload_id_,
                                   PartCheckpoint{part.part_number, part.md5, part.crc32c,
                                                  part.size});
  if (s.code() == ErrorCode::kNotFound) {
    // The owner completed or replaced the upload (or the run was abandoned): nothing of this
    // job is needed any more.
    gone_ = true;
    return Status::Cancelled(s.message());
  }
  if (s.code() != ErrorCode::kFailedPrecondition) return s;
  if (on_lost_) on_lost_(s);  // another worker holds the part job now
  return Status::Cancelled("lease lost: " + s.message());
}

void WakeOwnerWhenComplete(JobStore& store, JobId owner, const UploadRef& ref, uint64_t size) {
  auto saved = store.LoadUpload(owner, ref);
  if (!saved.ok() || !saved->has_value() || (*saved)->upload_id.empty()) return;
  const uint64_t parts = PartsOf(size, (*saved)->part_size);
  const uint64_t recorded = PartsRecorded((*saved)->parts, parts);
  if (recorded < parts) return;
  auto woken = store.Wake(owner);
  obs::Log(obs::Level::kDebug, "the object's last part is checkpointed: its owner woken",
           {{"owner", std::to_string(owner)},
            {"woken", woken.ok() ? (*woken ? "yes" : "no") : woken.status().message()}});
}

Status CopyAndWait(JobContext& ctx, transfer::CopyRequest request) {
  auto outcome = std::make_shared<std::promise<Status>>();
  std::future<Status> result = outcome->get_future();
  request.cancel = ctx.cancel;
  request.done = [outcome](const Status& s) { outcome->set_value(s); };
  ctx.run.engine->Copy(std::move(request));
  return result.get();
}

}  // namespace ferry::jobs
