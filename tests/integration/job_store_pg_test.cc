// The JobStore conformance suite against PostgreSQL, plus what only a server can show:
// schema migration by several processes at once, reconnects after a killed connection, the
// reconnect budget, and a real server restart in the middle of a run.
//
// Needs FERRY_TEST_PG_URL (a database the user may create schemas in) and, for the restart
// tests, FERRY_TEST_PG_CTL_RESTART (a shell command restarting that server); scripts/test-all.sh
// exports both. Missing variables FAIL the tests. Each test works in a fresh schema
// (search_path set through the URL's options), dropped at the end.
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <thread>

#include "conformance/job_store_factory.h"
#include "integration/tcp_proxy.h"
#include "jobs/postgres/pg_job_store.h"
#include "testing/wait_for.h"

namespace ferry::conformance {
namespace {

using jobs::ClaimedJob;
using jobs::JobSpec;
using jobs::JobState;
using std::chrono::seconds;

const char* BaseUrl() {
  const char* url = std::getenv("FERRY_TEST_PG_URL");
  return url != nullptr && *url != '\0' ? url : nullptr;
}

// Runs one statement on a fresh admin connection to FERRY_TEST_PG_URL; returns the first
// column of the rows.
Result<std::vector<std::string>> AdminQuery(const std::string& sql) {
  const char* base = BaseUrl();
  if (base == nullptr) return Status::FailedPrecondition("FERRY_TEST_PG_URL is not set");
  PGconn* conn = PQconnectdb(base);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string m = PQerrorMessage(conn);
    PQfinish(conn);
    return Status::Unavailable("admin connection: " + m);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  std::vector<std::string> out;
  Status status;
  if (st == PGRES_TUPLES_OK) {
    for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
  } else if (st != PGRES_COMMAND_OK) {
    status = Status::Internal(sql + ": " + PQresultErrorMessage(r));
  }
  PQclear(r);
  PQfinish(conn);
  if (!status.ok()) return status;
  return out;
}

std::map<std::string, std::string> ParseConninfo(const std::string& url) {
  std::map<std::string, std::string> out;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), nullptr);
  for (PQconninfoOption* o = options; o && o->keyword; ++o) {
    if (o->val) out[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return out;
}

std::vector<JobSpec> Specs(jobs::RunId run, int n) {
  std::vector<JobSpec> specs(static_cast<size_t>(n));
  for (JobSpec& s : specs) s.run = run;
  return specs;
}

std::string AddParams(const std::string& url, const std::string& params) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + params;
}

// A fresh schema for one test; the URL reaches it through search_path, and names the
// connections application_name=<schema> so that a test can find and kill them.
struct Schema {
  std::string name;
  std::string url;  // empty (and a test failure) when it could not be made
};

Schema NewSchema() {
  static std::atomic<int> counter{0};
  Schema s;
  s.name = "ferry_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const char* base = BaseUrl();
  if (base == nullptr) {
    ADD_FAILURE() << "FERRY_TEST_PG_URL is not set: run through scripts/test-all.sh";
    return s;
  }
  if (auto made = AdminQuery("CREATE SCHEMA " + s.name); !made.ok()) {
    ADD_FAILURE() << made.status().ToString();
    return s;
  }
  s.url = AddParams(base, "options=-csearch_path%3D" + s.name + "&application_name=" + s.name);
  return s;
}

void DropSchema(const std::string& name) {
  auto dropped = AdminQuery("DROP SCHEMA IF EXISTS " + name + " CASCADE");
  EXPECT_TRUE(dropped.ok()) << dropped.status().ToString();
}

Result<TestJobStore> MakePg(Clock& clock) {
  Schema schema = NewSchema();
  if (schema.url.empty()) return Status::FailedPrecondition("no PostgreSQL for the test");
  FERRY_ASSIGN_OR_RETURN(auto store, jobs::OpenPgJobStore(schema.url, clock));
  TestJobStore out;
  out.store = std::move(store);
  out.reopen = [url = schema.url](Clock& c) { return jobs::OpenPgJobStore(url, c); };
  out.cleanup = [name = schema.name] { DropSchema(name); };
  return out;
}

INSTANTIATE_TEST_SUITE_P(Pg, JobStoreConformanceTest,
                         ::testing::Values(JobStoreFactory{"Postgres", &MakePg}),
                         JobStoreFactoryName);

class PgJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = NewSchema();
    ASSERT_FALSE(schema_.url.empty());
  }
  void TearDown() override {
    if (!schema_.url.empty()) DropSchema(schema_.name);
  }

  // Kills the server side of every connection of this test's stores.
  void KillConnections() {
    auto killed = AdminQuery(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
        schema_.name + "'");
    ASSERT_TRUE(killed.ok()) << killed.status().ToString();
    ASSERT_FALSE(killed->empty()) << "no connection to kill";
  }

  // Claims and finishes up to `n` jobs in batches of 10; every call must succeed.
  void Drain(jobs::JobStore& store, int n) {
    int finished = 0;
    while (finished < n) {
      auto claimed = store.Claim("w", seconds(60), std::min(10, n - finished));
      ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
      ASSERT_FALSE(claimed->empty()) << "ran out of jobs after " << finished;
      for (const ClaimedJob& c : *claimed) {
        Status s = store.Finish(c.lease, {});
        ASSERT_TRUE(s.ok()) << s.ToString();
        ++finished;
      }
    }
  }

  Schema schema_;
  ferry::testing::FakeClock clock_;
};

TEST_F(PgJobStoreTest, ProcessesStartingAtOnceMigrateOnce) {
  constexpr int kOpeners = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&] {
      auto store = jobs::OpenPgJobStore(schema_.url, clock_);
      if (!store.ok()) {
        ADD_FAILURE() << store.status().ToString();
        ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto versions = AdminQuery("SELECT version FROM " + schema_.name + ".schema_version");
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  EXPECT_EQ(*versions, std::vector<std::string>{"9"});  // the latest (src/jobs/sql/schema.cc)
}

TEST_F(PgJobStoreTest, AKilledConnectionIsReplacedTransparently) {
  auto store = jobs::OpenPgJobStore(schema_.url, clock_);
  ASSERT_OK(store);
  auto run = (*store)->CreateRun({"s", "d", ""});
  ASSERT_OK(run);
  ASSERT_OK((*store)->Enqueue(Specs(*run, 20)));
  KillConnections();
  Drain(**store, 10);
  KillConnections();
  Drain(**store, 10);
  auto counts = (*store)->CountJobs(*run);
  ASSERT_OK(counts);
  EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kDone)], 20u);
  EXPECT_TRUE(clock_.sleeps().empty()) << "a live server is reconnected to without waiting";
}

TEST_F(PgJobStoreTest, AnUnreachableServerIsUnavailableAfterTheBudgetThenRecovers) {
  const auto info = ParseConninfo(BaseUrl());
  ferry::testing::TcpProxy proxy(info.count("host") ? info.at("host") : "127.0.0.1",
                                 std::stoi(info.count("port") ? info.at("port") : "5432"));
  ASSERT_NE(proxy.port(), 0);
  const std::string url = "postgresql://" + info.at("user") + ":" + info.at("password") +
                          "@127.0.0.1:" + std::to_string(proxy.port()) + "/" + info.at("dbname") +
                          "?options=-csearch_path%3D" + schema_.name;
  auto store = jobs::OpenPgJobStore(url, clock_, {.reconnect_budget = seconds(30)});
  ASSERT_OK(store);
  auto run = (*store)->CreateRun({"s", "d", ""});
  ASSERT_OK(run);

  proxy.Cut();
  const auto before = clock_.Now();
  auto lost = (*store)->GetRun(*run);
  EXPECT_CODE(kUnavailable, lost);
  const std::string& m = lost.status().message();
  EXPECT_NE(m.find("unreachable for 30 s"), std::string::npos) << m;
  EXPECT_NE(m.find("@127.0.0.1:" + std::to_string(proxy.port())), std::string::npos) << m;
  EXPECT_EQ(m.find(":" + info.at("password") + "@"), std::string::npos) << m;
  EXPECT_GE(clock_.Now() - before, seconds(30)) << "gave up before the budget was spent";
  EXPECT_LE(clock_.Now() - before, seconds(32)) << "kept trying long after the budget";
  for (auto sleep : clock_.sleeps()) EXPECT_LE(sleep, std::chrono::milliseconds(1000));

  proxy.Resume();
  ASSERT_OK((*store)->GetRun(*run));
}

// --restart waits for the leases the discarded run's jobs held. A Renew committed while
// AbandonRun runs (PostgreSQL reads committed rows, so a SELECT before the DELETE would miss it)
// must count: its holder goes on writing until the renewed time. An admin transaction holds the
// job's row with a renewed lease, uncommitted, while AbandonRun starts; it commits a moment later.
TEST_F(PgJobStoreTest, AbandonRunWaitsForARenewThatRacedIt) {
  auto store = jobs::OpenPgJobStore(schema_.url, clock_);
  ASSERT_OK(store);
  auto run = (*store)->CreateRun({"s", "d", ""});
  ASSERT_OK(run);
  ASSERT_OK((*store)->Enqueue(Specs(*run, 1)));
  auto claimed = (*store)->Claim("w", seconds(60), 1);
  ASSERT_OK(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  const jobs::JobId job = (*claimed)[0].job.id;

  PGconn* admin = PQconnectdb(BaseUrl());
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK) << PQerrorMessage(admin);
  auto exec = [&](const std::string& sql) {
    PGresult* r = PQexec(admin, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    EXPECT_TRUE(ok) << sql << ": " << PQresultErrorMessage(r);
    PQclear(r);
  };
  constexpr int64_t kRenewedByMs = 3'600'000;
  exec("BEGIN");
  exec("UPDATE " + schema_.name + ".jobs SET lease_expires = lease_expires + " +
       std::to_string(kRenewedByMs) + " WHERE id = " + std::to_string(job));
  auto before = AdminQuery("SELECT lease_expires FROM " + schema_.name + ".jobs WHERE id = " +
                           std::to_string(job));
  ASSERT_OK(before);
  ASSERT_EQ(before->size(), 1u);

  jobs::TimePoint until{};
  Result<uint64_t> removed = Status::Internal("not run");
  std::thread abandon([&] { removed = (*store)->AbandonRun(*run, &until); });
  // AbandonRun waits on the row: a backend is blocked by the admin's transaction.
  const std::string blocked = "SELECT count(*) FROM pg_stat_activity WHERE " +
                              std::to_string(PQbackendPID(admin)) + " = ANY(pg_blocking_pids(pid))";
  EXPECT_TRUE(ferry::testing::WaitFor([&] {
    auto n = AdminQuery(blocked);
    return n.ok() && !n->empty() && (*n)[0] != "0";
  }));
  exec("COMMIT");
  abandon.join();
  PQfinish(admin);
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 1u);
  const int64_t until_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(until.time_since_epoch()).count();
  EXPECT_EQ(until_ms, std::stoll((*before)[0]) + kRenewedByMs)
      << "the lease read was the one before the racing renewal";
  auto abandoned = (*store)->GetRun(*run);
  ASSERT_OK(abandoned);
  EXPECT_EQ(abandoned->leases_until, until) << "the run records it for a later pass";
}

// FERRY_TEST_PG_CTL_RESTART, run through the shell; fails the test when missing or failing.
void RestartServer() {
  const char* restart = std::getenv("FERRY_TEST_PG_CTL_RESTART");
  ASSERT_TRUE(restart != nullptr && *restart != '\0')
      << "FERRY_TEST_PG_CTL_RESTART is not set: run through scripts/test-all.sh";
  ASSERT_EQ(std::system(restart), 0) << restart;
}

TEST_F(PgJobStoreTest, AServerRestartMidRunIsAbsorbed) {
  auto store = jobs::OpenPgJobStore(schema_.url, SystemClock::Default());
  ASSERT_OK(store);
  auto run = (*store)->CreateRun({"s", "d", ""});
  ASSERT_OK(run);
  ASSERT_OK((*store)->Enqueue(Specs(*run, 200)));
  Drain(**store, 100);
  RestartServer();
  Drain(**store, 100);  // the first call finds its connection dead and reconnects
  auto counts = (*store)->CountJobs(*run);
  ASSERT_OK(counts);
  EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kDone)], 200u);
}

// Workers keep claiming and finishing while the server restarts under them (a fast shutdown
// kills transactions at any point, COMMIT included). The store absorbs it: callers never see
// kUnavailable, no claim is lost, and every job is finished exactly once. (The workers still
// retry kUnavailable as the contract asks, so that a failure here is reported, not a hang.)
TEST_F(PgJobStoreTest, AServerRestartUnderBusyWorkersLosesNothing) {
  constexpr int kJobs = 600;
  constexpr int kWorkers = 4;
  auto store = jobs::OpenPgJobStore(schema_.url, SystemClock::Default());
  ASSERT_OK(store);
  auto run = (*store)->CreateRun({"s", "d", ""});
  ASSERT_OK(run);
  ASSERT_OK((*store)->Enqueue(Specs(*run, kJobs)));
  std::atomic<int> finished{0};
  std::atomic<int> unavailable{0};
  std::atomic<int> unexpected{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      const std::string owner = "w" + std::to_string(w);
      while (!stop.load()) {
        // A short lease: jobs claimed by a Claim whose reply was lost come back soon.
        auto claimed = (*store)->Claim(owner, seconds(2), 5);
        if (!claimed.ok()) {
          if (claimed.status().code() != ErrorCode::kUnavailable) {
            ADD_FAILURE() << claimed.status().ToString();
            ++unexpected;
            return;
          }
          ++unavailable;
          std::cout << "Claim: " << claimed.status().ToString() << "\n";
          continue;
        }
        if (claimed->empty()) {
          // real time: an idle worker's poll pace against the real server (a restart in the
          // middle is what is tested), as a worker's idle_poll.
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        for (const ClaimedJob& c : *claimed) {
          bool retried = false;
          for (;;) {
            Status s = (*store)->Finish(c.lease, {});
            if (s.ok()) {
              ++finished;
            } else if (s.code() == ErrorCode::kUnavailable) {
              ++unavailable;
              std::cout << "Finish: " << s.ToString() << "\n";
              retried = true;
              continue;
            } else if (!(retried && s.code() == ErrorCode::kFailedPrecondition)) {
              ADD_FAILURE() << s.ToString();
              ++unexpected;
            }
            break;
          }
        }
      }
    });
  }
  ferry::testing::WaitFor(
      [&] { return finished.load() >= kJobs / 4 || unexpected.load() != 0; },
      std::chrono::seconds(60));
  RestartServer();
  int done = 0;
  ferry::testing::WaitFor(
      [&] {
        if (unexpected.load() != 0) return true;
        auto counts = (*store)->CountJobs(*run);
        if (counts.ok()) done = static_cast<int>(counts->jobs[static_cast<int>(JobState::kDone)]);
        return done == kJobs;
      },
      std::chrono::seconds(60));
  stop = true;
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(unavailable.load(), 0);
  EXPECT_EQ(done, kJobs);
  EXPECT_EQ(finished.load(), kJobs);
  std::cout << "[          ] restart under " << kWorkers << " workers: " << unavailable.load()
            << " kUnavailable seen by callers, " << finished.load() << " finishes\n";
}

}  // namespace
}  // namespace ferry::conformance
