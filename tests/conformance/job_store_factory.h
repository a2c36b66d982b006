// The JobStore conformance suite: one set of tests (job_store_conformance_*test.cc) that every
// JobStore implementation must pass, so that SQLite and PostgreSQL behave the same to workers.
//
// To run the suite against a store, describe it with a JobStoreFactory and instantiate the
// suite in any test source linked with the target ferry_job_store_conformance_suite:
//
//   INSTANTIATE_TEST_SUITE_P(Pg, JobStoreConformanceTest,
//                            ::testing::Values(JobStoreFactory{"Postgres", &MakePg}),
//                            JobStoreFactoryName);
//
// Time is a FakeClock owned by the fixture: stores must read the time from the Clock they are
// given (never from the database), so that lease expiry and retry backoff are tested without
// sleeping.
//
// Thread-safety: gtest fixtures; one test at a time (a test may start threads).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "jobs/job_store.h"
#include "testing/fake_clock.h"

namespace ferry::conformance {

// One store on a fresh, empty database.
struct TestJobStore {
  std::unique_ptr<jobs::JobStore> store;
  // Another store on the same database, as a second process would open it.
  std::function<Result<std::unique_ptr<jobs::JobStore>>(Clock& clock)> reopen;
  // Removes the database; run after every store on it was destroyed. May be empty.
  std::function<void()> cleanup;
};

struct JobStoreFactory {
  std::string name;  // instantiation name: letters, digits and '_' only
  std::function<Result<TestJobStore>(Clock& clock)> make;
};

// Assertions on a Status or Result: ASSERT_OK(store().Renew(...)); EXPECT_CODE(kNotFound, ...).
inline const Status& StatusOf(const Status& s) { return s; }
template <class T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
#define ASSERT_OK(expr)                                                           \
  do {                                                                            \
    const auto& ferry_ok_ = (expr);                                               \
    ASSERT_TRUE(::ferry::conformance::StatusOf(ferry_ok_).ok())                   \
        << #expr << ": " << ::ferry::conformance::StatusOf(ferry_ok_).ToString(); \
  } while (0)
#define EXPECT_CODE(want, expr)                                                             \
  do {                                                                                      \
    const auto& ferry_code_ = (expr);                                                       \
    EXPECT_EQ(::ferry::conformance::StatusOf(ferry_code_).code(), ::ferry::ErrorCode::want) \
        << #expr << ": " << ::ferry::conformance::StatusOf(ferry_code_).ToString();         \
  } while (0)

inline void PrintTo(const JobStoreFactory& factory, std::ostream* os) { *os << factory.name; }

inline std::string JobStoreFactoryName(const ::testing::TestParamInfo<JobStoreFactory>& info) {
  return info.param.name;
}

class JobStoreConformanceTest : public ::testing::TestWithParam<JobStoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  jobs::JobStore& store() { return *db_.store; }

  // A new run (asserts success).
  jobs::RunId NewRun(const std::string& source = "src", const std::string& destination = "dst");
  // `n` jobs of `run` (asserts success); payloads "p0", "p1", ...
  std::vector<jobs::JobId> EnqueueN(jobs::RunId run, int n,
                                    const std::string& kind = jobs::kTransferKind,
                                    int max_attempts = 5);
  // Claim that must succeed (fails the test and returns {} otherwise).
  std::vector<jobs::ClaimedJob> ClaimOk(const std::string& owner, int max_jobs,
                                        std::chrono::seconds ttl = std::chrono::seconds(30),
                                        jobs::RunId run = 0,
                                        std::optional<std::string> kind = std::nullopt);
  // The job's current row (asserts success).
  jobs::Job Get(jobs::JobId id);

  ferry::testing::FakeClock clock_;
  TestJobStore db_;
};

}  // namespace ferry::conformance
