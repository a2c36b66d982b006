// The replicate-scan, replicate-keys, replicate-event and replicate-pack kinds through Workers
// on SQLite: versioned memory backends on both sides, a run created as `ferry replicate --state` creates it, small scan
// chunks (so that ranges are handed on and split) and small key batches, two workers at once.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <algorithm>
#include <thread>

#include "jobs/kinds/by_command.h"
#include "jobs/kinds/registry.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "replicate/kinds/kinds.h"
#include "replicate/payload.h"
#include "replicate/status_store.h"
#include "storage/memory/memory_backend.h"
#include "testing/borrowed_backend.h"
#include "testing/fake_clock.h"
#include "testing/sizeless_store.h"
#include "testing/test_executor.h"
#include "testing/wait_for.h"
#include "transport/kinds/kinds.h"

namespace ferry::replicate {
namespace {

namespace fs = std::filesystem;
using jobs::JobSpec;
using jobs::JobState;
using jobs::RunId;
using jobs::RunProgress;
using jobs::Worker;
using jobs::WorkerOptions;
using storage::Backend;
using storage::ObjectInfo;

// A backend that forwards to one that the test owns (the worker opens each location more than
// once: the run's two sides, the pass's source and destinations, and must see one store),
// counting the probes that split key ranges.
class Borrowed : public ferry::testing::BorrowedBackend {
 public:
  using BorrowedBackend::BorrowedBackend;
  Result<std::optional<std::string>> FirstKeyAfter(std::string_view a) override {
    ++probes;
    return BorrowedBackend::FirstKeyAfter(a);
  }
  // Listings of one key's versions (an event's job lists its key; a scan lists from "").
  Result<std::unique_ptr<storage::ListingCursor>> ListVersions(std::string_view p,
                                                               std::string_view k,
                                                               std::string_view v) override {
    if (!p.empty()) ++key_listings;
    return BorrowedBackend::ListVersions(p, k, v);
  }
  static inline std::atomic<int> probes{0};
  static inline std::atomic<int> key_listings{0};
};

class ReplicateKindsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-replicate-kinds-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    for (const char* name : {"a", "b", "c"}) {
      storage::MemoryBackend::Options o;
      o.clock = &clock_;
      o.versioned = true;
      o.name = name;
      o.endpoint = name;  // two "servers": the data path
      sides_[name] = std::make_unique<storage::MemoryBackend>(o);
    }
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  Result<std::unique_ptr<Backend>> Open(const std::string& name, bool destination) {
    (void)destination;
    auto it = sides_.find(name);
    if (it == sides_.end()) return Status::InvalidArgument("no location " + name);
    return std::unique_ptr<Backend>(std::make_unique<Borrowed>(*it->second));
  }

  // A pass a -> b (and c when `second` is set) as a run, with its first replicate-scan job.
  RunId NewRun(uint64_t batch_versions, const char* second = nullptr) {
    replicate::DurablePass pass;
    pass.source = "a";
    replicate::Rule rule;
    rule.id = "r";
    rule.delete_markers = true;
    rule.destinations.push_back({"b", "", {}, ""});
    if (second != nullptr) rule.destinations.push_back({second, "", {}, ""});
    pass.rules.rules = {rule};
    pass.concurrency = 2;
    pass.batch_versions = batch_versions;
    jobs::RunOptions ro;
    ro.command = "replicate";
    auto options = replicate::EncodeDurablePass(pass, jobs::EncodeRunOptions(ro));
    EXPECT_TRUE(options.ok());
    auto run = store_->CreateRun(jobs::RunSpec{"a", "b", *options});
    EXPECT_TRUE(run.ok());
    JobSpec scan;
    scan.run = *run;
    scan.kind = kReplicateScanKind;
    scan.payload = jobs::EncodeScan(jobs::KeyRange{});
    EXPECT_TRUE(store_->Enqueue({scan}).ok());
    return *run;
  }

  // Every entry of `side` per key, oldest first: contents, "<marker>" for a delete marker.
  std::map<std::string, std::vector<std::string>> History(const char* side) {
    std::map<std::string, std::vector<std::string>> out;
    auto c = sides_[side]->ListVersions("", "", "");
    EXPECT_TRUE(c.ok());
    for (;;) {
      const ObjectInfo* e = *(*c)->Next();
      if (e == nullptr) break;
      std::string what = "<marker>";
      if (!e->delete_marker) {
        std::vector<std::byte> data(e->size);
        EXPECT_TRUE(sides_[side]->ReadVersionAt(e->key, e->version_id, 0, data, {}).ok());
        what.assign(reinterpret_cast<const char*>(data.data()), data.size());
      }
      auto& list = out[e->key];
      list.insert(list.begin(), what);
    }
    return out;
  }

  testing::FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  // The kinds a replication pass's workers serve.
  const jobs::KindRegistry kinds_ = [] {
    jobs::KindRegistry r;
    EXPECT_TRUE(r.Register(MakeReplicateScanHandler()).ok());
    EXPECT_TRUE(r.Register(MakeReplicateKeysHandler()).ok());
    EXPECT_TRUE(r.Register(MakeReplicateEventHandler()).ok());
    return r;
  }();
  std::map<std::string, std::unique_ptr<storage::MemoryBackend>> sides_;
};

TEST_F(ReplicateKindsTest, WorkersReplicateEveryVersionInOrderOnce) {
  storage::MemoryBackend& a = *sides_["a"];
  int expected = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string key = "d" + std::to_string(i % 4) + "/k" + std::to_string(i);
    for (int v = 0; v <= i % 3; ++v) {
      const std::string body = key + " v" + std::to_string(v);
      storage::WriteSpec spec;
      spec.size = body.size();
      clock_.SleepFor(std::chrono::milliseconds(10), {});
      ASSERT_TRUE(a.Put(key, std::as_bytes(std::span(body)), spec, {}).ok());
      ++expected;
    }
    if (i % 7 == 0) {
      ASSERT_TRUE(a.AddDeleteMarker(key, {}).ok());
      ++expected;
    }
  }
  const RunId run = NewRun(/*batch_versions=*/5);
  Borrowed::probes = 0;
  std::vector<transfer::Stats> stats(2);
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      WorkerOptions o;
      o.executor = &ferry::testing::TestExecutor();
      o.registry = &kinds_;
      o.owner = "w" + std::to_string(w);
      o.only_run = run;
      o.exit_when_done = true;
      o.scan_chunk = 6;  // keys per scan job: the listing is handed on, and split when idle
      o.idle_poll = std::chrono::milliseconds(5);
      Worker worker(
          *store_, [this](const std::string& n, bool d) { return Open(n, d); }, o, stats[w]);
      RunProgress progress = RunProgress::kWorking;
      EXPECT_TRUE(worker.Run({}, &progress).ok());
      EXPECT_EQ(progress, RunProgress::kDone);
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(History("b"), History("a"));
  EXPECT_EQ(stats[0].objects_copied.load() + stats[1].objects_copied.load(),
            static_cast<uint64_t>(expected));
  auto counts = store_->CountJobs(run);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->state, jobs::RunState::kDone);
  // 40 keys in scans of 6: at least 7 scan jobs; batches of at most 5 versions
  EXPECT_GE(counts->by_kind[kReplicateScanKind].of(JobState::kDone), 7u);
  EXPECT_GE(counts->by_kind[kReplicateKeysKind].of(JobState::kDone),
            static_cast<uint64_t>(expected / 5));
  EXPECT_EQ(counts->by_kind[kReplicateKeysKind].objects_total, static_cast<uint64_t>(expected));
  EXPECT_GT(Borrowed::probes.load(), 0);  // ranges were split for the idle worker
  auto status = replicate::StatusStore::Open(*store_->session());
  ASSERT_TRUE(status.ok());
  auto rows = (*status)->Rows("a", replicate::VersionState::kCompleted);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), static_cast<size_t>(expected));
}

TEST_F(ReplicateKindsTest, AKeysJobRunAgainWritesNothing) {
  storage::MemoryBackend& a = *sides_["a"];
  for (const char* body : {"one", "two"}) {
    storage::WriteSpec spec;
    spec.size = 3;
    ASSERT_TRUE(a.Put("k", std::as_bytes(std::span(body, 3)), spec, {}).ok());
  }
  const RunId run = NewRun(100);
  auto one_worker = [&] {
    WorkerOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.registry = &kinds_;
    o.owner = "w";
    o.only_run = run;
    o.exit_when_done = true;
    o.idle_poll = std::chrono::milliseconds(5);
    transfer::Stats stats;
    Worker worker(*store_, [this](const std::string& n, bool d) { return Open(n, d); }, o, stats);
    EXPECT_TRUE(worker.Run({}).ok());
    return stats.objects_copied.load();
  };
  EXPECT_EQ(one_worker(), 2u);
  // The same batch again, as a retry after its worker died would run it.
  auto done = store_->ListJobs(run, JobState::kDone, 10);
  ASSERT_TRUE(done.ok());
  JobSpec again;
  for (const jobs::Job& j : *done) {
    if (j.spec.kind == kReplicateKeysKind) again = j.spec;
  }
  ASSERT_EQ(again.kind, kReplicateKeysKind);
  auto run2 = store_->CreateRun(jobs::RunSpec{"a", "b", store_->GetRun(run)->spec.options});
  ASSERT_TRUE(run2.ok());
  again.run = *run2;
  ASSERT_TRUE(store_->Enqueue({again}).ok());
  WorkerOptions o;
  o.executor = &ferry::testing::TestExecutor();
  o.registry = &kinds_;
  o.owner = "w2";
  o.only_run = *run2;
  o.exit_when_done = true;
  o.idle_poll = std::chrono::milliseconds(5);
  transfer::Stats stats;
  Worker worker(*store_, [this](const std::string& n, bool d) { return Open(n, d); }, o, stats);
  EXPECT_TRUE(worker.Run({}).ok());
  EXPECT_EQ(stats.objects_copied.load(), 0u);
  EXPECT_EQ(History("b")["k"], (std::vector<std::string>{"one", "two"}));
}

// replicate-event jobs (`ferry serve`'s intake): each lists its key at the source when it runs
// and replicates what is missing of it, whatever the events said; a key with no version left
// needs nothing; a job of a key already replicated writes nothing.
TEST_F(ReplicateKindsTest, AnEventsJobReplicatesItsKeyAsTheSourceHasItNow) {
  storage::MemoryBackend& a = *sides_["a"];
  auto put = [&](const std::string& key, const std::string& body) {
    storage::WriteSpec spec;
    spec.size = body.size();
    clock_.SleepFor(std::chrono::milliseconds(10), {});
    ASSERT_TRUE(a.Put(key, std::as_bytes(std::span(body)), spec, {}).ok());
  };
  put("k", "one");
  const RunId run = NewRun(100);
  auto work = [&](RunId r) {
    WorkerOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.owner = "w";
    o.only_run = r;
    o.exit_when_done = true;
    o.idle_poll = std::chrono::milliseconds(5);
    o.registry = &kinds_;
    transfer::Stats stats;
    Worker worker(*store_, [this](const std::string& n, bool d) { return Open(n, d); }, o, stats);
    EXPECT_TRUE(worker.Run({}).ok());
    return stats.objects_copied.load();
  };
  EXPECT_EQ(work(run), 1u);
  put("k", "two");
  put("k2", "new");
  ASSERT_TRUE(a.AddDeleteMarker("k2", {}).ok());
  // the events, on a run of the same pass with no scan: k twice (one job), k2, a key never there
  auto events = store_->CreateRun(jobs::RunSpec{"a", "b", store_->GetRun(run)->spec.options});
  ASSERT_TRUE(events.ok());
  std::vector<JobSpec> specs;
  for (const char* key : {"k", "k", "k2", "gone"}) {
    JobSpec e;
    e.run = *events;
    e.kind = kReplicateEventKind;
    e.payload = EncodeEventWork({.key = key, .first_event_ns = 0, .events = 1});
    e.coalesce_key = key;
    specs.push_back(e);
  }
  auto ids = store_->Enqueue(specs);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ((*ids)[0], (*ids)[1]);
  EXPECT_EQ(work(*events), 3u);  // k's second version, k2's version and its marker
  EXPECT_EQ(History("b"), History("a"));
  EXPECT_EQ(History("b")["k"], (std::vector<std::string>{"one", "two"}));
  auto counts = store_->CountJobs(*events);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->by_kind[kReplicateEventKind].of(JobState::kDone), 3u);
  // the same events again: nothing to write
  for (JobSpec& e : specs) e.coalesce_key.clear();
  auto again = store_->CreateRun(jobs::RunSpec{"a", "b", store_->GetRun(run)->spec.options});
  ASSERT_TRUE(again.ok());
  for (JobSpec& e : specs) e.run = *again;
  ASSERT_TRUE(store_->Enqueue(specs).ok());
  EXPECT_EQ(work(*again), 0u);
  EXPECT_EQ(History("b")["k"], (std::vector<std::string>{"one", "two"}));
}

// A busy key is no attempt (ferry serve): while another job's live lease holds the key (a scan's
// keys job copying a large version slowly), an event's job of that key waits, far longer than
// its max_attempts retries would last, without dying and without listing the key at the source
// on each try; once the key is free it replicates it.
TEST_F(ReplicateKindsTest, AnEventsJobOutwaitsABusyKeyWithoutDyingOrListingIt) {
  storage::MemoryBackend& a = *sides_["a"];
  const std::string body = "one";
  storage::WriteSpec write;
  write.size = body.size();
  ASSERT_TRUE(a.Put("k", std::as_bytes(std::span(body)), write, {}).ok());
  const RunId pass = NewRun(100);  // its options; its scan is never run
  jobs::RunSpec spec{"a", "b", store_->GetRun(pass)->spec.options};
  spec.continuous = true;  // as ferry serve's: keys are locked
  spec.rescan_interval = std::chrono::hours(24);
  auto run = store_->CreateRun(spec);
  ASSERT_TRUE(run.ok());
  // The holder: a job of another run that took key "k" of source "a" for three hours.
  auto other = store_->CreateRun(jobs::RunSpec{"x", "y", "{}"});
  ASSERT_TRUE(other.ok());
  JobSpec holder_spec;
  holder_spec.run = *other;
  holder_spec.payload = "{}";
  ASSERT_TRUE(store_->Enqueue({holder_spec}).ok());
  auto holder = store_->Claim("holder", std::chrono::hours(3), 1, *other);
  ASSERT_TRUE(holder.ok() && holder->size() == 1u);
  auto locked = store_->LockKey(holder->front().lease, "a", "k");
  ASSERT_TRUE(locked.ok() && *locked);
  JobSpec event;
  event.run = *run;
  event.kind = kReplicateEventKind;
  event.payload = EncodeEventWork({.key = "k", .first_event_ns = 0, .events = 1});
  event.objects = 1;
  event.max_attempts = 3;
  event.coalesce_key = "k";
  auto ids = store_->Enqueue({event});
  ASSERT_TRUE(ids.ok());
  const jobs::JobId id = ids->front();

  obs::Registry metrics;
  WorkerOptions o;
  o.executor = &ferry::testing::TestExecutor();
  o.owner = "w";
  o.only_run = *run;
  o.idle_poll = std::chrono::milliseconds(5);
  o.registry = &kinds_;
  o.clock = &clock_;
  o.metrics = &metrics;
  transfer::Stats stats;
  std::stop_source stop;
  Status result = Status::Ok();
  std::thread worker_thread([&] {
    Worker worker(*store_, [this](const std::string& n, bool d) { return Open(n, d); }, o, stats);
    result = worker.Run(stop.get_token());
  });
  auto waits = [&] {
    const std::string text = metrics.RenderPrometheus();
    const std::string series =
        "ferry_jobs_finished_total{kind=\"replicate-event\",outcome=\"wait\"} ";
    const size_t at = text.find(series);
    return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + series.size());
  };
  auto job = [&] {
    auto j = store_->GetJob(id);
    EXPECT_TRUE(j.ok());
    return j.ok() ? *j : jobs::Job{};
  };
  const int listings_before = Borrowed::key_listings.load();
  // 40 minutes of the clock, a second at a time: the job waits 2 s, then longer, up to 30 s.
  const auto start = clock_.Now();
  // Each move while the worker waits on the clock (for its next poll).
  testing::AdvanceUntil(clock_, std::chrono::seconds(1), [&] {
    return clock_.Now() - start >= std::chrono::minutes(40) || job().state == JobState::kDead;
  }, 2400);
  // it waited far more often than max_attempts allows failures, and no more often than the
  // growing wait lets it (2 s, 3 s, ... 30 s: ~80 in 40 minutes, not 1200)
  // Queued between waits, or leased when read in the middle of an attempt (the worker runs
  // beside this thread: under ASan one was, FLAKY in stop 54's rehearsal); never dead or done.
  const jobs::Job waiting = job();
  EXPECT_TRUE(waiting.state == JobState::kQueued || waiting.state == JobState::kLeased)
      << static_cast<int>(waiting.state) << " " << waiting.last_error;
  EXPECT_GT(waits(), 3 * event.max_attempts);
  EXPECT_LT(waits(), 200);
  EXPECT_EQ(Borrowed::key_listings.load() - listings_before, 0) << "the busy key was listed";
  EXPECT_TRUE(History("b").empty());
  // The holder is done: the key is free, and the event's job replicates it within a wait.
  ASSERT_TRUE(store_->Finish(holder->front().lease, jobs::Outcome{}).ok());
  testing::AdvanceUntil(clock_, std::chrono::milliseconds(100),
                        [&] { return job().state == JobState::kDone; }, 20000);
  stop.request_stop();
  worker_thread.join();
  EXPECT_TRUE(result.ok() || result.code() == ErrorCode::kCancelled) << result.ToString();
  EXPECT_EQ(job().state, JobState::kDone);
  EXPECT_EQ(History("b")["k"], (std::vector<std::string>{"one"}));
  EXPECT_EQ(Borrowed::key_listings.load() - listings_before, 1);
}

// Events are hints (ferry serve): shuffled, duplicated, delayed past later writes of
// their key, the destination never holds a version out of order (its history of each key is
// always a prefix of the source's: an event of an older version never puts it over a newer
// one, a delete marker's event never deletes a key written again since), and once every
// event has been delivered the destination holds the source's history. Seeded, many seeds.
TEST_F(ReplicateKindsTest, ShuffledDuplicatedAndLateEventsConverge) {
  storage::MemoryBackend& a = *sides_["a"];
  const RunId first = NewRun(100);
  auto work = [&](RunId r) {
    WorkerOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.owner = "w";
    o.only_run = r;
    o.exit_when_done = true;
    o.idle_poll = std::chrono::milliseconds(2);
    o.registry = &kinds_;
    transfer::Stats stats;
    Worker worker(*store_, [this](const std::string& n, bool d) { return Open(n, d); }, o, stats);
    EXPECT_TRUE(worker.Run({}).ok());
  };
  work(first);  // the scan of an empty source
  const std::string options = store_->GetRun(first)->spec.options;
  // Delivers `keys` as one body of events each, in this order, to a run of their own.
  auto deliver = [&](const std::vector<std::string>& keys) {
    auto run = store_->CreateRun(jobs::RunSpec{"a", "b", options});
    ASSERT_TRUE(run.ok());
    std::vector<JobSpec> specs;
    for (const std::string& key : keys) {
      JobSpec e;
      e.run = *run;
      e.kind = kReplicateEventKind;
      e.payload = EncodeEventWork({.key = key, .first_event_ns = 0, .events = 1});
      e.coalesce_key = key;
      specs.push_back(e);
    }
    ASSERT_TRUE(store_->Enqueue(specs).ok());
    work(*run);
  };
  auto prefix_of_source = [&]() {
    auto at_a = History("a");
    for (const auto& [key, versions] : History("b")) {
      const std::vector<std::string>& source = at_a[key];
      if (versions.size() > source.size() ||
          !std::equal(versions.begin(), versions.end(), source.begin())) {
        ADD_FAILURE() << key << " at b is not a prefix of its history at a";
        return false;
      }
    }
    return true;
  };
  int written = 0;
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed);
    const std::string tag = "s" + std::to_string(seed) + "-";
    std::vector<std::string> pending;  // events not delivered yet, oldest first
    for (int op = 0; op < 24; ++op) {
      const std::string key = tag + "k" + std::to_string(rng() % 4);
      clock_.SleepFor(std::chrono::milliseconds(10), {});
      if (rng() % 10 < 7) {
        const std::string body = "v" + std::to_string(++written);
        storage::WriteSpec spec;
        spec.size = body.size();
        ASSERT_TRUE(a.Put(key, std::as_bytes(std::span(body)), spec, {}).ok());
      } else {
        ASSERT_TRUE(a.AddDeleteMarker(key, {}).ok());
      }
      pending.push_back(key);
      if (rng() % 3 == 0) pending.push_back(key);  // delivered twice
      if (op % 6 == 5) {
        // Deliver a shuffled part of what is pending; the rest comes late, after later writes.
        std::shuffle(pending.begin(), pending.end(), rng);
        const size_t now = pending.size() / 2 + rng() % (pending.size() / 2 + 1);
        deliver(std::vector<std::string>(pending.begin(), pending.begin() + now));
        pending.erase(pending.begin(), pending.begin() + now);
        ASSERT_TRUE(prefix_of_source()) << "seed " << seed << ", op " << op;
      }
    }
    std::shuffle(pending.begin(), pending.end(), rng);
    deliver(pending);
    ASSERT_TRUE(prefix_of_source()) << "seed " << seed;
  }
  // Every write had its event: the destination holds the source's history, key by key.
  EXPECT_EQ(History("b"), History("a"));
}

TEST_F(ReplicateKindsTest, AWorkerWithoutTheSecondDestinationGivesTheJobBack) {
  storage::MemoryBackend& a = *sides_["a"];
  for (const char* body : {"one", "two"}) {
    storage::WriteSpec spec;
    spec.size = 3;
    ASSERT_TRUE(a.Put("k", std::as_bytes(std::span(body, 3)), spec, {}).ok());
  }
  const RunId run = NewRun(100, "c");
  WorkerOptions o;
  o.executor = &ferry::testing::TestExecutor();
  o.registry = &kinds_;
  o.owner = "no-c";
  o.only_run = run;
  o.exit_when_done = true;
  o.idle_poll = std::chrono::milliseconds(5);
  transfer::Stats stats;
  {
    // This worker's config has no "c": the run's own sides (a, b) open, the pass's second
    // destination does not.
    Worker lacking(
        *store_,
        [this](const std::string& n, bool d) -> Result<std::unique_ptr<Backend>> {
          if (n == "c") return Status::InvalidArgument("unknown remote 'c'");
          return Open(n, d);
        },
        o, stats);
    Status s = lacking.Run({});
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.message().find("cannot open the destination c of run"), std::string::npos)
        << s.message();
  }
  // Given back, not dead, and its attempt not counted.
  auto counts = store_->CountJobs(run);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->by_kind[kReplicateScanKind].of(JobState::kDead), 0u);
  auto queued = store_->ListJobs(run, JobState::kQueued, 10);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].attempts, 0);
  EXPECT_TRUE(History("c").empty());
  // A worker that has every destination serves it.
  o.owner = "all";
  Worker full(*store_, [this](const std::string& n, bool d) { return Open(n, d); }, o, stats);
  RunProgress progress = RunProgress::kWorking;
  EXPECT_TRUE(full.Run({}, &progress).ok());
  EXPECT_EQ(progress, RunProgress::kDone);
  EXPECT_EQ(History("b")["k"], (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(History("c")["k"], (std::vector<std::string>{"one", "two"}));
}

// Compressed transport under `ferry serve` (Transport::max_delay): event jobs leave their
// transported versions waiting (rows PENDING "queued for transport") and the run's one pack job
// packs them together max_delay later, or at once when a batch's worth waits, cut into batches
// of batch_objects; max_delay 0 packs per event as before. Every version arrives, in order.
class BatchedTransportTest : public ReplicateKindsTest {
 protected:
  void SetUp() override {
    ReplicateKindsTest::SetUp();
    storage::MemoryBackend::Options o;
    o.clock = &clock_;
    o.versioned = true;
    o.name = "s";
    o.endpoint = "s";
    // archives are written in chunks of unknown total size, as to S3
    sides_["s"] = std::make_unique<testing::SizelessChunkedStore>(o);
    storage::MemoryBackend& a = *sides_["a"];
    for (int i = 0; i < 5; ++i) {
      for (const std::string body : {"one-", "two-"}) {
        if (body == "two-" && i != 0) continue;  // k0 has two versions
        const std::string data = body + std::to_string(i);
        storage::WriteSpec spec;
        spec.size = data.size();
        clock_.Advance(std::chrono::milliseconds(10));
        ASSERT_TRUE(a.Put("k" + std::to_string(i), std::as_bytes(std::span(data)), spec, {}).ok());
      }
    }
  }

  // A run a -> b through staging s, with its five event jobs (k0..k4) enqueued.
  RunId EventRun(std::chrono::seconds max_delay, uint64_t batch_objects) {
    DurablePass pass;
    pass.source = "a";
    Rule rule;
    rule.id = "r";
    rule.delete_markers = true;
    Destination d{"b", "", {}, ""};
    d.transport.compress = true;
    d.transport.staging = "s";
    d.transport.max_delay = max_delay;
    d.transport.batch_objects = batch_objects;
    rule.destinations.push_back(d);
    pass.rules.rules = {rule};
    pass.concurrency = 2;
    pass.batch_versions = 100;
    jobs::RunOptions ro;
    ro.command = "replicate";
    auto options = EncodeDurablePass(pass, jobs::EncodeRunOptions(ro));
    EXPECT_TRUE(options.ok()) << options.status().ToString();
    jobs::RunSpec spec{"a", "b", *options};
    spec.continuous = true;  // as ferry serve's: its keys are locked while a job works on them
    spec.rescan_interval = std::chrono::hours(1);
    auto run = store_->CreateRun(spec);
    EXPECT_TRUE(run.ok());
    std::vector<JobSpec> specs;
    for (int i = 0; i < 5; ++i) {
      JobSpec e;
      e.run = *run;
      e.kind = kReplicateEventKind;
      e.payload = EncodeEventWork({.key = "k" + std::to_string(i), .first_event_ns = 0,
                                   .events = 1});
      e.coalesce_key = "k" + std::to_string(i);
      specs.push_back(e);
    }
    EXPECT_TRUE(store_->Enqueue(specs).ok());
    return *run;
  }

  // Runs a worker on the continuous `run` in a thread of its own; `before_time_moves` is
  // called once every event job is done and before the clock moves (then by 100 ms whenever
  // the worker waits on it),
  // and the worker is stopped once the clock is `until` past the start and no job of the run's
  // event, pack and unpack kinds is left to run.
  void Work(RunId run, transfer::Stats& stats, const std::function<void()>& before_time_moves,
            std::chrono::seconds until, int concurrency = 64) {
    WorkerOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.concurrency = concurrency;
    o.owner = "w";
    o.only_run = run;
    o.idle_poll = std::chrono::milliseconds(5);
    o.registry = &transport_kinds_;
    o.clock = &clock_;
    const auto start = clock_.Now();
    std::stop_source stop;
    Status result = Status::Ok();
    std::thread worker_thread([&] {
      Worker worker(*store_, [this](const std::string& n, bool d) { return Open(n, d); }, o,
                    stats);
      result = worker.Run(stop.get_token());
    });
    auto left = [&](const char* kind) {
      auto counts = store_->CountJobs(run);
      EXPECT_TRUE(counts.ok());
      if (!counts.ok()) return uint64_t{0};
      const jobs::KindCounts& k = counts->by_kind[kind];
      return k.of(JobState::kQueued) + k.of(JobState::kLeased);
    };
    testing::WaitFor([&] { return left(kReplicateEventKind) == 0; }, std::chrono::seconds(20));
    before_time_moves();
    // Each move while the worker (or a pack's wait for its batch) waits on the clock.
    testing::AdvanceUntil(clock_, std::chrono::milliseconds(100), [&] {
      return clock_.Now() - start >= until && left(kReplicateEventKind) +
                                                      left(kReplicatePackKind) +
                                                      left(transport::kUnpackKind) ==
                                                  0;
    }, 100000);
    stop.request_stop();
    worker_thread.join();
    EXPECT_TRUE(result.ok() || result.code() == ErrorCode::kCancelled) << result.ToString();
    auto errors = store_->ListErrors(run, 5);
    ASSERT_TRUE(errors.ok());
    for (const jobs::Job& j : *errors) ADD_FAILURE() << j.spec.kind << ": " << j.last_error;
  }

  std::vector<VersionStatus> Rows() {
    auto status = StatusStore::Open(*store_->session());
    EXPECT_TRUE(status.ok());
    auto rows = (*status)->Rows("a", std::nullopt);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<VersionStatus>{};
  }

  const jobs::KindRegistry transport_kinds_ = [] {
    jobs::KindRegistry r;
    EXPECT_TRUE(r.Register(MakeReplicateScanHandler()).ok());
    EXPECT_TRUE(r.Register(MakeReplicateKeysHandler()).ok());
    EXPECT_TRUE(r.Register(MakeReplicateEventHandler()).ok());
    EXPECT_TRUE(r.Register(MakeReplicatePackHandler()).ok());
    EXPECT_TRUE(r.Register(jobs::ByCommand(transport::MakeUnpackHandler(),
                                           {{"replicate", &RunTransportedUnpack}}))
                    .ok());
    return r;
  }();
};

TEST_F(BatchedTransportTest, EventsWaitMaxDelayAndGoInOneArchive) {
  const RunId run = EventRun(std::chrono::seconds(30), 1000);
  transfer::Stats stats;
  const auto start = clock_.Now();
  Work(run, stats, [&] {
    // Every event handled, nothing written: six versions wait for the pack job, due 30 s on.
    EXPECT_TRUE(History("b").empty());
    std::vector<VersionStatus> rows = Rows();
    EXPECT_EQ(rows.size(), 6u);
    for (const VersionStatus& r : rows) {
      EXPECT_EQ(r.state, VersionState::kPending);
      EXPECT_EQ(r.message, QueuedMessage());
    }
    auto jobs = store_->ListJobs(run, JobState::kQueued, 10);
    ASSERT_TRUE(jobs.ok());
    std::vector<jobs::Job> packs;
    for (const jobs::Job& j : *jobs) {
      if (j.spec.kind == kReplicatePackKind) packs.push_back(j);
    }
    ASSERT_EQ(packs.size(), 1u);  // one pack job for the five events
    EXPECT_EQ(packs[0].not_before, start + std::chrono::seconds(30));
    // k4's version deleted at the source while it waits: nothing to pack, its row forgotten
    // (else every later pack job would take it first again)
    auto gone = sides_["a"]->ListVersions("k4", "", "");
    ASSERT_TRUE(gone.ok());
    const ObjectInfo* v = *(*gone)->Next();
    ASSERT_NE(v, nullptr);
    const std::string id = v->version_id;
    ASSERT_TRUE(sides_["a"]->DeleteVersion("k4", id, {}).ok());
  }, std::chrono::seconds(31));
  EXPECT_EQ(stats.archives_staged.load(), 1u);
  EXPECT_EQ(History("b"), History("a"));
  EXPECT_EQ(History("b")["k0"], (std::vector<std::string>{"one-0", "two-0"}));
  EXPECT_EQ(History("b").count("k4"), 0u);
  EXPECT_EQ(Rows().size(), 5u);  // k4's forgotten
  for (const VersionStatus& r : Rows()) EXPECT_EQ(r.state, VersionState::kCompleted) << r.key;
  EXPECT_GE(clock_.Now() - start, std::chrono::seconds(30));
}

TEST_F(BatchedTransportTest, AFullBatchIsPackedAtOnceAndCut) {
  const RunId run = EventRun(std::chrono::seconds(120), 2);
  transfer::Stats stats;
  Work(
      run, stats,
      [&] {
        // Two versions waiting make a batch: packed and unpacked without the clock moving.
        testing::WaitFor([&] { return History("b").size() >= 5; });
        EXPECT_EQ(History("b").size(), 5u);
      },
      std::chrono::seconds(121), /*concurrency=*/1);
  // Six versions, at most two per archive (k0's two go together): cut at least twice. How
  // many more cuts depends on when a pack job runs beside the event jobs (a worker of
  // concurrency 1 still has two jobs in flight): one that finds a single version waiting, or
  // a key an event job holds, packs fewer; at most five archives (one per key).
  EXPECT_GE(stats.archives_staged.load(), 3u);
  EXPECT_LE(stats.archives_staged.load(), 5u);
  EXPECT_EQ(stats.entries_packed.load(), 6u);
  EXPECT_EQ(History("b"), History("a"));
  for (const VersionStatus& r : Rows()) EXPECT_EQ(r.state, VersionState::kCompleted) << r.key;
}

TEST_F(BatchedTransportTest, NoDelayPacksEachEventOnItsOwn) {
  const RunId run = EventRun(std::chrono::seconds(0), 1000);
  transfer::Stats stats;
  Work(run, stats, [] {}, std::chrono::seconds(1));
  EXPECT_EQ(stats.archives_staged.load(), 5u);
  EXPECT_EQ(History("b"), History("a"));
}

}  // namespace
}  // namespace ferry::replicate
