// Key decoding, UTF-8 and event time checks for the events parsers.
#include <cstdint>

#include "base/form_decode.h"
#include "events/parse_internal.h"

namespace ferry::events::internal {
namespace {

// A cursor over a time stamp: each read takes a fixed shape or fails.
class TimeText {
 public:
  explicit TimeText(std::string_view s) : s_(s) {}

  bool Number(int width, int& out) {
    if (pos_ + width > s_.size()) return false;
    int v = 0;
    for (int i = 0; i < width; ++i) {
      const char c = s_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos_ += width;
    out = v;
    return true;
  }
  bool Literal(char c) {
    if (pos_ >= s_.size() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  // Digits after a '.', as nanoseconds (digits past the ninth are read and dropped).
  bool Fraction(std::chrono::nanoseconds& out) {
    int64_t ns = 0, scale = 100'000'000;
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      ns += (s_[pos_] - '0') * scale;
      scale /= 10;
      ++pos_;
    }
    out = std::chrono::nanoseconds(ns);
    return pos_ > start;
  }
  bool AtEnd() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::string> FormDecode(std::string_view s) { return ferry::FormDecode(s); }

bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    int extra;
    uint32_t cp;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      extra = 1;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      extra = 2;
      cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      extra = 3;
      cp = b & 0x07;
    } else {
      return false;  // a continuation byte first, an overlong lead (C0, C1) or past F4
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const uint32_t smallest = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000;
    if (cp < smallest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

std::optional<std::chrono::system_clock::time_point> ParseEventTime(std::string_view s) {
  using namespace std::chrono;
  TimeText t(s);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;  // set by Number or never read
  if (!t.Number(4, y) || !t.Literal('-') || !t.Number(2, mo) || !t.Literal('-') ||
      !t.Number(2, d) || !t.Literal('T') || !t.Number(2, h) || !t.Literal(':') ||
      !t.Number(2, mi) || !t.Literal(':') || !t.Number(2, sec)) {
    return std::nullopt;
  }
  nanoseconds fraction{0};
  if (t.Literal('.') && !t.Fraction(fraction)) return std::nullopt;
  minutes offset{0};
  // No zone at all: UTC. moto, the AWS emulator, sends its S3 notifications' times that way;
  // S3 itself always says 'Z'.
  if (!t.AtEnd() && !t.Literal('Z')) {
    const bool minus = t.Peek('-');
    if (!t.Literal('+') && !t.Literal('-')) return std::nullopt;
    int oh, om;
    if (!t.Number(2, oh) || !t.Literal(':') || !t.Number(2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = minutes(oh * 60 + om) * (minus ? -1 : 1);
  }
  if (!t.AtEnd()) return std::nullopt;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  // only the years system_clock's int64 nanoseconds hold (1677-2262), whole: the conversion of
  // any other would overflow (found by fuzz_events with the year 1012)
  if (y < 1678 || y > 2261) return std::nullopt;
  const auto local = sys_days{date} + hours{h} + minutes{mi} + seconds{sec} + fraction;
  return time_point_cast<system_clock::duration>(local - offset);
}

}  // namespace ferry::events::internal
