// Schedules of ferry serve: `at` (ParseAt, occurrences), the claim store and the Scheduler with
// a FakeClock, on SQLite (unit) and, built with FERRY_SCHEDULE_PG, on the PostgreSQL of
// FERRY_TEST_PG_URL (integration): the same tests on both databases.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "jobs/job_store.h"
#include "obs/metrics.h"
#include "serve/schedule_at.h"
#include "serve/schedule_store.h"
#include "serve/scheduler.h"
#include "state/state.h"
#include "testing/fake_clock.h"

namespace ferry::serve {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// 2026-01-05 is a Monday.
TimePoint Utc(int day_of_jan_2026, int h, int m, int s = 0) {
  return TimePoint(seconds(1767225600 + int64_t{day_of_jan_2026 - 1} * 86400 + h * 3600 + m * 60 + s));
}

ScheduleAt At(std::string_view text) {
  Result<ScheduleAt> at = ParseAt(text);
  EXPECT_TRUE(at.ok()) << text << ": " << at.status().message();
  return at.ok() ? *at : ScheduleAt{};
}

TEST(ScheduleAtTest, EveryForm) {
  EXPECT_EQ(At("hourly").every, hours(1));
  EXPECT_EQ(At("every 5s").every, seconds(5));
  EXPECT_EQ(At("every 15m").every, minutes(15));
  EXPECT_EQ(At("every 24h").every, hours(24));
  EXPECT_EQ(At("daily 02:00").days, 0x7f);
  EXPECT_EQ(At("daily 02:00").minute_of_day, 120);
  EXPECT_EQ(At("Mon 06:00").days, 1 << 1);
  EXPECT_EQ(At("mon,THU 23:59").days, (1 << 1) | (1 << 4));
  EXPECT_EQ(At("mon,THU 23:59").minute_of_day, 23 * 60 + 59);
  EXPECT_EQ(At("Sun,Sat 00:00").days, (1 << 0) | (1 << 6));
}

TEST(ScheduleAtTest, BadInputIsOneLine) {
  for (std::string_view bad :
       {"", "weekly", "hourly 5", "daily", "daily 24:00", "daily 2:00", "daily 02:60",
        "Mon 06:00 UTC", "Mon  06:00", "Monday 06:00", "Mon,,Thu 06:00", "Mon,Mon 06:00",
        "Mon,\nx 06:00",
        "Mon, Thu 06:00", "every 0s", "every 5", "every 5d", "every 25h", "every m",
        "every 1000000s", "every -5s", "Mon 06:00\nx"}) {
    Result<ScheduleAt> at = ParseAt(bad);
    ASSERT_FALSE(at.ok()) << bad;
    EXPECT_EQ(at.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(at.status().message().find('\n'), std::string::npos) << at.status().message();
    EXPECT_NE(at.status().message().find("forms:"), std::string::npos) << at.status().message();
  }
}

TEST(ScheduleAtTest, NextAndLatest) {
  const ScheduleAt hourly = At("hourly");
  EXPECT_EQ(NextAfter(hourly, Utc(5, 10, 30)), Utc(5, 11, 0));
  EXPECT_EQ(NextAfter(hourly, Utc(5, 11, 0)), Utc(5, 12, 0));  // strictly after
  EXPECT_EQ(LatestAtOrBefore(hourly, Utc(5, 11, 0)), Utc(5, 11, 0));
  EXPECT_EQ(NextAfter(hourly, Utc(5, 23, 59, 59)), Utc(6, 0, 0));  // midnight

  const ScheduleAt daily = At("daily 02:00");
  EXPECT_EQ(NextAfter(daily, Utc(5, 1, 0)), Utc(5, 2, 0));
  EXPECT_EQ(NextAfter(daily, Utc(5, 2, 0)), Utc(6, 2, 0));
  EXPECT_EQ(LatestAtOrBefore(daily, Utc(5, 1, 0)), Utc(4, 2, 0));
  EXPECT_EQ(NextAfter(daily, Utc(31, 3, 0)), TimePoint(Utc(31, 2, 0) + hours(24)));  // month

  const ScheduleAt monthu = At("Mon,Thu 06:00");
  EXPECT_EQ(NextAfter(monthu, Utc(5, 5, 0)), Utc(5, 6, 0));    // Monday
  EXPECT_EQ(NextAfter(monthu, Utc(5, 6, 0)), Utc(8, 6, 0));    // Thursday
  EXPECT_EQ(NextAfter(monthu, Utc(8, 7, 0)), Utc(12, 6, 0));   // over the weekend
  EXPECT_EQ(NextAfter(monthu, Utc(11, 23, 59)), Utc(12, 6, 0));  // Sunday night
  EXPECT_EQ(LatestAtOrBefore(monthu, Utc(11, 23, 0)), Utc(8, 6, 0));
  EXPECT_EQ(LatestAtOrBefore(monthu, Utc(12, 6, 0)), Utc(12, 6, 0));

  const ScheduleAt mon = At("Mon 06:00");
  EXPECT_EQ(NextAfter(mon, Utc(5, 6, 0)), Utc(12, 6, 0));
  EXPECT_EQ(LatestAtOrBefore(mon, Utc(12, 5, 59)), Utc(5, 6, 0));
  EXPECT_EQ(LatestAtOrBefore(mon, Utc(4, 5, 59)), TimePoint(Utc(5, 6, 0) - hours(24 * 7)));

  const ScheduleAt every = At("every 7m");  // multiples of 7 minutes since the epoch
  const TimePoint n = NextAfter(every, Utc(5, 10, 0));
  EXPECT_EQ(n.time_since_epoch() % minutes(7), TimePoint::duration::zero());
  EXPECT_GT(n, Utc(5, 10, 0));
  EXPECT_LE(n, Utc(5, 10, 7));
  EXPECT_EQ(LatestAtOrBefore(every, n), n);
  EXPECT_EQ(NextAfter(At("every 5s"), Utc(5, 0, 0, 3)), Utc(5, 0, 0, 5));
}

TEST(ScheduleAtTest, Period) {
  EXPECT_EQ(Period(At("hourly")), hours(1));
  EXPECT_EQ(Period(At("every 5s")), seconds(5));
  EXPECT_EQ(Period(At("daily 02:00")), hours(24));
  EXPECT_EQ(Period(At("Mon 06:00")), hours(24 * 7));
  EXPECT_EQ(Period(At("Mon,Thu 06:00")), hours(24 * 3));
  EXPECT_EQ(Period(At("Sun,Sat 06:00")), hours(24));  // over the week's end
}

class ScheduleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef FERRY_SCHEDULE_PG
    const char* url = std::getenv("FERRY_TEST_PG_URL");
    ASSERT_NE(url, nullptr) << "FERRY_TEST_PG_URL is not set";
    auto admin = state::OpenPgSession(url, SystemClock::Default());
    ASSERT_TRUE(admin.ok()) << admin.status().message();
    admin_ = std::move(*admin);
    schema_ = "ferry_sched_" + std::to_string(std::random_device{}());
    ASSERT_TRUE(admin_
                    ->Transact(state::TxMode::kWrite,
                               [&](state::SqlTx& tx) {
                                 return tx.Exec("CREATE SCHEMA " + schema_).status();
                               })
                    .ok());
    const std::string base(url);
    url_ = base + (base.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + schema_;
#else
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-sched-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    url_ = (dir_ / "state.db").string();
#endif
    jobs_ = Open();
    auto store = ScheduleStore::Open(*jobs_->session());
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    jobs_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    if (admin_ != nullptr) {
      EXPECT_TRUE(admin_
                      ->Transact(state::TxMode::kWrite,
                                 [&](state::SqlTx& tx) {
                                   return tx.Exec("DROP SCHEMA " + schema_ + " CASCADE").status();
                                 })
                      .ok());
    }
  }
  // Another connection to the same database: another serve process.
  std::unique_ptr<jobs::JobStore> Open() {
    auto s = jobs::OpenJobStore(url_);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }

  std::filesystem::path dir_;
  std::string url_;
  std::string schema_;
  std::unique_ptr<state::SqlSession> admin_;
  std::unique_ptr<jobs::JobStore> jobs_;
  std::unique_ptr<ScheduleStore> store_;
};

TEST_F(ScheduleStoreTest, ClaimOnceAcrossProcesses) {
  std::unique_ptr<jobs::JobStore> other_jobs = Open();
  auto other = ScheduleStore::Open(*other_jobs->session());
  ASSERT_TRUE(other.ok());
  Result<bool> a = store_->Claim({.schedule = "s", .due_ms = 1000, .owner = "a", .now_ms = 1001});
  Result<bool> b = (*other)->Claim({.schedule = "s", .due_ms = 1000, .owner = "b", .now_ms = 1002});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(*a);
  EXPECT_FALSE(*b);
  // another due, another schedule: their own rows
  EXPECT_TRUE(*(*other)->Claim({.schedule = "s", .due_ms = 2000, .owner = "b", .now_ms = 2001}));
  EXPECT_TRUE(*store_->Claim({.schedule = "t", .due_ms = 1000, .owner = "a", .now_ms = 1001}));

  // 4 threads of two "processes" race for 40 occurrences: each is won exactly once.
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      ScheduleStore& s = t % 2 == 0 ? *store_ : **other;
      const std::string owner = "w" + std::to_string(t);
      for (int64_t due = 0; due < 40; ++due) {
        Result<bool> r = s.Claim({.schedule = "race", .due_ms = due, .owner = owner, .now_ms = due});
        EXPECT_TRUE(r.ok()) << r.status().message();
        if (r.ok() && *r) ++won;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 40);
  Result<std::vector<Occurrence>> recent = store_->Recent("race", 100);
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->size(), 40u);
}

TEST_F(ScheduleStoreTest, FinishOnceAndSince) {
  ASSERT_TRUE(*store_->Claim({.schedule = "s", .due_ms = 1000, .owner = "a", .now_ms = 1000}));
  ASSERT_TRUE(store_->SetRun("s", 1000, 7).ok());
  Result<std::vector<Occurrence>> started = store_->Started();
  ASSERT_TRUE(started.ok());
  ASSERT_EQ(started->size(), 1u);
  EXPECT_EQ((*started)[0].run, 7);
  EXPECT_TRUE(*store_->Finish("s", 1000, kSucceeded, 5000, ""));
  EXPECT_FALSE(*store_->Finish("s", 1000, kFailed, 6000, "late"));  // ended already
  EXPECT_TRUE(store_->Started()->empty());
  auto last = store_->LastSuccesses();
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ((*last)[0].second, 5000);
  EXPECT_FALSE(store_->Finish("s", 1000, kMissed, 1, "").ok());  // not an end

  EXPECT_EQ(*store_->Since("s", "hourly", 100), 100);
  EXPECT_EQ(*store_->Since("s", "hourly", 200), 100);   // the same at: kept
  EXPECT_EQ(*store_->Since("s", "every 5s", 300), 300); // another: from now
  // missed: recorded as ended
  ASSERT_TRUE(*store_->Claim(
      {.schedule = "m", .due_ms = 10, .owner = "a", .now_ms = 99, .outcome = kMissed}));
  EXPECT_TRUE(store_->Started()->empty());
  EXPECT_EQ(store_->Recent("m", 1)->at(0).outcome, kMissed);
}

// Two schedulers (two serve processes) on one store with a FakeClock: each occurrence starts
// once, its outcome is read back from its run, a late one is missed, a new scheduler (a reload)
// starts nothing twice.
TEST_F(ScheduleStoreTest, SchedulersStartEachOccurrenceOnce) {
  testing::FakeClock clock(Utc(5, 10, 0, 1));
  obs::Registry registry;
  std::unique_ptr<jobs::JobStore> other_jobs = Open();
  auto other_store = ScheduleStore::Open(*other_jobs->session());
  ASSERT_TRUE(other_store.ok());
  std::vector<ScheduleSpec> specs = {
      {.name = "m5", .at_text = "every 5m", .at = At("every 5m"), .grace = {}}};
  std::map<TimePoint, int> starts;
  std::mutex mu;
  std::vector<jobs::RunId> served;
  const auto hooks = [&](jobs::JobStore& js) {
    SchedulerHooks h;
    h.start = [&, store = &js](size_t index, TimePoint due, std::stop_token) -> Result<jobs::RunId> {
      EXPECT_EQ(index, 0u);
      std::lock_guard lock(mu);
      ++starts[due];
      return store->CreateRun(jobs::RunSpec{"a", "b", "{}"});
    };
    h.serve_run = [&](jobs::RunId run) {
      std::lock_guard lock(mu);
      served.push_back(run);
    };
    return h;
  };
  auto first = std::make_unique<Scheduler>(specs, *store_, *jobs_, hooks(*jobs_),
                                           SchedulerOptions{.owner = "p1", .clock = &clock,
                                                            .registry = &registry});
  Scheduler second(specs, **other_store, *other_jobs, hooks(*other_jobs),
                   SchedulerOptions{.owner = "p2", .clock = &clock, .registry = &registry});
  std::stop_source stop;
  // First ticks: the schedule is new (since = now): 10:00 is before it, nothing starts.
  ASSERT_TRUE(first->Tick(stop.get_token()).ok());
  ASSERT_TRUE(second.Tick(stop.get_token()).ok());
  EXPECT_TRUE(starts.empty());
  const auto series = [&](std::string_view outcome) {
    return registry.Total("ferry_schedule_runs_total", "outcome", outcome);
  };
  for (int i = 1; i <= 6; ++i) {
    clock.SleepFor(minutes(5), {});
    ASSERT_TRUE(first->Tick(stop.get_token()).ok());
    ASSERT_TRUE(second.Tick(stop.get_token()).ok());
    ASSERT_TRUE(first->Tick(stop.get_token()).ok());
  }
  EXPECT_EQ(starts.size(), 6u);
  for (const auto& [due, n] : starts) EXPECT_EQ(n, 1) << due.time_since_epoch().count();
  EXPECT_EQ(series("started"), 6);
  EXPECT_EQ(series("succeeded"), 0);
  // The runs end: one done, the others failed; the outcome is read back once.
  Result<std::vector<Occurrence>> open = store_->Started();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 6u);
  for (size_t i = 0; i < open->size(); ++i) {
    ASSERT_NE((*open)[i].run, 0);
    ASSERT_TRUE(jobs_->SetRunState((*open)[i].run, i == 0 ? jobs::RunState::kDone
                                                          : jobs::RunState::kFailed).ok());
  }
  EXPECT_FALSE(served.empty());  // each running run was offered to a worker
  ASSERT_TRUE(second.Tick(stop.get_token()).ok());
  ASSERT_TRUE(first->Tick(stop.get_token()).ok());
  EXPECT_EQ(series("succeeded"), 1);
  EXPECT_EQ(series("failed"), 5);
  EXPECT_GT(registry.Total("ferry_schedule_last_success_timestamp_seconds"), 0);
  EXPECT_TRUE(store_->Started()->empty());

  // A reload: a new scheduler in place of the first, at the same time: nothing runs twice.
  first.reset();
  first = std::make_unique<Scheduler>(specs, *store_, *jobs_, hooks(*jobs_),
                                      SchedulerOptions{.owner = "p1", .clock = &clock,
                                                       .registry = &registry});
  ASSERT_TRUE(first->Tick(stop.get_token()).ok());
  EXPECT_EQ(series("started"), 6);

  // Every serve down for 12 minutes: the latest occurrence due is 2 minutes late, within the
  // grace (the period); one more start. Then 7 more minutes with a grace of 1 minute: missed.
  clock.SleepFor(minutes(12), {});
  ASSERT_TRUE(second.Tick(stop.get_token()).ok());
  ASSERT_TRUE(first->Tick(stop.get_token()).ok());
  EXPECT_EQ(series("started"), 7);
  EXPECT_EQ(series("missed"), 0);
  std::vector<ScheduleSpec> strict = specs;
  strict[0].grace = minutes(1);
  first.reset();
  Scheduler third(strict, *store_, *jobs_, hooks(*jobs_),
                  SchedulerOptions{.owner = "p3", .clock = &clock, .registry = &registry});
  clock.SleepFor(minutes(7), {});
  ASSERT_TRUE(third.Tick(stop.get_token()).ok());
  EXPECT_EQ(series("started"), 7);
  EXPECT_EQ(series("missed"), 1);
  EXPECT_EQ(store_->Recent("m5", 1)->at(0).outcome, kMissed);
}

TEST_F(ScheduleStoreTest, FailedStartAndUnstartedOccurrence) {
  testing::FakeClock clock(Utc(5, 10, 0, 1));
  obs::Registry registry;
  std::vector<ScheduleSpec> specs = {
      {.name = "h", .at_text = "hourly", .at = At("hourly"), .grace = {}}};
  SchedulerHooks h;
  h.start = [](size_t, TimePoint, std::stop_token) -> Result<jobs::RunId> {
    return Status::InvalidArgument("run 3 differs from this command in delete");
  };
  Scheduler s(specs, *store_, *jobs_, h,
              SchedulerOptions{.owner = "p1", .clock = &clock, .registry = &registry});
  ASSERT_TRUE(s.Tick({}).ok());
  clock.SleepFor(hours(1), {});
  ASSERT_TRUE(s.Tick({}).ok());
  EXPECT_EQ(registry.Total("ferry_schedule_runs_total", "outcome", "failed"), 1);
  EXPECT_NE(store_->Recent("h", 1)->at(0).error.find("differs"), std::string::npos);
  // A serve that died between its claim and its run: failed after unstarted_after.
  ASSERT_TRUE(*store_->Claim({.schedule = "h",
                              .due_ms = 1,
                              .owner = "dead",
                              .now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                            clock.Now().time_since_epoch()).count()}));
  ASSERT_TRUE(s.Tick({}).ok());
  EXPECT_EQ(store_->Started()->size(), 1u);
  clock.SleepFor(minutes(3), {});
  ASSERT_TRUE(s.Tick({}).ok());
  EXPECT_TRUE(store_->Started()->empty());
  EXPECT_EQ(registry.Total("ferry_schedule_runs_total", "outcome", "failed"), 2);
  // An occurrence of a schedule this config does not have (a reload removed it): ended once
  // its run is, never served nor counted here.
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             clock.Now().time_since_epoch()).count();
  ASSERT_TRUE(*store_->Claim({.schedule = "gone", .due_ms = 5, .owner = "p0", .now_ms = now_ms}));
  Result<jobs::RunId> run = jobs_->CreateRun(jobs::RunSpec{"a", "b", "{}"});
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(store_->SetRun("gone", 5, *run).ok());
  ASSERT_TRUE(s.Tick({}).ok());
  EXPECT_EQ(store_->Started()->size(), 1u);  // still running
  ASSERT_TRUE(jobs_->SetRunState(*run, jobs::RunState::kDone).ok());
  ASSERT_TRUE(s.Tick({}).ok());
  EXPECT_EQ(store_->Recent("gone", 1)->at(0).outcome, kSucceeded);
  EXPECT_EQ(registry.Total("ferry_schedule_runs_total", "schedule", "gone"), 0);
}

// An occurrence run in place (a catalog prune: the start hook returns run 0): ended at once,
// succeeded or failed with the hook's error, by the claimer only; another serve's scheduler
// neither runs it again nor records it twice.
TEST_F(ScheduleStoreTest, OccurrenceRunInPlaceEndsAtOnce) {
  testing::FakeClock clock(Utc(5, 10, 0, 1));
  obs::Registry registry;
  std::vector<ScheduleSpec> specs = {
      {.name = "p", .at_text = "hourly", .at = At("hourly"), .grace = {}}};
  std::atomic<int> ran{0};
  bool fail = false;
  SchedulerHooks h;
  h.start = [&](size_t, TimePoint, std::stop_token) -> Result<jobs::RunId> {
    ++ran;
    if (fail) return Status::NotFound("catalog prune: no backup recorded at rb:x/");
    return jobs::RunId{0};
  };
  std::unique_ptr<jobs::JobStore> other_jobs = Open();
  auto other_store = ScheduleStore::Open(*other_jobs->session());
  ASSERT_TRUE(other_store.ok());
  Scheduler s(specs, *store_, *jobs_, h,
              SchedulerOptions{.owner = "p1", .clock = &clock, .registry = &registry});
  Scheduler t(specs, **other_store, *other_jobs, h,
              SchedulerOptions{.owner = "p2", .clock = &clock, .registry = &registry});
  ASSERT_TRUE(s.Tick({}).ok());  // 10:00 is before `since`
  clock.SleepFor(hours(1), {});
  ASSERT_TRUE(s.Tick({}).ok());
  ASSERT_TRUE(t.Tick({}).ok());
  EXPECT_EQ(ran.load(), 1);
  Result<std::vector<Occurrence>> recent = store_->Recent("p", 5);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ(recent->at(0).outcome, kSucceeded);
  EXPECT_EQ(recent->at(0).run, 0);
  EXPECT_TRUE(store_->Started()->empty());
  EXPECT_EQ(registry.Total("ferry_schedule_runs_total", "outcome", "succeeded"), 1);
  fail = true;
  clock.SleepFor(hours(1), {});
  ASSERT_TRUE(t.Tick({}).ok());
  ASSERT_TRUE(s.Tick({}).ok());
  EXPECT_EQ(ran.load(), 2);
  EXPECT_EQ(store_->Recent("p", 1)->at(0).outcome, kFailed);
  EXPECT_NE(store_->Recent("p", 1)->at(0).error.find("no backup recorded"), std::string::npos);
  EXPECT_EQ(registry.Total("ferry_schedule_runs_total", "outcome", "failed"), 1);
  EXPECT_EQ(registry.Total("ferry_schedule_runs_total", "outcome", "succeeded"), 1);
}

}  // namespace
}  // namespace ferry::serve
