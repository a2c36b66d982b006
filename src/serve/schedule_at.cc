// ParseAt and the occurrences of a schedule (schedule_at.h).
#include "serve/schedule_at.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <string>

#include <date/tz.h>

namespace ferry::serve {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
constexpr int64_t kDayMs = 86'400'000;
constexpr std::array<std::string_view, 7> kDays = {"sun", "mon", "tue", "wed",
                                                   "thu", "fri", "sat"};

// `text` quoted on one printable line: control bytes and quotes as \xNN.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("at " + Quoted(text) + ": " + std::string(why) +
                                 " (forms: \"hourly\", \"daily 02:00\", \"Mon 06:00\", "
                                 "\"Mon,Thu 06:00\", \"every 15m\")");
}

// "HH:MM", 00:00..23:59.
bool ParseClock(std::string_view s, int& minute_of_day) {
  if (s.size() != 5 || s[2] != ':') return false;
  for (size_t i : {0, 1, 3, 4}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return false;
  minute_of_day = h * 60 + m;
  return true;
}

int Weekday(std::string_view name) {
  if (name.size() != 3) return -1;
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (size_t d = 0; d < kDays.size(); ++d) {
    if (kDays[d] == lower) return static_cast<int>(d);
  }
  return -1;
}

int64_t Ms(TimePoint t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}
TimePoint At(int64_t ms) { return TimePoint(milliseconds(ms)); }
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
// 1970-01-01 was a Thursday (4).
int WeekdayOfDay(int64_t day) { return static_cast<int>(((day + 4) % 7 + 7) % 7); }

// Local day `day` (days since 1970-01-01 on the zone's calendar) at `minute_of_day`, as an
// instant: a skipped local time is the change that skipped it, a repeated one its first.
int64_t LocalToMs(const date::time_zone& zone, int64_t day, int minute_of_day) {
  const date::local_seconds local{std::chrono::seconds(day * 86400 + int64_t{minute_of_day} * 60)};
  const date::local_info info = zone.get_info(local);
  std::chrono::sys_seconds sys;
  if (info.result == date::local_info::nonexistent) {
    sys = std::chrono::sys_seconds(info.first.end.time_since_epoch());
  } else {
    sys = std::chrono::sys_seconds((local - info.first.offset).time_since_epoch());
  }
  return std::chrono::duration_cast<milliseconds>(sys.time_since_epoch()).count();
}

// The occurrence of day `d` (its local calendar), in ms.
int64_t OccurrenceMs(const ScheduleAt& at, int64_t d) {
  if (at.zone == nullptr) return d * kDayMs + int64_t{at.minute_of_day} * 60'000;
  return LocalToMs(*at.zone, d, at.minute_of_day);
}

// The day (local calendar) that instant `ms` falls on.
int64_t DayOf(const ScheduleAt& at, int64_t ms) {
  if (at.zone == nullptr) return FloorDiv(ms, kDayMs);
  const auto sys = std::chrono::floor<std::chrono::seconds>(At(ms));
  const auto info = at.zone->get_info(sys);
  return FloorDiv(ms + std::chrono::duration_cast<milliseconds>(info.offset).count(), kDayMs);
}

}  // namespace

Result<ScheduleAt> ParseAt(std::string_view text) {
  ScheduleAt at;
  if (text == "hourly") {
    at.every = seconds(3600);
    return at;
  }
  const size_t space = text.find(' ');
  if (space == std::string_view::npos || text.find(' ', space + 1) != std::string_view::npos) {
    return Bad(text, "not a schedule");
  }
  const std::string_view head = text.substr(0, space);
  const std::string_view tail = text.substr(space + 1);
  if (head == "every") {
    if (tail.size() < 2) return Bad(text, "a period is a number and s, m or h");
    const char unit = tail.back();
    const std::string_view digits = tail.substr(0, tail.size() - 1);
    if (digits.size() > 6) return Bad(text, "the period is above 24h");
    int64_t n = 0;
    for (char c : digits) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        return Bad(text, "a period is a number and s, m or h");
      }
      n = n * 10 + (c - '0');
    }
    const int64_t scale = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 0;
    if (scale == 0) return Bad(text, "a period is a number and s, m or h");
    if (n < 1) return Bad(text, "the period must be at least 1s");
    if (n * scale > 86400) return Bad(text, "the period is above 24h");
    at.every = seconds(n * scale);
    return at;
  }
  if (!ParseClock(tail, at.minute_of_day)) return Bad(text, "the time must be HH:MM, 00:00-23:59");
  if (head == "daily") {
    at.days = 0x7f;
    return at;
  }
  size_t start = 0;
  while (start <= head.size()) {
    const size_t comma = head.find(',', start);
    const std::string_view name =
        head.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const int d = Weekday(name);
    if (d < 0) return Bad(text, "unknown day " + Quoted(name));
    if (at.days & (1u << d)) return Bad(text, "day " + Quoted(name) + " twice");
    at.days = static_cast<uint8_t>(at.days | (1u << d));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return at;
}

Result<ScheduleAt> ParseAt(std::string_view text, std::string_view tz) {
  FERRY_ASSIGN_OR_RETURN(ScheduleAt at, ParseAt(text));
  if (tz.empty() || tz == "UTC") return at;
  try {
    at.zone = date::locate_zone(tz);
  } catch (const std::exception&) {
    return Status::InvalidArgument("tz " + Quoted(tz) +
                                   ": not a time zone of the tz database (e.g. \"Europe/Paris\", "
                                   "\"UTC\"; see /usr/share/zoneinfo)");
  }
  return at;
}

TimePoint NextAfter(const ScheduleAt& at, TimePoint t) {
  const int64_t now = Ms(t);
  if (at.every.count() > 0) {
    const int64_t p = at.every.count() * 1000;
    return At(FloorDiv(now, p) * p + p);
  }
  const int64_t day = DayOf(at, now);
  for (int64_t d = day - 1; d <= day + 8; ++d) {
    const int64_t occurrence = OccurrenceMs(at, d);
    if (((at.days >> WeekdayOfDay(d)) & 1) && occurrence > now) return At(occurrence);
  }
  return TimePoint::max();  // no day selected (ParseAt never returns that)
}

TimePoint LatestAtOrBefore(const ScheduleAt& at, TimePoint t) {
  const int64_t now = Ms(t);
  if (at.every.count() > 0) {
    const int64_t p = at.every.count() * 1000;
    return At(FloorDiv(now, p) * p);
  }
  const int64_t day = DayOf(at, now);
  for (int64_t d = day + 1; d >= day - 8; --d) {
    const int64_t occurrence = OccurrenceMs(at, d);
    if (((at.days >> WeekdayOfDay(d)) & 1) && occurrence <= now) return At(occurrence);
  }
  return TimePoint::min();
}

std::chrono::seconds Period(const ScheduleAt& at) {
  if (at.every.count() > 0) return at.every;
  int shortest = 7;
  int previous = -1;
  int first = -1;
  for (int d = 0; d < 7; ++d) {
    if (((at.days >> d) & 1) == 0) continue;
    if (previous >= 0 && d - previous < shortest) shortest = d - previous;
    if (first < 0) first = d;
    previous = d;
  }
  if (first >= 0 && first + 7 - previous < shortest) shortest = first + 7 - previous;
  return seconds(int64_t{shortest} * 86400);
}

}  // namespace ferry::serve
