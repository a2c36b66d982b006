// AdaptiveRate: the requests per second one endpoint is allowed, learnt from its throttling
// replies (429, 503 SlowDown): AIMD, multiplicative decrease and additive increase, on a rate
// rather than on a number of requests in flight (on a fast link one request in flight at a
// time can already exceed what a gateway allows per second). Pure: no clock, no lock; the
// caller passes the time and holds whatever lock it shares it under (limits.h keeps one per
// endpoint and paces the endpoint's requests with a token bucket of rate()).
//
//   unlimited    until the endpoint throttles a request: rate() is 0, nothing is paced.
//   decrease     a throttled reply halves the rate: the first one halves the rate the endpoint
//                was sent in the last second, later ones the lower of the rate in force and
//                the rate the endpoint accepted (answered without throttling) in the last
//                second. Never below half the best clean second (the most answered in a
//                second without a throttle; it fades with a half-life of 30 s): a gateway that
//                took that many does not throttle at half of it by rate, so throttles there are
//                random (a few, at a low rate, too few for the judgement below). At most one
//                decrease per reaction window: at least a second, and until the requests in
//                flight at the decrease are over (their throttles were earned before it and say
//                nothing about the new rate), at most 5 s (a long download does not hold it
//                open).
//   increase     each second without a throttled reply adds a step: a 32nd of the rate before
//                the last decrease (at least 0.25/s), so the way back to where throttling began
//                takes about 16 s. Past that rate, the same step for 8 s more, then it doubles
//                each second (the endpoint may allow more now); a throttle ends the probing
//                with a decrease.
//   unlimited    again once the rate has been more than twice what was sent for 10 s without
//                a throttle (the run wants less than it may send, or the throttling stopped).
//   random       a decrease that did not help is undone: when fewer than half the requests were
//                throttled before it, halving the rate must end the throttling if the endpoint
//                throttles by rate (it accepted the old rate x (1 - fraction), above the new
//                one). When the requests sent after the reaction window (40; by 10 s after it,
//                10 and more will do) still see throttles, at least half the fraction of the
//                10 s before (half of them
//                throttled, 4 or more, ends the judgement at once: no noise), the throttles are
//                not about the rate: the old rate comes back (and probes upward at once) and
//                that fraction becomes the endpoint's noise (a quarter and more is never noise:
//                no rate could live with it). While there is noise, throttles say the rate is
//                too high (a decrease, no increase) only when more than twice the noise of the
//                requests of the last second were throttled (at least 3). The noise halves
//                every 10 s (below 0.5% it is gone).
//
// docs/design/limits.md, "Adaptive rate", has the reasoning and the measurements.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace ferry::limits {

class AdaptiveRate {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // A request went to the endpoint at `now` (it passed every limit). A request that waited
  // for its turn in the pace while the rate decreased waits again at the new rate (its turn was
  // given at the old one): decreases() tells.
  void Sent(Time now);
  // A request sent earlier is over at `now`; `throttled`: its reply was 429 or 503.
  void Done(Time now, bool throttled);
  // Applies what is due by `now` (increases, the return to unlimited, the noise's decay).
  // Sent and Done call it; a reader of rate() may too.
  void Advance(Time now);

  // The rate in force, requests per second; 0 = unlimited.
  double rate() const { return limited_ ? rate_ : 0; }
  uint64_t decreases() const { return decreases_; }
  uint64_t undone() const { return undone_; }
  double noise() const { return noise_; }

  // The lowest rate a decrease goes to.
  static constexpr double kFloor = 0.5;

 private:
  struct Slot {
    int64_t index = -1;  // which tenth of a second it counts (Time / 100 ms)
    uint32_t sent = 0;
    uint32_t ok = 0;
    uint32_t throttled = 0;
  };
  struct Window {
    double sent = 0;
    double ok = 0;
    double throttled = 0;
    double seconds = 1;  // what they were counted over (less at the very start)
  };
  Slot& SlotAt(Time now);
  Window Last(Time now) const;  // the last second
  void LongCount(Time now, bool throttled);
  // Whether the throttles of `w` say the rate is too high (any, without noise).
  bool Signal(const Window& w) const;
  void Decrease(Time now);
  void Judge(Time now);
  void Tick(Time tick);

  std::array<Slot, 10> slots_{};
  std::array<Slot, 10> long_{};  // the last 10 s, by second: answers only
  double long_ok_ = 0;           // their sums, as of the last answer
  double long_throttled_ = 0;
  bool seen_ = false;
  Time first_{};

  bool limited_ = false;
  double rate_ = 0;
  double peak_ = 0;   // the rate before the last decrease: where throttling began
  double step_ = 0;   // the additive step per second
  double probe_ = 0;  // past peak_: the step, doubling each second after a while
  int probes_ = 0;    // seconds past peak_
  int in_flight_ = 0;
  int draining_ = 0;  // requests in flight at the last decrease, not over yet ...
  Time drain_until_{};  // ... or until then, whichever comes first
  Time hold_until_{};
  Time next_tick_{};
  Time last_throttle_{};
  bool slack_ = false;  // the rate is above twice what was sent ...
  Time slack_since_{};  // ... since then

  // the last decrease, until it is judged
  bool judging_ = false;
  bool before_limited_ = false;
  double before_rate_ = 0;
  double fraction_before_ = 0;  // throttled / answered in the 10 s before it
  int judged_ = 0;              // requests over since the reaction window ended
  int judged_throttled_ = 0;
  Time judge_until_{};  // without enough requests by then, the decrease stands

  double noise_ = 0;
  Time noise_since_{};

  double clean_ = 0;  // the most answered in a second without a throttle, fading
  Time clean_at_{};
  Time next_clean_{};

  uint64_t decreases_ = 0;
  uint64_t undone_ = 0;
};

}  // namespace ferry::limits
