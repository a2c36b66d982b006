// Glob: one compiled --include/--exclude pattern, matched against object keys. Used by
// plan::Filter (filter.h); exposed on its own so that its semantics have their own tests.
//
// Syntax (rclone-like, matched on UTF-8 code points; bytes that are not valid UTF-8 match only
// themselves):
//   *        any run of characters except '/' (possibly empty)
//   **       any run of characters including '/' (possibly empty)
//   ?        exactly one character except '/'
//   [abc]    one character from the set; [a-z] ranges; [!a] or [^a] negates; a ']' right
//            after '[' (or '[!') is literal; a '-' first or last is literal. A class never
//            matches '/'.
//   \c       the character c literally (also inside a class)
// Anchoring:
//   - a pattern with no '/' matches the key's basename (the part after the last '/') at any
//     depth: "*.jpg" matches "c.jpg" and "a/b/c.jpg";
//   - a pattern starting with '/' matches the whole key from the root ("/" is removed first):
//     "/*.jpg" matches "c.jpg" but not "a/c.jpg";
//   - any other pattern also matches the whole key: "a/*.jpg" matches "a/c.jpg" only.
// Keys never start with '/'. Matching costs O(key length x pattern length); no backtracking.
//
// Thread-safety: immutable after Compile; Matches may be called from many threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry::plan {

class Glob {
 public:
  // kInvalidArgument, naming the pattern, for an unclosed '[', a reversed range ("[z-a]"), a
  // trailing '\' or an empty pattern.
  static Result<Glob> Compile(std::string_view pattern);

  bool Matches(std::string_view key) const;

  const std::string& pattern() const { return pattern_; }

 private:
  enum class Kind { kLiteral, kOne, kClass, kStar, kStarStar };
  struct Range {
    char32_t lo, hi;
  };
  struct Token {
    Kind kind = Kind::kLiteral;
    char32_t literal = 0;       // kLiteral
    bool negated = false;       // kClass
    std::vector<Range> ranges;  // kClass
  };

  Glob() = default;
  bool TokenAccepts(const Token& token, char32_t c) const;
  bool MatchesText(std::string_view text) const;

  std::string pattern_;
  bool basename_only_ = false;
  std::vector<Token> tokens_;
};

}  // namespace ferry::plan
