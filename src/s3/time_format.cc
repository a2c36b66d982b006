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

std::optional<system_clock::time_point> Compose(int y, int mo, int d, int h, int mi, int sec,
                                                std::chrono::microseconds frac) {
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return time_point_cast<system_clock::duration>(sys_days{ymd} + hours{h} + minutes{mi} +
                                                 seconds{sec} + frac);
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

std::optional<system_clock::time_point> ParseIso8601(std::string_view s) {
  size_t p = 0;
  int y, mo, d, h, mi, sec;
  if (!ReadDigits(s, p, 4, y) || !Expect(s, p, '-') || !ReadDigits(s, p, 2, mo) ||
      !Expect(s, p, '-') || !ReadDigits(s, p, 2, d) || !Expect(s, p, 'T') ||
      !ReadDigits(s, p, 2, h) || !Expect(s, p, ':') || !ReadDigits(s, p, 2, mi) ||
      !Expect(s, p, ':') || !ReadDigits(s, p, 2, sec)) {
    return std::nullopt;
  }
  std::chrono::microseconds frac{0};
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
    frac = std::chrono::microseconds(us);
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
  auto t = Compose(y, mo, d, h, mi, sec, frac);
  if (!t) return std::nullopt;
  return *t - std::chrono::minutes(offset_minutes);
}

std::optional<system_clock::time_point> ParseHttpDate(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  size_t p = 0;
  if (const size_t comma = s.find(','); comma != std::string_view::npos) p = comma + 1;
  while (p < s.size() && s[p] == ' ') ++p;
  int d, y, h, mi, sec;
  if (!ReadDigits(s, p, 2, d) || !Expect(s, p, ' ') || p + 3 > s.size()) return std::nullopt;
  int mo = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (s.substr(p, 3) == kMonths[i]) mo = static_cast<int>(i) + 1;
  }
  p += 3;
  if (mo == 0 || !Expect(s, p, ' ') || !ReadDigits(s, p, 4, y) || !Expect(s, p, ' ') ||
      !ReadDigits(s, p, 2, h) || !Expect(s, p, ':') || !ReadDigits(s, p, 2, mi) ||
      !Expect(s, p, ':') || !ReadDigits(s, p, 2, sec)) {
    return std::nullopt;
  }
  const std::string_view rest = s.substr(p);
  if (rest != " GMT" && rest != " UTC" && rest != " +0000") return std::nullopt;
  return Compose(y, mo, d, h, mi, sec, std::chrono::microseconds(0));
}

}  // namespace ferry::s3
