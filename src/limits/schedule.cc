#include "limits/schedule.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace ferry::limits {
namespace {

constexpr int kMinutesPerDay = 24 * 60;
constexpr int kMinutesPerWeek = 7 * kMinutesPerDay;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Monday = 0.
int ParseDay(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kShort = {"mon", "tue", "wed", "thu",
                                                             "fri", "sat", "sun"};
  static constexpr std::array<std::string_view, 7> kLong = {
      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  const std::string d = Lower(text);
  for (int i = 0; i < 7; ++i) {
    if (d == kShort[i] || d == kLong[i]) return i;
  }
  return -1;
}

// "HH:MM" -> minute of the day, or -1.
int ParseTime(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() - colon != 3) {
    return -1;
  }
  int h = 0;
  int m = 0;
  const auto hr = std::from_chars(text.data(), text.data() + colon, h);
  const auto mr = std::from_chars(text.data() + colon + 1, text.data() + text.size(), m);
  if (hr.ec != std::errc() || hr.ptr != text.data() + colon || mr.ec != std::errc() ||
      mr.ptr != text.data() + text.size() || h < 0 || h > 23 || m < 0 || m > 59) {
    return -1;
  }
  return h * 60 + m;
}

Result<Rates> ParseRates(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    FERRY_ASSIGN_OR_RETURN(uint64_t both, ParseRate(text));
    return Rates{both, both};
  }
  FERRY_ASSIGN_OR_RETURN(uint64_t up, ParseRate(text.substr(0, colon)));
  FERRY_ASSIGN_OR_RETURN(uint64_t down, ParseRate(text.substr(colon + 1)));
  return Rates{up, down};
}

std::vector<std::string_view> Fields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ';' || text[i] == '\t')) ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != ';' && text[i] != '\t') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

}  // namespace

Result<uint64_t> ParseRate(std::string_view text) {
  const std::string t = Lower(text);
  if (t == "off") return uint64_t{0};
  const char* begin = t.data();
  const char* end = t.data() + t.size();
  double value = 0;
  const auto r = std::from_chars(begin, end, value);
  // "nan" and "inf" parse as numbers: neither is a rate (a NaN would pass every comparison below)
  if (r.ec != std::errc() || r.ptr == begin || !std::isfinite(value) || value < 0) {
    return Status::InvalidArgument("bad rate '" + std::string(text) +
                                   "' (a number with B, K, M, G, T or P, or \"off\")");
  }
  std::string_view suffix(r.ptr, static_cast<size_t>(end - r.ptr));
  if (suffix.ends_with("ib")) {
    suffix.remove_suffix(2);
  } else if (suffix.ends_with("i")) {
    suffix.remove_suffix(1);
  }
  double unit = 1024;  // no suffix: KiB
  if (suffix == "b") {
    unit = 1;
  } else if (suffix == "k") {
    unit = 1024.0;
  } else if (suffix == "m") {
    unit = 1024.0 * 1024;
  } else if (suffix == "g") {
    unit = 1024.0 * 1024 * 1024;
  } else if (suffix == "t") {
    unit = 1024.0 * 1024 * 1024 * 1024;
  } else if (suffix == "p") {
    unit = 1024.0 * 1024 * 1024 * 1024 * 1024;
  } else if (!suffix.empty()) {
    return Status::InvalidArgument("bad rate '" + std::string(text) +
                                   "' (a number with B, K, M, G, T or P, or \"off\")");
  }
  const double bytes = value * unit;
  if (bytes >= 9.0e18) return Status::InvalidArgument("rate '" + std::string(text) + "' too large");
  if (bytes > 0 && bytes < 1) {
    return Status::InvalidArgument("rate '" + std::string(text) + "' below 1 byte/s");
  }
  return static_cast<uint64_t>(bytes);
}

std::string FormatRate(uint64_t bytes_per_second) {
  if (bytes_per_second == 0) return "off";
  static constexpr std::array<std::string_view, 5> kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes_per_second);
  size_t u = 0;
  while (v >= 1024 && u + 1 < kUnits.size()) {
    v /= 1024;
    ++u;
  }
  return v == static_cast<double>(static_cast<uint64_t>(v))
             ? fmt::format("{} {}/s", static_cast<uint64_t>(v), kUnits[u])
             : fmt::format("{:.1f} {}/s", v, kUnits[u]);
}

Result<BandwidthSchedule> BandwidthSchedule::Parse(std::string_view text) {
  BandwidthSchedule s;
  s.text_ = std::string(text);
  const std::vector<std::string_view> fields = Fields(text);
  if (fields.empty()) return Status::InvalidArgument("empty --bwlimit");
  // one rate (no comma) stands alone
  if (fields.size() == 1 && fields[0].find(',') == std::string_view::npos) {
    FERRY_ASSIGN_OR_RETURN(Rates r, ParseRates(fields[0]));
    if (r.up != 0 || r.down != 0) s.slots_.push_back({0, r});
    return s;
  }
  std::vector<Slot> slots;
  for (std::string_view f : fields) {
    const size_t comma = f.find(',');
    if (comma == std::string_view::npos) {
      return Status::InvalidArgument("bad timetable slot '" + std::string(f) +
                                     "' (HH:MM,RATE or DAY-HH:MM,RATE)");
    }
    std::string_view when = f.substr(0, comma);
    int day = -1;  // every day
    if (const size_t dash = when.find('-'); dash != std::string_view::npos) {
      day = ParseDay(when.substr(0, dash));
      if (day < 0) {
        return Status::InvalidArgument("bad day '" + std::string(when.substr(0, dash)) +
                                       "' in timetable slot '" + std::string(f) +
                                       "' (Mon, Tue, Wed, Thu, Fri, Sat or Sun)");
      }
      when = when.substr(dash + 1);
    }
    const int minute = ParseTime(when);
    if (minute < 0) {
      return Status::InvalidArgument("bad time '" + std::string(when) + "' in timetable slot '" +
                                     std::string(f) + "' (HH:MM, 00:00 to 23:59)");
    }
    auto rates = ParseRates(f.substr(comma + 1));
    if (!rates.ok()) {
      return Status::InvalidArgument(rates.status().message() + " in timetable slot '" +
                                     std::string(f) + "'");
    }
    for (int d = 0; d < 7; ++d) {
      if (day >= 0 && d != day) continue;
      slots.push_back({d * kMinutesPerDay + minute, *rates});
    }
  }
  std::sort(slots.begin(), slots.end(),
            [](const Slot& a, const Slot& b) { return a.minute < b.minute; });
  for (size_t i = 1; i < slots.size(); ++i) {
    if (slots[i].minute == slots[i - 1].minute) {
      const int m = slots[i].minute;
      static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                                "Fri", "Sat", "Sun"};
      return Status::InvalidArgument(fmt::format("two timetable slots at {}-{:02}:{:02}",
                                                 kDays[m / kMinutesPerDay],
                                                 (m % kMinutesPerDay) / 60, m % 60));
    }
  }
  s.slots_ = std::move(slots);
  return s;
}

Rates BandwidthSchedule::At(int minute_of_week) const {
  if (slots_.empty()) return {};
  // the last slot at or before the minute; before the first, the week's last (wrap-around)
  auto it = std::upper_bound(slots_.begin(), slots_.end(), minute_of_week,
                             [](int m, const Slot& s) { return m < s.minute; });
  if (it == slots_.begin()) return slots_.back().rates;
  return std::prev(it)->rates;
}

int BandwidthSchedule::MinutesToNextChange(int minute_of_week) const {
  if (slots_.size() < 2) return kMinutesPerWeek;
  auto it = std::upper_bound(slots_.begin(), slots_.end(), minute_of_week,
                             [](int m, const Slot& s) { return m < s.minute; });
  if (it == slots_.end()) return kMinutesPerWeek - minute_of_week + slots_.front().minute;
  return it->minute - minute_of_week;
}

bool BandwidthSchedule::unlimited() const {
  return std::all_of(slots_.begin(), slots_.end(),
                     [](const Slot& s) { return s.rates.up == 0 && s.rates.down == 0; });
}

int BandwidthSchedule::MinuteOfWeek(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm local{};
  localtime_r(&tt, &local);
  const int monday_based = (local.tm_wday + 6) % 7;  // tm_wday: Sunday = 0
  return monday_based * kMinutesPerDay + local.tm_hour * 60 + local.tm_min;
}

Rates BandwidthSchedule::At(std::chrono::system_clock::time_point now) const {
  if (slots_.size() <= 1) return slots_.empty() ? Rates{} : slots_.front().rates;
  return At(MinuteOfWeek(now));
}

}  // namespace ferry::limits
