#include "plan/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::plan {
namespace {

struct Case {
  const char* pattern;
  const char* key;
  bool match;
};

const Case kCases[] = {
    // No '/': basename at any depth.
    {"*.jpg", "c.jpg", true},
    {"*.jpg", "a/b/c.jpg", true},
    {"*.jpg", "a/b/c.jpeg", false},
    {"*.jpg", "a.jpg/c.png", false},
    {"c.jpg", "a/c.jpg", true},
    {"c.jpg", "a/xc.jpg", false},
    {"*", "a/b", true},
    {"**.jpg", "a/b/c.jpg", true},
    // Leading '/': anchored at the root.
    {"/*.jpg", "c.jpg", true},
    {"/*.jpg", "a/c.jpg", false},
    {"/a/*", "a/b", true},
    {"/a/*", "x/a/b", false},
    // Other patterns with '/': the whole key.
    {"a/*.jpg", "a/c.jpg", true},
    {"a/*.jpg", "x/a/c.jpg", false},
    {"a/*.jpg", "a/b/c.jpg", false},
    {"a/**.jpg", "a/b/c.jpg", true},
    {"a/**", "a/b/c", true},
    {"a/**", "a/", true},
    {"a/**", "b/a/c", false},
    {"**/c.jpg", "a/b/c.jpg", true},
    {"**/c.jpg", "c.jpg", false},  // the '/' must be there
    {"a/**/c", "a/c", false},
    {"a/**/c", "a/b/c", true},
    {"a/**/c", "a/b/d/c", true},
    {"a/*/c", "a/b/d/c", false},
    {"a/b", "a/b", true},
    {"a/b", "a/bc", false},
    // '?'
    {"?.txt", "a.txt", true},
    {"?.txt", "ab.txt", false},
    {"a?b", "x/a-b", true},  // no '/' in the pattern: the basename "a-b"
    {"a?b", "a/b", false},   // ... so here only "b" is matched
    {"/a?b", "a/b", false},  // '?' never matches '/'
    {"/a?b", "axb", true},
    {"?", "\xC3\xA9", true},  // one character, two bytes
    {"??", "\xC3\xA9", false},
    // Classes.
    {"[abc].txt", "b.txt", true},
    {"[abc].txt", "d.txt", false},
    {"[a-c]x", "bx", true},
    {"[a-c]x", "dx", false},
    {"[!a]x", "bx", true},
    {"[!a]x", "ax", false},
    {"[^a]x", "bx", true},
    {"[]]x", "]x", true},
    {"[!]]x", "]x", false},
    {"[a-]x", "-x", true},
    {"[-a]x", "-x", true},
    {"[\\]]x", "]x", true},
    {"[\xC3\xA0-\xC3\xBF]", "\xC3\xA9", true},  // [à-ÿ] matches é
    {"[a-z]", "\xC3\xA9", false},
    {"/a[/]b", "a/b", false},  // a class never matches '/'
    {"/a[!x]b", "a/b", false},
    // Escapes.
    {"\\*.txt", "*.txt", true},
    {"\\*.txt", "a.txt", false},
    {"a\\?", "a?", true},
    {"a\\?", "ab", false},
    {"\\[a]", "[a]", true},
    // Stars at the edges and in runs.
    {"*", "", true},
    {"/**", "a/b/c", true},
    {"/a*", "a", true},
    {"/*a*b*", "xaybz", true},
    {"/*a*b*", "xbyaz", false},
    {"/***", "a/b", true},  // three stars act as "**"
    // Bytes that are not UTF-8 match only themselves.
    {"/\xFF", "\xFF", true},
    {"/?", "\xFF", true},
    {"/\xFF", "\xFE", false},
};

TEST(GlobTest, MatchesTable) {
  for (const Case& c : kCases) {
    Result<Glob> glob = Glob::Compile(c.pattern);
    ASSERT_TRUE(glob.ok()) << c.pattern << ": " << glob.status().ToString();
    EXPECT_EQ(glob->Matches(c.key), c.match)
        << "pattern \"" << c.pattern << "\" key \"" << c.key << "\"";
  }
}

TEST(GlobTest, MalformedPatternsAreInvalidArgumentNamingThePattern) {
  for (const char* pattern : {"[abc", "a[", "[!", "[]", "[z-a]", "abc\\", "", "/", "[a\\"}) {
    Result<Glob> glob = Glob::Compile(pattern);
    ASSERT_FALSE(glob.ok()) << pattern;
    EXPECT_EQ(glob.status().code(), ErrorCode::kInvalidArgument) << pattern;
    EXPECT_NE(glob.status().message().find("\"" + std::string(pattern) + "\""), std::string::npos)
        << glob.status().message();
  }
}

TEST(GlobTest, UnclosedBracketSaysSo) {
  Result<Glob> glob = Glob::Compile("*.[jp");
  ASSERT_FALSE(glob.ok());
  EXPECT_NE(glob.status().message().find("unclosed '['"), std::string::npos);
}

TEST(GlobTest, LongKeysDoNotBacktrack) {
  // A pattern that is exponential for a backtracking matcher.
  Result<Glob> glob = Glob::Compile("/*a*a*a*a*a*a*a*a*a*a*a*b");
  ASSERT_TRUE(glob.ok());
  EXPECT_FALSE(glob->Matches(std::string(1000, 'a')));
}

}  // namespace
}  // namespace ferry::plan
