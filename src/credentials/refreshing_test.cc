#include "credentials/refreshing.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <future>
#include <thread>

#include "testing/fake_clock.h"

namespace ferry::credentials {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

// Answers from a script; each answer's expiration is relative to the clock at the fetch.
class ScriptedSource : public Source {
 public:
  explicit ScriptedSource(testing::FakeClock& clock) : clock_(clock) {}
  struct Answer {
    Status error;
    std::string key = "AK";
    std::optional<std::chrono::seconds> lifetime;
  };
  void Push(Answer a) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(a));
  }
  Result<Expiring> Fetch() override {
    ++fetches;
    if (down) return Status::Unavailable("sts down");
    if (block) {
      entered.set_value();
      release.get_future().wait();
    }
    Answer a;
    {
      std::lock_guard lock(mu_);
      if (script_.empty()) return Status::Internal("no scripted answer");
      a = script_.front();
      script_.pop_front();
    }
    if (!a.error.ok()) return a.error;
    Expiring e;
    e.credentials = {a.key, "secret-" + a.key, "token-" + a.key};
    if (a.lifetime) e.expiration = clock_.Now() + *a.lifetime;
    return e;
  }
  std::string Describe() const override { return "the scripted source"; }

  std::atomic<int> fetches{0};
  std::atomic<bool> down{false};  // every fetch fails (an outage), the script untouched
  bool block = false;
  std::promise<void> entered, release;

 private:
  testing::FakeClock& clock_;
  std::mutex mu_;
  std::deque<Answer> script_;
};

struct Fixture {
  testing::FakeClock clock;
  ScriptedSource* source = nullptr;
  std::unique_ptr<RefreshingProvider> provider;
  Fixture() {
    auto s = std::make_unique<ScriptedSource>(clock);
    source = s.get();
    RefreshOptions o;
    o.clock = &clock;
    provider = std::make_unique<RefreshingProvider>(std::move(s), o);
  }
  std::string Key() {
    auto c = provider->Get();
    return c.ok() ? c->access_key_id : "error: " + c.status().message();
  }
};

TEST(RefreshingProviderTest, ASetWithoutExpirationIsFetchedOnce) {
  Fixture f;
  f.source->Push({Status::Ok(), "AK1", std::nullopt});
  EXPECT_EQ(f.Key(), "AK1");
  f.clock.Advance(std::chrono::hours(1000));
  EXPECT_EQ(f.Key(), "AK1");
  EXPECT_EQ(f.source->fetches, 1);
}

TEST(RefreshingProviderTest, RefreshesFiveMinutesAheadOfExpiry) {
  Fixture f;
  f.source->Push({Status::Ok(), "AK1", 3600s});
  f.source->Push({Status::Ok(), "AK2", 3600s});
  EXPECT_EQ(f.Key(), "AK1");
  f.clock.Advance(54min);
  EXPECT_EQ(f.Key(), "AK1");  // 6 minutes left: not yet
  f.clock.Advance(std::chrono::minutes(1) + 1s);
  EXPECT_EQ(f.Key(), "AK2");  // inside the 5 minutes: the next set, before the old expired
  EXPECT_EQ(f.source->fetches, 2);
  EXPECT_EQ(f.provider->fetches(), 2u);
}

TEST(RefreshingProviderTest, ShortLivedSetsAreRefreshedAtHalfTheirLife) {
  Fixture f;
  f.source->Push({Status::Ok(), "AK1", 30s});
  f.source->Push({Status::Ok(), "AK2", 30s});
  EXPECT_EQ(f.Key(), "AK1");
  f.clock.Advance(14s);
  EXPECT_EQ(f.Key(), "AK1");
  f.clock.Advance(2s);
  EXPECT_EQ(f.Key(), "AK2");
}

TEST(RefreshingProviderTest, AFailedEarlyRefreshKeepsTheCurrentSetAndWaitsBeforeTryingAgain) {
  Fixture f;
  f.source->Push({Status::Ok(), "AK1", 3600s});
  f.source->Push({Status::Unavailable("sts down"), "AK", std::nullopt});
  f.source->Push({Status::Ok(), "AK2", 3600s});
  EXPECT_EQ(f.Key(), "AK1");
  f.clock.Advance(56min);
  EXPECT_EQ(f.Key(), "AK1");  // the refresh failed: still valid, still used
  EXPECT_EQ(f.source->fetches, 2);
  f.clock.Advance(5s);
  EXPECT_EQ(f.Key(), "AK1");  // not tried again within 10 s
  EXPECT_EQ(f.source->fetches, 2);
  f.clock.Advance(6s);
  EXPECT_EQ(f.Key(), "AK2");
}

TEST(RefreshingProviderTest, AnExpiredSetIsNeverHandedOut) {
  Fixture f;
  f.source->Push({Status::Ok(), "AK1", 600s});
  f.source->Push({Status::PermissionDenied("role refused"), "AK", std::nullopt});
  f.source->Push({Status::PermissionDenied("role refused"), "AK", std::nullopt});
  EXPECT_EQ(f.Key(), "AK1");
  f.clock.Advance(601s);
  EXPECT_EQ(f.Key(), "error: role refused");
  f.clock.Advance(11s);
  EXPECT_EQ(f.Key(), "error: role refused");
}

// Once the set expired, a failed fetch is not repeated by every caller: callers within the
// backoff (1 s, doubling up to 30 s) get the last error at once. An outage of 5 minutes with
// 30 callers a second costs a handful of fetches, not 9000.
TEST(RefreshingProviderTest, AnOutageAfterExpiryIsFetchedWithBackoffNotByEveryCaller) {
  Fixture f;
  f.source->Push({Status::Ok(), "AK1", 600s});
  EXPECT_EQ(f.Key(), "AK1");
  f.clock.Advance(601s);
  f.source->down = true;
  std::vector<int> fetched_at;  // seconds into the outage
  for (int tick = 0; tick < 3000; ++tick) {  // every 100 ms for 300 s
    for (int caller = 0; caller < 3; ++caller) {
      const int before = f.source->fetches;
      EXPECT_EQ(f.Key(), "error: sts down");
      if (f.source->fetches != before) fetched_at.push_back(tick / 10);
    }
    f.clock.Advance(100ms);
  }
  // 0, 1, 3, 7, 15, 31, then every 30 s
  const std::vector<int> expected = {0, 1, 3, 7, 15, 31, 61, 91, 121, 151, 181, 211, 241, 271};
  EXPECT_EQ(fetched_at, expected);
  EXPECT_EQ(f.source->fetches, 1 + 14);
  // the service is back: the next fetch after the backoff succeeds, and resets it
  f.source->down = false;
  f.source->Push({Status::Ok(), "AK2", 600s});
  f.clock.Advance(30s);
  EXPECT_EQ(f.Key(), "AK2");
  f.clock.Advance(601s);
  f.source->down = true;
  EXPECT_EQ(f.Key(), "error: sts down");
  const int after_first = f.source->fetches;
  f.clock.Advance(999ms);
  EXPECT_EQ(f.Key(), "error: sts down");
  EXPECT_EQ(f.source->fetches, after_first);  // within the first second: no fetch
  f.clock.Advance(1ms);
  EXPECT_EQ(f.Key(), "error: sts down");
  EXPECT_EQ(f.source->fetches, after_first + 1);  // 1 s again, not 30
}

TEST(RefreshingProviderTest, TheBackoffIsSetByTheOptions) {
  testing::FakeClock clock;
  auto owned = std::make_unique<ScriptedSource>(clock);
  ScriptedSource& source = *owned;
  RefreshOptions o;
  o.clock = &clock;
  o.failure_backoff = 200ms;
  o.failure_backoff_max = 500ms;
  RefreshingProvider provider(std::move(owned), o);
  source.down = true;
  for (int i = 0; i < 40; ++i) {  // 4 s in steps of 100 ms
    EXPECT_FALSE(provider.Get().ok());
    clock.Advance(100ms);
  }
  // at 0, 0.2, 0.6, 1.1, 1.6, ... 3.6 s
  EXPECT_EQ(source.fetches, 3 + 6);
}

// Many threads asking at once during an outage: one fetch, every caller gets its error.
TEST(RefreshingProviderTest, ConcurrentCallersDuringAnOutageShareOneFetch) {
  Fixture f;
  f.source->down = true;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&f, &errors] {
      for (int i = 0; i < 100; ++i) {
        if (f.Key() == "error: sts down") ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 800);
  EXPECT_EQ(f.source->fetches, 1);
}

TEST(RefreshingProviderTest, ASetAlreadyExpiredWhenFetchedIsAnError) {
  Fixture f;
  f.source->Push({Status::Ok(), "AK1", 0s});
  EXPECT_NE(f.Key().find("expired at"), std::string::npos);
}

TEST(RefreshingProviderTest, ExpiredFetchesAgainUnlessJustFetched) {
  Fixture f;
  f.source->Push({Status::Ok(), "AK1", 3600s});
  f.source->Push({Status::Ok(), "AK2", 3600s});
  const s3::Credentials first = *f.provider->Get();
  f.provider->Expired(first);  // right after the fetch: about permissions, not age
  EXPECT_EQ(f.Key(), "AK1");
  f.clock.Advance(60s);
  f.provider->Expired(s3::Credentials{"OTHER", "x", "y"});  // not the current set
  EXPECT_EQ(f.Key(), "AK1");
  f.provider->Expired(first);
  EXPECT_EQ(f.Key(), "AK2");
  EXPECT_EQ(f.source->fetches, 2);
}

TEST(RefreshingProviderTest, OtherCallersKeepSigningWhileOneRefreshes) {
  Fixture f;
  f.source->Push({Status::Ok(), "AK1", 3600s});
  f.source->Push({Status::Ok(), "AK2", 3600s});
  EXPECT_EQ(f.Key(), "AK1");
  f.clock.Advance(56min);
  f.source->block = true;
  auto refresher = std::async(std::launch::async, [&f] { return f.Key(); });
  f.source->entered.get_future().wait();  // the refresher is inside Fetch
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.Key(), "AK1");  // no wait, no second fetch
  f.source->release.set_value();
  EXPECT_EQ(refresher.get(), "AK2");
  EXPECT_EQ(f.Key(), "AK2");
  EXPECT_EQ(f.source->fetches, 2);
}

TEST(RefreshingProviderTest, CallersWaitForTheFetchWhenNothingUsableIsLeft) {
  Fixture f;
  f.source->Push({Status::Ok(), "AK1", std::nullopt});
  f.source->block = true;
  auto first = std::async(std::launch::async, [&f] { return f.Key(); });
  f.source->entered.get_future().wait();
  auto second = std::async(std::launch::async, [&f] { return f.Key(); });
  EXPECT_EQ(second.wait_for(50ms), std::future_status::timeout);  // it waits
  f.source->release.set_value();
  EXPECT_EQ(first.get(), "AK1");
  EXPECT_EQ(second.get(), "AK1");
  EXPECT_EQ(f.source->fetches, 1);  // one fetch served both
}

}  // namespace
}  // namespace ferry::credentials
