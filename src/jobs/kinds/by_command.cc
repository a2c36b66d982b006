// ByCommand (contract in by_command.h).
#include "jobs/kinds/by_command.h"

#include "jobs/run_context.h"

namespace ferry::jobs {
namespace {

class ByCommandHandler : public JobHandler {
 public:
  ByCommandHandler(std::shared_ptr<const JobHandler> handler,
                   std::map<std::string, RunJob, std::less<>> runs)
      : handler_(std::move(handler)), runs_(std::move(runs)) {}
  std::string_view name() const override { return handler_->name(); }
  int phase() const override { return handler_->phase(); }
  bool counts_progress() const override { return handler_->counts_progress(); }
  bool uses_lister_slot() const override { return handler_->uses_lister_slot(); }
  size_t ObjectsInFlight(const Job& job, const RunContext& run,
                         const WorkerOptions& options) const override {
    return handler_->ObjectsInFlight(job, run, options);
  }
  JobResult Run(JobContext& ctx) const override {
    auto it = runs_.find(ctx.run.options.command);
    return it == runs_.end() ? handler_->Run(ctx) : it->second(ctx);
  }

 private:
  const std::shared_ptr<const JobHandler> handler_;
  const std::map<std::string, RunJob, std::less<>> runs_;
};

}  // namespace

std::shared_ptr<const JobHandler> ByCommand(std::shared_ptr<const JobHandler> handler,
                                            std::map<std::string, RunJob, std::less<>> runs) {
  return std::make_shared<ByCommandHandler>(std::move(handler), std::move(runs));
}

}  // namespace ferry::jobs
