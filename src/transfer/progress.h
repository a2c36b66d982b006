// ProgressLine: a one-line live display on stderr (bytes, objects, rate, ETA), redrawn a few
// times a second by its own thread while it lives. Only used when stderr is a terminal.
#pragma once

#include <thread>

#include "base/clock.h"
#include "transfer/budget.h"
#include "transfer/stats.h"

namespace ferry::transfer {

class ProgressLine {
 public:
  // `budget` may be null (the buffers are then not shown). `clock` times the redraws and the
  // rate (null: SystemClock::Default()); it must outlive the line.
  ProgressLine(const Stats& stats, const ByteBudget* budget, Clock* clock = nullptr);
  ~ProgressLine();  // draws a last time and ends the line

 private:
  void Draw(double seconds, bool final);
  const Stats& stats_;
  const ByteBudget* budget_;
  std::jthread thread_;
};

// "1.5 GiB", "512 B": for messages and summaries.
std::string HumanBytes(double bytes);

}  // namespace ferry::transfer
