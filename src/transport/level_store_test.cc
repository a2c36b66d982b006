// LevelStore on SQLite (unit) and, built with FERRY_LEVEL_STORE_PG, on the PostgreSQL of
// FERRY_TEST_PG_URL (integration): the history's sums and its optimistic updates under
// concurrent writers.
#include "transport/level_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "base/clock.h"
#include "state/state.h"
#include "transport/level_advisor.h"
#include "transport/level_cpu.h"

namespace ferry::transport {
namespace {

class LevelStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef FERRY_LEVEL_STORE_PG
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-levels-" + std::to_string(std::random_device{}()));
#endif
    a_ = OpenSession();
    b_ = OpenSession();
    ASSERT_TRUE(a_ && b_);
    // Rows of other tests (a shared PostgreSQL) never share this class name.
    class_ = "test-" + std::to_string(std::random_device{}());
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // A new connection to the test database each call: two writers are two sessions, as two
  // workers would be.
  std::unique_ptr<state::SqlSession> OpenSession() {
#ifdef FERRY_LEVEL_STORE_PG
    const char* url = std::getenv("FERRY_TEST_PG_URL");
    if (url == nullptr) {
      ADD_FAILURE() << "FERRY_TEST_PG_URL is not set";
      return nullptr;
    }
    auto session = state::OpenPgSession(url, SystemClock::Default());
#else
    auto session = state::OpenSqliteSession((dir_ / "state.db").string());
#endif
    if (!session.ok()) {
      ADD_FAILURE() << session.status().message();
      return nullptr;
    }
    return std::move(session).value();
  }

  std::unique_ptr<LevelStore> Store(state::SqlSession& s) {
    auto store = LevelStore::Open(s);
    EXPECT_TRUE(store.ok()) << store.status().message();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> a_, b_;
  std::string class_;
};

TEST_F(LevelStoreTest, RecordsSumsPerLevel) {
  auto store = Store(*a_);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Record(class_, 5, {.bytes_in = 1000, .bytes_out = 400, .cpu_seconds = 0.5})
                  .ok());
  ASSERT_TRUE(store->Record(class_, 5, {.bytes_in = 3000, .bytes_out = 1000, .cpu_seconds = 0.25})
                  .ok());
  ASSERT_TRUE(store->Record(class_, 2, {.bytes_in = 10, .bytes_out = 9, .cpu_seconds = 0}).ok());
  ASSERT_TRUE(store->Record(class_ + "x", 2, {.bytes_in = 1, .bytes_out = 1, .cpu_seconds = 0})
                  .ok());
  auto h = store->History(class_);
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].level, 2);
  EXPECT_EQ((*h)[0].trials, 1u);
  EXPECT_EQ((*h)[1].level, 5);
  EXPECT_EQ((*h)[1].trials, 2u);
  EXPECT_EQ((*h)[1].bytes_in, 4000u);
  EXPECT_EQ((*h)[1].bytes_out, 1400u);
  EXPECT_DOUBLE_EQ((*h)[1].cpu_seconds, 0.75);
  EXPECT_EQ(store->conflicts(), 0u);
  const Status bad = store->Record(class_, 23, {});
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
}

// Another worker writes between this one's read and its write: the write finds the version
// changed, reads again and adds its trial to the other's (no lost update), for an existing
// row and for a row that neither had read.
TEST_F(LevelStoreTest, AConflictingWriteIsReadAgainNotLost) {
  auto mine = Store(*a_);
  auto other = Store(*b_);
  ASSERT_TRUE(mine && other);
  for (int level : {4, 6}) {
    if (level == 6) {
      ASSERT_TRUE(other->Record(class_, 6, {.bytes_in = 1, .bytes_out = 1, .cpu_seconds = 0})
                      .ok());
    }
    bool once = true;
    mine->SetBeforeWriteForTest([&] {
      if (!once) return;
      once = false;
      ASSERT_TRUE(
          other->Record(class_, level, {.bytes_in = 100, .bytes_out = 50, .cpu_seconds = 1})
              .ok());
    });
    ASSERT_TRUE(
        mine->Record(class_, level, {.bytes_in = 10, .bytes_out = 5, .cpu_seconds = 2}).ok());
  }
  EXPECT_EQ(mine->conflicts(), 2u);
  auto h = mine->History(class_);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].trials, 2u);
  EXPECT_EQ((*h)[0].bytes_in, 110u);
  EXPECT_DOUBLE_EQ((*h)[0].cpu_seconds, 3);
  EXPECT_EQ((*h)[1].trials, 3u);
  EXPECT_EQ((*h)[1].bytes_in, 111u);
}

TEST_F(LevelStoreTest, TwoConcurrentWritersLoseNoTrial) {
  auto one = Store(*a_);
  auto two = Store(*b_);
  ASSERT_TRUE(one && two);
  constexpr int kEach = 60;
  auto writer = [&](LevelStore* s, uint64_t in) {
    for (int i = 0; i < kEach; ++i) {
      const Status st = s->Record(class_, 1 + i % 3, {.bytes_in = in, .bytes_out = 1,
                                                      .cpu_seconds = 0.001});
      ASSERT_TRUE(st.ok()) << st.message();
    }
  };
  std::thread t1(writer, one.get(), 1);
  std::thread t2(writer, two.get(), 1000);
  t1.join();
  t2.join();
  auto h = one->History(class_);
  ASSERT_TRUE(h.ok());
  uint64_t trials = 0, in = 0, out = 0;
  double cpu = 0;
  for (const LevelStats& s : *h) {
    trials += s.trials;
    in += s.bytes_in;
    out += s.bytes_out;
    cpu += s.cpu_seconds;
  }
  EXPECT_EQ(trials, 2u * kEach);
  EXPECT_EQ(in, kEach * 1u + kEach * 1000u);
  EXPECT_EQ(out, 2u * kEach);
  EXPECT_NEAR(cpu, 2 * kEach * 0.001, 1e-9);
}

// One pack's adaptive level: picks the batch's class and a level from the history, and
// records what the pack measured under them.
TEST_F(LevelStoreTest, AdaptiveLevelRecordsItsTrial) {
  std::vector<storage::ObjectInfo> objects(3);
  objects[0].key = "a/" + class_ + ".csv";
  objects[0].size = 900;
  objects[1].key = "b.json";
  objects[1].size = 100;
  objects[2].key = "c.csv";
  objects[2].size = 10;
  auto store = Store(*b_);
  ASSERT_TRUE(store);
  // "csv" may have history already (a shared PostgreSQL): the level is its best.
  auto before = store->History("csv");
  ASSERT_TRUE(before.ok());
  const int expected = BestLevel(*before, LevelPrices{});
  uint64_t trials_before = 0;
  for (const LevelStats& s : *before) {
    if (s.level == expected) trials_before = s.trials;
  }
  AdaptiveLevel::Options options;
  options.uniform = [] { return 0.99; };  // exploit
  options.benchmark_seconds = 2 * kReferenceBenchmarkSeconds;
  auto mine = Store(*a_);
  ASSERT_TRUE(mine);
  auto a = AdaptiveLevel::Start(*mine, objects, options);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ((*a)->content_class(), "csv");
  EXPECT_EQ((*a)->level(), expected);
  ASSERT_TRUE((*a)->Finish(910, 300).ok());
  EXPECT_EQ((*a)->Finish(910, 300).code(), ErrorCode::kFailedPrecondition);
  auto after = store->History("csv");
  ASSERT_TRUE(after.ok());
  uint64_t trials_after = 0;
  for (const LevelStats& s : *after) {
    if (s.level == expected) trials_after = s.trials;
  }
  EXPECT_GE(trials_after, trials_before + 1);
}

}  // namespace
}  // namespace ferry::transport
