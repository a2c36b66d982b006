// Run-end notifications wired into the process (notify_run.h).
#include "app/notify_run.h"

#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "app/config_notify.h"
#include "app/sqs.h"
#include "backup/kinds/restore_kind.h"
#include "cache/kinds/warm_kind.h"
#include "jobs/delete_guard.h"
#include "jobs/payload.h"
#include "jobs/run_metrics.h"
#include "jobs/worker.h"
#include "notify/deliver_pending.h"
#include "notify/outbox.h"
#include "notify/send_now.h"
#include "obs/log.h"
#include "replicate/kinds/kinds.h"

namespace ferry::app {
namespace {

int64_t NotifyNowMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The region of arn:PARTITION:sns:REGION:ACCOUNT:NAME; "" when not one.
std::string RegionOfTopicArn(const std::string& arn) {
  size_t at = 0;
  for (int field = 0; field < 3; ++field) {
    at = arn.find(':', at);
    if (at == std::string::npos) return "";
    ++at;
  }
  const size_t end = arn.find(':', at);
  return end == std::string::npos ? "" : arn.substr(at, end - at);
}

Result<notify::Outbox*> RunOutbox(jobs::JobStore& store,
                                  std::unique_ptr<notify::Outbox>& holder) {
  state::SqlSession* session = store.session();
  if (session == nullptr) return Status::NotSupported("notifications need a SQL state store");
  FERRY_ASSIGN_OR_RETURN(holder, notify::Outbox::Open(*session));
  return holder.get();
}

}  // namespace

notify::RunEnd DurableRunEnd(const jobs::RunEndFacts& facts) {
  notify::RunEnd end;
  end.run_id = std::to_string(facts.run);
  jobs::Run run;
  run.spec.options = facts.options;
  end.command = jobs::RunCommand(run);
  end.source = facts.source;
  end.destination = facts.destination;
  end.durable = true;
  uint64_t dead_jobs = 0;
  for (const auto& [kind, k] : facts.kinds) {
    // Kinds whose jobs' objects are written when they are done: a copy's, a pack's, a
    // replication pass's batches of versions, a restore's entries.
    if (kind == jobs::kTransferKind || kind == "pack" || kind == replicate::kReplicateKeysKind ||
        kind == backup::kRestoreKind) {
      end.objects.copied += k.done_objects;
      end.bytes += k.done_bytes;
    }
    // A cache warm's job learns what it copies as it runs: its attempts' tallies.
    if (kind == cache::kWarmKind) {
      end.objects.copied += k.tally.objects;
      end.bytes += k.tally.bytes;
    }
    // a sync's deletes; a replication pass's parked delete-marker keys (objects: their deletes)
    if (jobs::GuardedDeleteKind(kind)) end.objects.deleted += k.done_objects;
    end.objects.failed += k.dead_objects;
    dead_jobs += k.dead_jobs;
  }
  end.state = facts.state == jobs::RunState::kDone ? notify::EndState::kDone
              : dead_jobs > 0                      ? notify::EndState::kDead
                                                   : notify::EndState::kFailed;
  end.errors = facts.errors;
  end.started = facts.created;
  end.ended = facts.ended;
  if (auto options = jobs::DecodeRunOptions(facts.options); options.ok()) {
    end.report = options->report.location;
  }
  return end;
}

void InstallRunEndNotifications() {
  static std::once_flag once;
  std::call_once(once, [] {
    jobs::SetRunEndHook([](state::SqlTx& tx, const jobs::RunEndFacts& facts) {
      const notify::RunEnd end = DurableRunEnd(facts);
      return notify::internal::AppendRunEnd(
          tx, facts.run, end.state, [&]() -> Result<notify::RunEnd> { return end; },
          NotifyNowMs(facts.ended));
    });
  });
}

Result<std::vector<notify::Target>> RunTargets(const Config& config,
                                               const std::vector<std::string>& flags) {
  std::vector<notify::Target> targets = config.notify;
  for (const std::string& flag : flags) {
    FERRY_ASSIGN_OR_RETURN(notify::Target t, ParseNotifyFlag(flag));
    targets.push_back(std::move(t));
  }
  return targets;
}

notify::DeliveryContext NotifyContext(Wiring& wiring) {
  notify::DeliveryContext ctx;
  ctx.http = &wiring.transport();
  ctx.service_endpoint = [&wiring](const notify::Target& t) -> Result<s3::ServiceEndpoint> {
    const auto& remotes = wiring.config().remotes;
    const auto remote = remotes.find(t.remote);
    ServiceEndpointRequest request;
    request.service = t.kind == notify::Kind::kSns ? "sns" : "sqs";
    request.remote = remote == remotes.end() ? nullptr : &remote->second;
    request.queue_url = t.queue_url;
    request.endpoint = t.endpoint;
    request.region = t.region.empty() && t.kind == notify::Kind::kSns
                         ? RegionOfTopicArn(t.topic_arn)
                         : t.region;
    return ResolveServiceEndpoint(request, wiring.transport());
  };
  return ctx;
}

notify::RunEnd InMemoryRunEnd(const InMemoryRunFacts& facts) {
  notify::RunEnd end;
  std::string stamp;  // 2026-11-28T06:15:00.123Z -> 20261128T061500Z
  for (char c : notify::TimeText(facts.started).substr(0, 19)) {
    if (c != '-' && c != ':') stamp += c;
  }
  end.run_id = stamp + "Z-" + std::to_string(::getpid());
  end.command = facts.command;
  end.source = facts.source;
  end.destination = facts.destination;
  if (facts.stats != nullptr) {
    const transfer::Stats& s = *facts.stats;
    end.objects.copied = s.objects_copied;
    end.objects.skipped = s.objects_skipped.load();
    end.objects.failed = s.failures();
    end.objects.deleted = s.objects_deleted + s.sources_deleted;
    end.bytes = s.bytes_copied;
    for (const transfer::Failure& f : s.KeptFailures()) {
      if (end.errors.size() >= notify::kMaxErrors) break;
      end.errors.push_back(f.action + " " + f.key + ": " + f.status.message());
    }
  } else {
    end.objects.copied = facts.counts.copied;
    end.objects.skipped = facts.counts.skipped;
    end.objects.failed = facts.counts.failed;
    end.objects.deleted = facts.counts.deleted;
    end.bytes = facts.counts.bytes;
    for (const std::string& e : facts.errors) {
      if (end.errors.size() >= notify::kMaxErrors) break;
      end.errors.push_back(e);
    }
  }
  end.state = facts.cut                                              ? notify::EndState::kCut
              : facts.status.ok() && end.objects.failed == 0 ? notify::EndState::kDone
                                                                     : notify::EndState::kFailed;
  if (!facts.status.ok() && !facts.cut) end.errors.insert(end.errors.begin(), facts.status.message());
  end.started = facts.started;
  end.ended = facts.ended;
  end.report = facts.report;
  return end;
}

void NotifyInMemoryRun(const std::vector<notify::Target>& targets, const InMemoryRunFacts& facts,
                       Wiring& wiring, std::stop_token stop) {
  if (targets.empty()) return;
  notify::SendNow(targets, InMemoryRunEnd(facts), NotifyContext(wiring), notify::kRunEndRetries,
                  stop);
}

Status SetDurableRunTargets(jobs::JobStore& store, jobs::RunId run,
                            const std::vector<notify::Target>& targets) {
  std::unique_ptr<notify::Outbox> holder;
  FERRY_ASSIGN_OR_RETURN(notify::Outbox * outbox, RunOutbox(store, holder));
  return outbox->SetRunTargets(run, targets);
}

Result<jobs::NewRunStep> RunTargetsStep(jobs::JobStore& store,
                                        std::vector<notify::Target> targets) {
  if (targets.empty()) return jobs::NewRunStep();
  std::unique_ptr<notify::Outbox> holder;
  FERRY_RETURN_IF_ERROR(RunOutbox(store, holder).status());  // the tables, before the run's tx
  return jobs::NewRunStep(
      [targets = std::move(targets)](state::SqlTx& tx, jobs::RunId run) -> Status {
        return notify::internal::WriteRunTargets(tx, run, targets);
      });
}

int64_t DeliverRunNotifications(jobs::JobStore& store, Wiring& wiring, jobs::RunId run,
                                std::stop_token stop) {
  std::unique_ptr<notify::Outbox> holder;
  Result<notify::Outbox*> outbox = RunOutbox(store, holder);
  Status failed = outbox.status();
  if (outbox.ok()) {
    // One try per claim, the row given back between tries: a process killed while it waits
    // leaves a row that is not leased, which the next process of the store sends at once.
    notify::PendingOptions options;
    options.owner = jobs::DefaultOwner();
    options.run = run;
    options.lease = std::chrono::seconds(30);
    options.backoff = notify::kRunEndRetries;
    const notify::DeliveryContext context = NotifyContext(wiring);
    Clock& clock = ClockOr(context.clock);
    for (int attempt = 1;; ++attempt) {
      Result<notify::PendingRound> round = notify::DeliverPending(**outbox, context, options, stop);
      Result<int64_t> pending = (*outbox)->Pending(run);
      if (!round.ok() || !pending.ok()) {
        failed = round.ok() ? pending.status() : round.status();
        break;
      }
      if (*pending == 0 || attempt >= notify::kRunEndRetries.max_attempts ||
          stop.stop_requested()) {
        return *pending;
      }
      // The longest a given-back row waits (deliver_pending.h): it is due again by then.
      clock.SleepFor(std::min(notify::kRunEndRetries.initial_delay * (1 << (attempt - 1)),
                              notify::kRunEndRetries.max_delay),
                     stop);
    }
  }
  obs::Log(obs::Level::kWarn, "notifications of run " + std::to_string(run) +
                                  " not delivered: " + failed.message());
  return 0;
}

std::unique_ptr<obs::PeriodicRefresh> StartOutboxDelivery(jobs::JobStore& store, Wiring& wiring,
                                                          std::chrono::milliseconds interval) {
  if (store.session() == nullptr) return nullptr;
  auto outbox = std::make_shared<std::unique_ptr<notify::Outbox>>();
  auto deliver = [&store, &wiring, outbox] {
    if (*outbox == nullptr) {
      Result<notify::Outbox*> opened = RunOutbox(store, *outbox);
      if (!opened.ok()) return;
    }
    notify::PendingOptions options;
    options.owner = jobs::DefaultOwner();
    // One try per claim (PendingOptions' default): the timer's first round runs as the worker
    // starts, which a receiver that is down must not hold up; a failed row waits its backoff.
    Result<notify::PendingRound> round =
        notify::DeliverPending(**outbox, NotifyContext(wiring), options, {});
    if (!round.ok()) {
      obs::Log(obs::Level::kWarn, "notifications: the outbox: " + round.status().message());
    }
  };
  return std::make_unique<obs::PeriodicRefresh>(deliver, SystemClock::Default(), interval);
}

}  // namespace ferry::app
