// What an intake's acknowledgement stands on: EventRecorder::Record returns OK only once the
// jobs it enqueued are on disk (record.h), so that a crash of the host after the 200 (or the
// SQS delete) loses no event. SQLite in WAL mode puts a commit on disk by syncing the log; a
// VFS that wraps the default one counts those syncs, and a recorded call must have made one
// (with synchronous=NORMAL it makes none: the log is synced only at checkpoints).
//
// Also the measurement behind docs/design/serve.md's figures (DISABLED_: run by
// bench/bench-record.sh): events recorded per second, 1 and 10 events a call, with the
// recording commit synced (FULL) and not (NORMAL), and a worker's small commits (Renew) with
// and without a sync each, on this machine's disk (BENCH_DIR, default /tmp).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "base/clock.h"
#include "jobs/sql/sql_job_store.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "replicate/kinds/kinds.h"
#include "serve/record.h"
#include "state/state.h"

namespace ferry::serve {
namespace {

namespace fs = std::filesystem;

// --- A VFS over the default one that counts xSync on write-ahead logs ---

std::atomic<int> record_wal_syncs{0};
sqlite3_vfs* record_real_vfs = nullptr;

struct CountingFile {
  sqlite3_file base;     // must be first: SQLite sees a sqlite3_file
  sqlite3_file* real;    // the default VFS's file, allocated after this struct
  bool wal;
};

sqlite3_file* RealOf(sqlite3_file* f) { return reinterpret_cast<CountingFile*>(f)->real; }

int CountingClose(sqlite3_file* f) {
  sqlite3_file* real = RealOf(f);
  return real->pMethods != nullptr ? real->pMethods->xClose(real) : SQLITE_OK;
}
int CountingRead(sqlite3_file* f, void* p, int n, sqlite3_int64 off) {
  return RealOf(f)->pMethods->xRead(RealOf(f), p, n, off);
}
int CountingWrite(sqlite3_file* f, const void* p, int n, sqlite3_int64 off) {
  return RealOf(f)->pMethods->xWrite(RealOf(f), p, n, off);
}
int CountingTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return RealOf(f)->pMethods->xTruncate(RealOf(f), size);
}
int CountingSync(sqlite3_file* f, int flags) {
  if (reinterpret_cast<CountingFile*>(f)->wal) record_wal_syncs.fetch_add(1);
  return RealOf(f)->pMethods->xSync(RealOf(f), flags);
}
int CountingFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return RealOf(f)->pMethods->xFileSize(RealOf(f), size);
}
int CountingLock(sqlite3_file* f, int l) { return RealOf(f)->pMethods->xLock(RealOf(f), l); }
int CountingUnlock(sqlite3_file* f, int l) { return RealOf(f)->pMethods->xUnlock(RealOf(f), l); }
int CountingCheckReservedLock(sqlite3_file* f, int* out) {
  return RealOf(f)->pMethods->xCheckReservedLock(RealOf(f), out);
}
int CountingFileControl(sqlite3_file* f, int op, void* arg) {
  return RealOf(f)->pMethods->xFileControl(RealOf(f), op, arg);
}
int CountingSectorSize(sqlite3_file* f) { return RealOf(f)->pMethods->xSectorSize(RealOf(f)); }
int CountingDeviceCharacteristics(sqlite3_file* f) {
  return RealOf(f)->pMethods->xDeviceCharacteristics(RealOf(f));
}
int CountingShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** p) {
  return RealOf(f)->pMethods->xShmMap(RealOf(f), page, size, extend, p);
}
int CountingShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return RealOf(f)->pMethods->xShmLock(RealOf(f), offset, n, flags);
}
void CountingShmBarrier(sqlite3_file* f) { RealOf(f)->pMethods->xShmBarrier(RealOf(f)); }
int CountingShmUnmap(sqlite3_file* f, int del) {
  return RealOf(f)->pMethods->xShmUnmap(RealOf(f), del);
}

const sqlite3_io_methods kCountingMethods = {
    2,  // iVersion: with the shared-memory methods WAL needs, without mmap
    CountingClose, CountingRead, CountingWrite, CountingTruncate, CountingSync, CountingFileSize,
    CountingLock, CountingUnlock, CountingCheckReservedLock, CountingFileControl,
    CountingSectorSize, CountingDeviceCharacteristics, CountingShmMap, CountingShmLock,
    CountingShmBarrier, CountingShmUnmap, nullptr, nullptr};

int CountingOpen(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  (void)vfs;
  auto* file = reinterpret_cast<CountingFile*>(f);
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  file->wal = (flags & SQLITE_OPEN_WAL) != 0;
  file->base.pMethods = nullptr;
  const int rc = record_real_vfs->xOpen(record_real_vfs, name, file->real, flags, out_flags);
  if (rc == SQLITE_OK) file->base.pMethods = &kCountingMethods;
  return rc;
}

// Makes the counting VFS SQLite's default (once per process).
void InstallCountingVfs() {
  static sqlite3_vfs vfs = [] {
    record_real_vfs = sqlite3_vfs_find(nullptr);
    sqlite3_vfs v = *record_real_vfs;
    v.iVersion = 1;  // forwarding only the version-1 methods below
    v.szOsFile = static_cast<int>(sizeof(CountingFile)) + record_real_vfs->szOsFile;
    v.zName = "ferry-sync-counting";
    v.pNext = nullptr;
    v.xOpen = CountingOpen;
    return v;
  }();
  static const int rc = sqlite3_vfs_register(&vfs, 1);
  ASSERT_EQ(rc, SQLITE_OK);
}

events::Event Created(const std::string& key) {
  events::Event e;
  e.source = events::SourceKind::kRgw;
  e.kind = events::EventKind::kCreated;
  e.name = "ObjectCreated:Put";
  e.bucket = "photos";
  e.key = key;
  return e;
}

class RecordDurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InstallCountingVfs();
    char tmpl[] = "/tmp/ferry-record-durability-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), SystemClock::Default());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto run = store_->CreateRun({"ra:photos/", "rb:copy/", "{}"});
    ASSERT_TRUE(run.ok());
    recorder_ = std::make_unique<EventRecorder>(*store_, registry_);
    recorder_->SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = *run}});
  }
  void TearDown() override {
    recorder_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  obs::Registry registry_;
  std::unique_ptr<jobs::JobStore> store_;
  std::unique_ptr<EventRecorder> recorder_;
};

TEST_F(RecordDurabilityTest, ARecordedCallIsOnDiskWhenItReturns) {
  for (int n : {1, 10}) {
    std::vector<events::Event> body;
    for (int i = 0; i < n; ++i) {
      body.push_back(Created("k" + std::to_string(n) + "-" + std::to_string(i)));
    }
    const int before = record_wal_syncs.load();
    auto recorded = recorder_->Record(body);
    ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
    EXPECT_EQ(*recorded, static_cast<size_t>(n));
    EXPECT_GE(record_wal_syncs.load() - before, 1)
        << n << " events acknowledged while only in the page cache";
  }
}

TEST_F(RecordDurabilityTest, OtherCommitsDoNotWaitForTheDisk) {
  // A worker's small commits (a lease renewed, a job finished) keep synchronous=NORMAL.
  auto recorded = recorder_->Record({Created("k")});
  ASSERT_TRUE(recorded.ok());
  auto claimed = store_->Claim("w", std::chrono::seconds(30), 1);
  ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);
  const int before = record_wal_syncs.load();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->Renew(claimed->front().lease, std::chrono::seconds(30)).ok());
  }
  ASSERT_TRUE(store_->Finish(claimed->front().lease, jobs::Outcome{}).ok());
  EXPECT_EQ(record_wal_syncs.load() - before, 0);
}

// --- The measurement (bench/bench-record.sh) ---

// Forwards to an SQLite session: `durable_events` false makes TransactDurable a plain commit
// (synchronous=NORMAL, as before); `durable_all` makes every write commit a synced one.
class ModeSession : public state::SqlSession {
 public:
  ModeSession(std::unique_ptr<state::SqlSession> real, bool durable_events, bool durable_all)
      : real_(std::move(real)), durable_events_(durable_events), durable_all_(durable_all) {}
  const state::Dialect& dialect() const override { return real_->dialect(); }
  uint64_t transactions() const override { return real_->transactions(); }
  Status Transact(state::TxMode mode, const std::function<Status(state::SqlTx&)>& body) override {
    if (durable_all_ && mode == state::TxMode::kWrite) return real_->TransactDurable(body);
    return real_->Transact(mode, body);
  }
  Status TransactDurable(const std::function<Status(state::SqlTx&)>& body) override {
    if (durable_events_ || durable_all_) return real_->TransactDurable(body);
    return real_->Transact(state::TxMode::kWrite, body);
  }

 private:
  std::unique_ptr<state::SqlSession> real_;
  const bool durable_events_;
  const bool durable_all_;
};

std::unique_ptr<jobs::JobStore> OpenModeStore(const fs::path& path, bool durable_events,
                                              bool durable_all) {
  auto session = state::OpenSqliteSession(path.string());
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  auto store = jobs::internal::SqlJobStore::Open(
      std::make_unique<ModeSession>(std::move(*session), durable_events, durable_all),
      SystemClock::Default());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(*store);
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

TEST(RecordBench, DISABLED_EventsPerSecond) {
  const char* base = std::getenv("BENCH_DIR");
  const char* calls_env = std::getenv("BENCH_CALLS");
  const int calls = calls_env != nullptr ? std::atoi(calls_env) : 2000;
  char tmpl[4096];
  std::snprintf(tmpl, sizeof(tmpl), "%s/ferry-record-bench-XXXXXX",
                base != nullptr ? base : "/tmp");
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  std::printf("| commit | events/call | calls | events/s | per call (mean) |\n");
  std::printf("|---|---|---|---|---|\n");
  int db = 0;
  for (bool full : {false, true}) {
    for (int per_call : {1, 10}) {
      obs::Registry registry;
      auto store = OpenModeStore(dir / ("e" + std::to_string(db++) + ".db"), full, false);
      auto run = store->CreateRun({"ra:photos/", "rb:copy/", "{}"});
      ASSERT_TRUE(run.ok());
      EventRecorder recorder(*store, registry);
      recorder.SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = *run}});
      const auto start = std::chrono::steady_clock::now();
      for (int c = 0; c < calls; ++c) {
        std::vector<events::Event> body;
        for (int i = 0; i < per_call; ++i) {
          body.push_back(Created("k" + std::to_string(c) + "-" + std::to_string(i)));
        }
        ASSERT_TRUE(recorder.Record(body).ok());
      }
      const double s = Seconds(std::chrono::steady_clock::now() - start);
      std::printf("| %s | %d | %d | %.0f | %.3f ms |\n", full ? "FULL" : "NORMAL", per_call,
                  calls, calls * per_call / s, s * 1000 / calls);
    }
  }
  // A worker's small commits: lease renewals, each its own transaction.
  std::printf("\n| worker commits | renewals | commits/s | per commit (mean) |\n");
  std::printf("|---|---|---|---|\n");
  for (bool all : {false, true}) {
    auto store = OpenModeStore(dir / ("w" + std::to_string(db++) + ".db"), true, all);
    auto run = store->CreateRun({"a", "b", "{}"});
    ASSERT_TRUE(run.ok());
    jobs::JobSpec spec;
    spec.run = *run;
    spec.payload = "{}";
    ASSERT_TRUE(store->Enqueue({spec}).ok());
    auto claimed = store->Claim("w", std::chrono::seconds(600), 1);
    ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < calls; ++c) {
      ASSERT_TRUE(store->Renew(claimed->front().lease, std::chrono::seconds(600)).ok());
    }
    const double s = Seconds(std::chrono::steady_clock::now() - start);
    std::printf("| %s | %d | %.0f | %.3f ms |\n", all ? "FULL" : "NORMAL", calls, calls / s,
                s * 1000 / calls);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ferry::serve
