#include "plan/glob.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace ferry::plan {
namespace {

// Bytes that are not valid UTF-8 decode to kRawByteBase + byte: outside Unicode, so they only
// ever equal themselves.
constexpr char32_t kRawByteBase = 0x110000;

// Decodes the code point at s[*i] and advances *i past it.
char32_t DecodeOne(std::string_view s, size_t* i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(*i);
  int len;
  char32_t cp;
  if (b0 < 0x80) {
    ++*i;
    return b0;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07;
  } else {
    ++*i;
    return kRawByteBase + b0;
  }
  if (*i + len > s.size()) {
    ++*i;
    return kRawByteBase + b0;
  }
  for (int k = 1; k < len; ++k) {
    uint8_t b = byte(*i + k);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return kRawByteBase + b0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return kRawByteBase + b0;
  }
  *i += len;
  return cp;
}

Status Malformed(std::string_view pattern, std::string_view why) {
  return Status::InvalidArgument("bad filter pattern \"" + std::string(pattern) +
                                 "\": " + std::string(why));
}

}  // namespace

Result<Glob> Glob::Compile(std::string_view pattern) {
  Glob glob;
  glob.pattern_ = std::string(pattern);
  std::string_view p = pattern;
  bool anchored = !p.empty() && p.front() == '/';
  if (anchored) p.remove_prefix(1);
  if (p.empty()) return Malformed(pattern, "empty pattern");

  bool has_slash = false;
  size_t i = 0;
  // Reads one possibly escaped character of a class; fails at the end of the pattern.
  auto class_char = [&](char32_t* out) -> bool {
    if (i < p.size() && p[i] == '\\') ++i;
    if (i >= p.size()) return false;
    *out = DecodeOne(p, &i);
    return true;
  };
  while (i < p.size()) {
    Token token;
    char c = p[i];
    if (c == '\\') {
      ++i;
      if (i == p.size()) return Malformed(pattern, "trailing '\\'");
      token.literal = DecodeOne(p, &i);
    } else if (c == '*') {
      size_t run = 0;
      while (i < p.size() && p[i] == '*') ++i, ++run;
      token.kind = run == 1 ? Kind::kStar : Kind::kStarStar;
    } else if (c == '?') {
      ++i;
      token.kind = Kind::kOne;
    } else if (c == '[') {
      ++i;
      token.kind = Kind::kClass;
      if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
        token.negated = true;
        ++i;
      }
      bool first = true;
      while (true) {
        if (i >= p.size()) return Malformed(pattern, "unclosed '['");
        if (p[i] == ']' && !first) {
          ++i;
          break;
        }
        first = false;
        Range range;
        if (!class_char(&range.lo)) return Malformed(pattern, "unclosed '['");
        range.hi = range.lo;
        if (i + 1 < p.size() && p[i] == '-' && p[i + 1] != ']') {
          ++i;
          if (!class_char(&range.hi)) return Malformed(pattern, "unclosed '['");
          if (range.hi < range.lo) return Malformed(pattern, "reversed range in '[...]'");
        }
        token.ranges.push_back(range);
      }
    } else {
      token.literal = DecodeOne(p, &i);
    }
    if (token.kind == Kind::kLiteral && token.literal == U'/') has_slash = true;
    glob.tokens_.push_back(std::move(token));
  }
  glob.basename_only_ = !anchored && !has_slash;
  return glob;
}

bool Glob::TokenAccepts(const Token& token, char32_t c) const {
  switch (token.kind) {
    case Kind::kLiteral:
      return c == token.literal;
    case Kind::kOne:
      return c != U'/';
    case Kind::kClass: {
      if (c == U'/') return false;
      bool in = false;
      for (const Range& r : token.ranges) in = in || (r.lo <= c && c <= r.hi);
      return in != token.negated;
    }
    case Kind::kStar:
    case Kind::kStarStar:
      break;
  }
  return false;
}

// Simulates the pattern as an NFA whose states are token positions; a star state loops on
// itself. The set of live states is kept per character, so there is no backtracking.
bool Glob::MatchesText(std::string_view text) const {
  const size_t m = tokens_.size();
  std::vector<char> live(m + 1, 0), next(m + 1, 0);
  auto close = [&](std::vector<char>& set) {
    // A star may match nothing: being before it means being after it too.
    for (size_t k = 0; k < m; ++k) {
      if (set[k] && (tokens_[k].kind == Kind::kStar || tokens_[k].kind == Kind::kStarStar)) {
        set[k + 1] = 1;
      }
    }
  };
  live[0] = 1;
  close(live);
  size_t i = 0;
  while (i < text.size()) {
    char32_t c = DecodeOne(text, &i);
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    for (size_t k = 0; k < m; ++k) {
      if (!live[k]) continue;
      const Token& t = tokens_[k];
      if (t.kind == Kind::kStarStar || (t.kind == Kind::kStar && c != U'/')) {
        next[k] = 1, any = true;
      } else if (TokenAccepts(t, c)) {
        next[k + 1] = 1, any = true;
      }
    }
    if (!any) return false;
    close(next);
    live.swap(next);
  }
  return live[m] != 0;
}

bool Glob::Matches(std::string_view key) const {
  if (basename_only_) {
    size_t slash = key.rfind('/');
    if (slash != std::string_view::npos) key.remove_prefix(slash + 1);
  }
  return MatchesText(key);
}

}  // namespace ferry::plan
