// The unpack kind (unpack_kind.cc) through a Worker on SQLite: an unpack whose job changed hands
// writes nothing (its lease fence).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "archive/io.h"
#include "checksum/checksum.h"
#include "jobs/kinds/registry.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "transport/kinds/kinds.h"
#include "transport/pack.h"

namespace ferry::transport {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

class UnpackKindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-unpack-kind-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  jobs::RunId NewRun(const jobs::RunOptions& options, jobs::JobSpec job) {
    auto run =
        store_->CreateRun(jobs::RunSpec{"src-loc", "dst-loc", jobs::EncodeRunOptions(options)});
    EXPECT_TRUE(run.ok());
    job.run = *run;
    job.max_attempts = options.max_attempts;
    auto ids = store_->Enqueue({job});
    EXPECT_TRUE(ids.ok());
    job_ = ids->at(0);
    return *run;
  }
  jobs::Job GetJob() {
    auto j = store_->GetJob(job_);
    EXPECT_TRUE(j.ok());
    return j.ok() ? *j : jobs::Job{};
  }

  testing::FakeClock clock_;         // the store's
  testing::FakeClock worker_clock_;  // the worker's: it stands still
  fs::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  jobs::JobId job_ = 0;
};

// A staging location whose archive lookups wait until Open(): the unpack stands there, as a
// worker cut off from everything would, while its job changes hands.
class GatedStaging : public storage::MemoryBackend {
 public:
  Result<storage::ObjectInfo> Stat(std::string_view key, bool with_tags,
                                   std::stop_token stop) override {
    if (key.ends_with(".fza")) {
      std::unique_lock lock(mu_);
      waiting_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    return MemoryBackend::Stat(key, with_tags, stop);
  }
  bool WaitUntilWaiting() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, seconds(20), [&] { return waiting_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool waiting_ = false;  // GUARDED_BY(mu_)
  bool open_ = false;     // GUARDED_BY(mu_)
};

// An unpack job whose worker cannot renew its lease (its clock stands still here: a partition,
// a stalled machine) and that another worker took meanwhile writes nothing: its first write
// passes the job's lease fence, which finds the lease gone. Before the fence, it wrote the
// archive's entries and deleted the archive under the new holder.
TEST_F(UnpackKindTest, AnUnpackWhoseJobChangedHandsWritesNothing) {
  storage::MemoryBackend packed_from;
  std::vector<storage::ObjectInfo> listed;
  for (int i = 0; i < 3; ++i) {
    const std::string body(1000 + i, static_cast<char>('a' + i));
    storage::WriteSpec spec;
    spec.size = body.size();
    const std::string key = "k" + std::to_string(i);
    ASSERT_TRUE(packed_from.Put(key, checksum::AsBytes(body), spec, {}).ok());
    auto info = packed_from.Stat(key, false, {});
    ASSERT_TRUE(info.ok());
    listed.push_back(*info);
  }
  archive::StringSink sink;
  PackOptions pack;
  pack.executor = &ferry::testing::TestExecutor();
  pack.writer.threads = 1;
  ASSERT_TRUE(PackObjects(packed_from, listed, sink, pack, {}).ok());
  auto staging_owned = std::make_unique<GatedStaging>();
  auto dst_owned = std::make_unique<storage::MemoryBackend>();
  GatedStaging* staging = staging_owned.get();
  storage::MemoryBackend* dst = dst_owned.get();
  const std::string archive = "1-1-00000000.fza";
  storage::WriteSpec spec;
  spec.size = sink.bytes.size();
  ASSERT_TRUE(staging->Put(archive, checksum::AsBytes(sink.bytes), spec, {}).ok());

  jobs::RunOptions options;
  options.command = "sync";
  options.transport.staging = "staging-loc";
  jobs::JobSpec unpack;
  unpack.kind = kUnpackKind;
  unpack.payload = EncodeUnpack(UnpackPayload{.archive = archive, .objects = 3, .bytes = 3003});
  const jobs::RunId run = NewRun(options, unpack);
  jobs::BackendOpener opener = [&](const std::string& location,
                             bool) -> Result<std::unique_ptr<storage::Backend>> {
    if (location == "staging-loc") {
      return std::unique_ptr<storage::Backend>(std::move(staging_owned));
    }
    if (location == "dst-loc") return std::unique_ptr<storage::Backend>(std::move(dst_owned));
    return std::unique_ptr<storage::Backend>(std::make_unique<storage::MemoryBackend>());
  };
  jobs::KindRegistry kinds = jobs::KindRegistry::Builtin();
  ASSERT_TRUE(kinds.Register(MakeUnpackHandler()).ok());
  ASSERT_TRUE(kinds.AddRunHook(MakeRunHook(nullptr)).ok());
  jobs::WorkerOptions w;
  w.owner = "test:4:-:00000004";
  w.only_run = run;
  w.lease_ttl = seconds(1);
  w.idle_poll = milliseconds(10);
  w.clock = &worker_clock_;  // stands still: the worker renews nothing on its own
  w.registry = &kinds;
  w.executor = &ferry::testing::TestExecutor();
  transfer::Stats stats;
  jobs::Worker worker(*store_, opener, w, stats);
  std::stop_source stop;
  std::thread serving([&] { EXPECT_TRUE(worker.Run(stop.get_token()).ok()); });
  ASSERT_TRUE(staging->WaitUntilWaiting()) << "the unpack never started";
  // Its renewals and its claim loop wait on the worker's clock: a claim of the loop still under
  // way after the lease ran out would take the job back (and the thief would find none).
  ASSERT_TRUE(worker_clock_.AwaitWaiters(2));
  clock_.Advance(seconds(2));  // the lease ran out on the store's clock
  auto claimed = store_->Claim("thief", seconds(600), 1, run);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  staging->Open();
  stop.request_stop();  // the worker ends once the attempt did what it could
  serving.join();
  EXPECT_EQ(dst->counts().puts, 0) << "an entry was written by a worker that lost the job";
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(dst->Contents("k" + std::to_string(i)).has_value());
  EXPECT_TRUE(staging->Contents(archive).has_value()) << "the archive is the new holder's";
  const jobs::Job job = GetJob();
  EXPECT_EQ(job.state, jobs::JobState::kLeased);
  EXPECT_EQ(job.lease_owner, "thief");
}

}  // namespace
}  // namespace ferry::transport
