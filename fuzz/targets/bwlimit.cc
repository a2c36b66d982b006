// The rclone-style --bwlimit timetable ("08:00,512k 12:00,10M Mon-18:00,off", "10M:1M"), and
// rates alone: a parsed schedule answers for every minute of the week.
#include <string>

#include "fuzz/fuzz_target.h"
#include "limits/schedule.h"

FERRY_FUZZ_TARGET(bwlimit) {
  using namespace ferry::limits;
  using ferry::fuzz::Require;
  const std::string_view text = ferry::fuzz::AsText(data, size);
  if (auto s = BandwidthSchedule::Parse(text); s.ok()) {
    for (int minute = 0; minute < 7 * 1440; minute += 97) {
      (void)s->At(minute);
      const int next = s->MinutesToNextChange(minute);
      Require(next >= 1 && next <= 7 * 1440, "the next change is within a week");
    }
    if (s->unlimited()) Require(s->At(7 * 1440 - 1) == Rates{}, "unlimited limits nothing");
    (void)BandwidthSchedule::Parse(s->text());
  }
  if (auto rate = ParseRate(text); rate.ok()) {
    Require(!FormatRate(*rate).empty(), "a rate formats");
  }
  return 0;
}
