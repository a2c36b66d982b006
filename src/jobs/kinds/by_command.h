// ByCommand: one kind whose jobs some commands' runs run their own way. A kind is one name
// (stored with every job) and one handler; an "unpack" job of a replication pass writes
// versions in order and records them in the pass's status store (src/replicate), one of a sync
// writes objects (src/transport). The composition root (src/app/kinds.cc) joins them: the
// result is `handler` (its name, phase, progress, lister slot, objects in flight) except that
// a job whose run's command (RunOptions::command) is a key of `runs` is run by that function.
//
// Thread-safety: as any handler (handler.h): the functions are called concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "jobs/kinds/handler.h"

namespace ferry::jobs {

using RunJob = std::function<JobResult(JobContext& ctx)>;

std::shared_ptr<const JobHandler> ByCommand(std::shared_ptr<const JobHandler> handler,
                                            std::map<std::string, RunJob, std::less<>> runs);

}  // namespace ferry::jobs
