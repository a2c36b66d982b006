#include "limits/adaptive_rate.h"

#include <algorithm>
#include <cmath>

namespace ferry::limits {
namespace {

using std::chrono::duration;
using namespace std::chrono_literals;

constexpr auto kSlotLength = 100ms;  // the last second is counted in tenths
constexpr auto kReaction = 1s;       // the shortest reaction window; also the increase period
constexpr auto kMaxDrain = 5s;       // the longest: a long download does not hold it open
constexpr int kJudgeAfter = 40;      // requests over after a decrease before it is judged ...
constexpr int kJudgeAtLeast = 10;    // ... or at least these by kJudgeFor
constexpr auto kJudgeFor = 10s;      // without that many by then, the decrease stands
constexpr auto kSlackFor = 10s;      // rate above twice the demand this long: unlimited
constexpr auto kNoiseHalfLife = 10s;
constexpr auto kCleanHalfLife = 30s;  // how fast the best clean second is forgotten
constexpr double kMinStep = 0.25;
constexpr double kMaxNoise = 0.25;  // the most throttled at random that is taken as noise
constexpr int kProbeSlowly = 8;  // seconds past the peak at the additive step
constexpr double kMaxRate = 1e9;

int64_t SlotIndex(AdaptiveRate::Time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() /
         std::chrono::duration_cast<std::chrono::milliseconds>(kSlotLength).count();
}

}  // namespace

AdaptiveRate::Slot& AdaptiveRate::SlotAt(Time now) {
  const int64_t index = SlotIndex(now);
  Slot& s = slots_[static_cast<size_t>(index % static_cast<int64_t>(slots_.size()))];
  if (s.index != index) s = Slot{index, 0, 0, 0};
  return s;
}

void AdaptiveRate::LongCount(Time now, bool throttled) {
  const int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Slot& s = long_[static_cast<size_t>(second % static_cast<int64_t>(long_.size()))];
  if (s.index != second) s = Slot{second, 0, 0, 0};
  ++(throttled ? s.throttled : s.ok);
  long_ok_ = 0;
  long_throttled_ = 0;
  for (const Slot& l : long_) {
    if (l.index > second - static_cast<int64_t>(long_.size()) && l.index <= second) {
      long_ok_ += l.ok;
      long_throttled_ += l.throttled;
    }
  }
}

AdaptiveRate::Window AdaptiveRate::Last(Time now) const {
  const int64_t index = SlotIndex(now);
  Window w;
  for (const Slot& s : slots_) {
    if (s.index > index - static_cast<int64_t>(slots_.size()) && s.index <= index) {
      w.sent += s.sent;
      w.ok += s.ok;
      w.throttled += s.throttled;
    }
  }
  // nine whole tenths and the one going on; at the very start less (but at least a tenth)
  const double into = duration<double>(now.time_since_epoch() % kSlotLength).count();
  const double span = duration<double>(kSlotLength).count() * (slots_.size() - 1) + into;
  w.seconds = std::clamp(duration<double>(now - first_).count(), 0.1, std::max(0.1, span));
  return w;
}

void AdaptiveRate::Sent(Time now) {
  if (!seen_) {
    seen_ = true;
    first_ = now;
  }
  Advance(now);
  ++SlotAt(now).sent;
  ++in_flight_;
}

void AdaptiveRate::Done(Time now, bool throttled) {
  if (!seen_) {
    seen_ = true;
    first_ = now;
  }
  Advance(now);
  in_flight_ = std::max(0, in_flight_ - 1);
  Slot& s = SlotAt(now);
  ++(throttled ? s.throttled : s.ok);
  LongCount(now, throttled);
  if (throttled) last_throttle_ = now;
  if (draining_ > 0) {
    // sent before the last decrease: says nothing about the rate in force now
    --draining_;
    return;
  }
  if (judging_ && now >= hold_until_) {
    ++judged_;
    if (throttled) ++judged_throttled_;
    // half and more still throttled is no noise: judged at once (the rate is still too high,
    // and the next decrease need not wait for 40 requests)
    if (judged_ >= kJudgeAfter || (judged_throttled_ >= 4 && 2 * judged_throttled_ >= judged_)) {
      Judge(now);
    }
  }
  if (!throttled || judging_ || now < hold_until_) return;
  if (Signal(Last(now))) Decrease(now);
}

bool AdaptiveRate::Signal(const Window& w) const {
  if (w.throttled == 0) return false;
  if (noise_ == 0) return true;
  // throttles come at random here: only clearly more of them than that is a rate signal
  return w.throttled >= 3 && w.throttled > 2 * noise_ * (w.ok + w.throttled);
}

void AdaptiveRate::Decrease(Time now) {
  const Window w = Last(now);
  const double answered = w.ok + w.throttled;
  before_limited_ = limited_;
  before_rate_ = rate_;
  // over the last 10 s: at a low rate the last second alone (the throttle that decreases and a
  // few others) says too much
  const double long_answered = long_ok_ + long_throttled_;
  fraction_before_ = long_answered >= answered && long_answered > 0
                         ? long_throttled_ / long_answered
                         : (answered > 0 ? w.throttled / answered : 1);
  // unlimited: what was sent (what was accepted is not known yet at the very start); limited:
  // what the endpoint accepted, when that is below the rate in force
  const double base = limited_ ? std::min(rate_, w.ok / w.seconds) : w.sent / w.seconds;
  peak_ = std::max(base, 2 * kFloor);
  step_ = std::max(kMinStep, peak_ / 32);
  probe_ = step_;
  probes_ = 0;
  // never below half the best clean second: a gateway that took that many in a second without
  // throttling any does not throttle at half of it by rate
  rate_ = std::max({kFloor, base / 2, clean_ / 2});
  limited_ = true;
  draining_ = in_flight_;
  drain_until_ = now + kMaxDrain;
  hold_until_ = now + kReaction;
  next_tick_ = now + kReaction;
  slack_ = false;
  judging_ = true;
  judged_ = 0;
  judged_throttled_ = 0;
  judge_until_ = hold_until_ + kJudgeFor;
  ++decreases_;
}

void AdaptiveRate::Judge(Time now) {
  judging_ = false;
  const double after = static_cast<double>(judged_throttled_) / judged_;
  // A rate limit that throttled fewer than half the requests accepts more than the halved rate:
  // after the decrease, nothing (or almost nothing) is throttled. Still as many: not the rate.
  // (A quarter and more at random is no noise a rate could live with: taken as a rate signal.)
  const bool random = fraction_before_ < 0.5 && after < kMaxNoise && judged_throttled_ >= 1 &&
                      after >= fraction_before_ / 2;
  if (!random) return;
  limited_ = before_limited_;
  rate_ = std::max(rate_, before_rate_);
  // and the rate was not what limited it: grow at once by an eighth, then faster and faster
  peak_ = rate_;
  probe_ = std::max(step_, rate_ / 8);
  probes_ = kProbeSlowly;
  noise_ = std::max(noise_, after);
  noise_since_ = now;
  slack_ = false;
  ++undone_;
}

void AdaptiveRate::Advance(Time now) {
  if (seen_ && now >= next_clean_) {
    // the best second answered without a throttle, fading (half-life 30 s)
    const Window w = Last(now);
    clean_ *= std::exp2(-duration<double>(now - clean_at_).count() /
                        duration<double>(kCleanHalfLife).count());
    clean_at_ = now;
    if (w.throttled == 0 && now - first_ >= kReaction) clean_ = std::max(clean_, w.ok / w.seconds);
    next_clean_ = now + kReaction;
  }
  if (draining_ > 0 && now >= drain_until_) draining_ = 0;
  if (judging_ && now >= judge_until_) {
    // few requests since the decrease: judged on what there is, when that is something
    if (judged_ >= kJudgeAtLeast) {
      Judge(now);
    } else {
      judging_ = false;
    }
  }
  if (noise_ > 0 && now - noise_since_ >= kNoiseHalfLife) {
    noise_ /= 2;
    noise_since_ = now;
    if (noise_ < 0.005) noise_ = 0;
  }
  if (!limited_) return;
  for (int n = 0; now >= next_tick_ && n < 64 && limited_; ++n) {
    Tick(next_tick_);
    next_tick_ += kReaction;
  }
  if (now >= next_tick_) next_tick_ = now + kReaction;  // idle a long time: from now on
}

void AdaptiveRate::Tick(Time tick) {
  const Window w = Last(tick);
  if (draining_ > 0 || (tick - last_throttle_ < kReaction && Signal(w))) {
    slack_ = false;
    return;
  }
  if (rate_ > 2 * w.sent / w.seconds) {
    if (!slack_) {
      slack_ = true;
      slack_since_ = tick;
    } else if (tick - slack_since_ >= kSlackFor) {
      limited_ = false;
      rate_ = 0;
      judging_ = false;
      slack_ = false;
      return;
    }
  } else {
    slack_ = false;
  }
  if (rate_ < peak_) {
    rate_ = std::min(peak_, rate_ + step_);
  } else {
    // past where throttling began: as slowly for a while (it may begin again just there), then
    // faster and faster (the endpoint allows more now)
    rate_ = std::min(kMaxRate, rate_ + probe_);
    if (++probes_ > kProbeSlowly) probe_ = std::min(kMaxRate, probe_ * 2);
  }
}

}  // namespace ferry::limits
