// BandwidthSchedule: a --bwlimit value in rclone's syntax, and the rates in force at a moment.
//
//   RATE                     one rate, both directions ("10M")
//   UP:DOWN                  upload (bytes sent) and download (bytes received) apart ("10M:100k")
//   SLOT SLOT ...            a timetable (slots apart by spaces or semicolons), each slot
//                            "HH:MM,RATES" (every day) or "DAY-HH:MM,RATES" (DAY: Mon ... Sun,
//                            or their full names), RATES being RATE or UP:DOWN
//
// RATE: a number with an optional binary suffix B, K, M, G, T or P (1024-based; no suffix means
// KiB, as in rclone; a trailing "i" or "iB" is allowed: "10Mi", "10MiB"), or "off" (no limit).
// "0" is no limit too (rclone's meaning).
//
// A slot is in force from its time until the next slot's, in local time; the timetable wraps
// around midnight (daily slots) and the week (weekday slots): before the first slot of the
// week the last one is in force. A daily slot stands for that time on each of the seven days.
// Two slots at the same time are refused, as is anything else that is not in this syntax (one
// error naming the bad part).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry::limits {

// Bytes per second in each direction; 0 = no limit.
struct Rates {
  uint64_t up = 0;
  uint64_t down = 0;
  bool operator==(const Rates&) const = default;
};

class BandwidthSchedule {
 public:
  BandwidthSchedule() = default;  // no limit at any time

  static Result<BandwidthSchedule> Parse(std::string_view text);

  // The rates in force at `minute_of_week` (0 = Monday 00:00, up to 7 * 1440 - 1).
  Rates At(int minute_of_week) const;
  // The rates in force at `now` in the local time zone.
  Rates At(std::chrono::system_clock::time_point now) const;
  // Minutes from `minute_of_week` until the rates may change (7 * 1440 when they never do).
  int MinutesToNextChange(int minute_of_week) const;

  bool unlimited() const;
  const std::string& text() const { return text_; }

  // Monday 00:00 = 0, in the local time zone.
  static int MinuteOfWeek(std::chrono::system_clock::time_point t);

 private:
  struct Slot {
    int minute = 0;  // of the week
    Rates rates;
  };
  std::vector<Slot> slots_;  // sorted by minute; empty = no limit
  std::string text_;
};

// One RATE (see above): bytes per second, 0 for no limit.
Result<uint64_t> ParseRate(std::string_view text);
// "10 MiB/s", "off".
std::string FormatRate(uint64_t bytes_per_second);

}  // namespace ferry::limits
