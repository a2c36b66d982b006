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
