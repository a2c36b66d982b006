// GET /api/status of `ferry serve` (docs/design/dashboard.md): what the state store tells
// cheaply about the runs served, read at each request.
//
//   {"store":true,
//    "runs":[{"source":"ra:photos","run":3,
//             "jobs":{"replicate-event":{"queued":0,"leased":1,"done":9,"dead":0},..},
//             "next_due":"2026-01-02T04:04:05.678Z",
//             "failures":{"last_minute":0,"last_hour":1,"total":2}}],
//    "workers":[{"owner":"host:1234","jobs":2,"kinds":{"replicate-event":2}}],
//    "events_auth":"token",
//    "errors":[{"run":3,"job":17,"kind":"replicate-event","key":"a/b","state":"dead",
//               "error":"AccessDenied ...","time":"2026-01-02T03:04:05.678Z"},
//              {"run":3,"version":"v1","destination":"rb:b/","key":"a/c","state":"FAILED",
//               "error":"kNotFound: ...","time":"..."}]}
//
// events_auth: how POST /events authenticates: "token", "sns" (verified SNS envelopes),
// "token+sns", "none" (--insecure-no-auth: anyone who reaches the listener), "none+sns", or
// "off" (no intake).
// jobs: CountJobs of the run; next_due: when its next round's scan is due, only while the run
// waits for it (RunCounts::next_due later than now). failures: the versions of the source the
// status store holds FAILED, changed within the last minute, hour, or ever
// (replicate::StatusStore::CountSince).
// workers: the owners of the runs' leased jobs (at most 1000 read per run). errors: the 10 most
// recent of the versions held FAILED (read only while a run has at most 200 of them:
// StatusStore::Rows reads them all) and of the jobs with an error that are not done
// (JobStore::ListErrors: dead ones, retries), a job with the key a replicate-event job names or
// the first key of a replicate-keys batch ("" for others). A part that cannot be read gives an
// "error" (or "workers_error", "errors_error") in its place instead of failing the whole answer.
#pragma once

#include <string>
#include <vector>

#include "base/clock.h"
#include "jobs/job_store.h"
#include "replicate/status_store.h"

namespace ferry::serve::daemon {

struct ServedRun {
  std::string source;  // location name, as the status store keys it
  jobs::RunId run = 0;
};

std::string ServeStatusJson(jobs::JobStore& store, replicate::StatusStore& status,
                            const std::vector<ServedRun>& runs, const Clock& clock,
                            const std::string& events_auth = "off");

}  // namespace ferry::serve::daemon
