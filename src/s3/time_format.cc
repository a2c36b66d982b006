#include "s3/time_format.h"

#include <array>
#include <cstdio>

namespace ferry::s3 {
namespace {

using std::chrono::system_clock;

// Reads exactly `n` digits at s[pos..]; advances pos.
bool ReadDigits(std::string_view s, size_t& pos, int n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += n;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

// A date and time of day as a text writes it (UTC), not yet checked.
struct CivilTime {
  int year = 0;
  int month = 0;   // 1..12
  int day = 0;     // 1..31
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  int second = 0;  // 0..60 (a leap second)
  std::chrono::microseconds fraction{0};  // of the second
};

// The years system_clock's nanoseconds hold (int64: 1677-09-21 to 2262-04-11), whole.
constexpr int kFirstYear = 1678;
constexpr int kLastYear = 2261;

// The time point of `c`; nullopt when it names no such day or time, or one the clock cannot
// hold (the conversion would overflow: a store's year 4052 is refused, not undefined).
std::optional<system_clock::time_point> Compose(const CivilTime& c) {
  using namespace std::chrono;
  if (c.year < kFirstYear || c.year > kLastYear) return std::nullopt;
  const year_month_day ymd{year{c.year}, month{static_cast<unsigned>(c.month)},
                           day{static_cast<unsigned>(c.day)}};
  if (!ymd.ok() || c.hour > 23 || c.minute > 59 || c.second > 60) return std::nullopt;
  return time_point_cast<system_clock::duration>(sys_days{ymd} + hours{c.hour} +
                                                 minutes{c.minute} + seconds{c.second} +
                                                 c.fraction);
}

}  // namespace

std::string FormatAmzDate(system_clock::time_point t) {
  using namespace std::chrono;
  const auto day_point = floor<days>(t);
  const year_month_day ymd{day_point};
  const hh_mm_ss hms{floor<seconds>(t - day_point)};
  std::array<char, 48> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return std::string(buf.data(), 16);
}

std::string FormatIso8601(system_clock::time_point t) {
  using namespace std::chrono;
  const auto day_point = floor<days>(t);
  const year_month_day ymd{day_point};
  const hh_mm_ss hms{floor<milliseconds>(t - day_point)};
  std::array<char, 64> buf{};
  const int n = std::snprintf(
      buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
      static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return std::string(buf.data(), n > 0 ? static_cast<size_t>(n) : 0);
}

std::optional<system_clock::time_point> ParseIso8601(std::string_view s) {
  size_t p = 0;
  CivilTime c;
  if (!ReadDigits(s, p, 4, c.year) || !Expect(s, p, '-') || !ReadDigits(s, p, 2, c.month) ||
      !Expect(s, p, '-') || !ReadDigits(s, p, 2, c.day) || !Expect(s, p, 'T') ||
      !ReadDigits(s, p, 2, c.hour) || !Expect(s, p, ':') || !ReadDigits(s, p, 2, c.minute) ||
      !Expect(s, p, ':') || !ReadDigits(s, p, 2, c.second)) {
    return std::nullopt;
  }
  if (p < s.size() && s[p] == '.') {
    ++p;
    int64_t scale = 100000, us = 0;
    const size_t start = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      us += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return std::nullopt;
    c.fraction = std::chrono::microseconds(us);
  }
  int offset_minutes = 0;
  if (p < s.size() && s[p] == 'Z') {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh, om;
    if (!ReadDigits(s, p, 2, oh) || !Expect(s, p, ':') || !ReadDigits(s, p, 2, om)) {
      return std::nullopt;
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  auto t = Compose(c);
  if (!t) return std::nullopt;
  return *t - std::chrono::minutes(offset_minutes);
}

std::optional<system_clock::time_point> ParseHttpDate(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  size_t p = 0;
  if (const size_t comma = s.find(','); comma != std::string_view::npos) p = comma + 1;
  while (p < s.size() && s[p] == ' ') ++p;
  CivilTime c;
  if (!ReadDigits(s, p, 2, c.day) || !Expect(s, p, ' ') || p + 3 > s.size()) return std::nullopt;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (s.substr(p, 3) == kMonths[i]) c.month = static_cast<int>(i) + 1;
  }
  p += 3;
  if (c.month == 0 || !Expect(s, p, ' ') || !ReadDigits(s, p, 4, c.year) ||
      !Expect(s, p, ' ') || !ReadDigits(s, p, 2, c.hour) || !Expect(s, p, ':') ||
      !ReadDigits(s, p, 2, c.minute) || !Expect(s, p, ':') || !ReadDigits(s, p, 2, c.second)) {
    return std::nullopt;
  }
  const std::string_view rest = s.substr(p);
  if (rest != " GMT" && rest != " UTC" && rest != " +0000") return std::nullopt;
  return Compose(c);
}

}  // namespace ferry::s3
