#include "state/state_url.h"

#include <gtest/gtest.h>

namespace ferry::state {
namespace {

TEST(ParseStateUrlTest, SqliteForms) {
  struct Case {
    const char* url;
    const char* path;
  } cases[] = {
      {"sqlite:///var/lib/ferry/state.db", "/var/lib/ferry/state.db"},
      {"sqlite://state.db", "state.db"},
      {"SQLite://dir/state.db", "dir/state.db"},
      {"/abs/state.db", "/abs/state.db"},
      {"rel/state.db", "rel/state.db"},
      {"state:1.db", "state:1.db"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseStateUrl(c.url);
    ASSERT_TRUE(parsed.ok()) << c.url << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->type, StoreType::kSqlite) << c.url;
    EXPECT_EQ(parsed->target, c.path) << c.url;
  }
}

TEST(ParseStateUrlTest, PostgresFormsKeepTheWholeUrl) {
  for (const char* url : {"postgres://u:p@h:5432/db", "postgresql://h/db", "postgres://"}) {
    auto parsed = ParseStateUrl(url);
    ASSERT_TRUE(parsed.ok()) << url;
    EXPECT_EQ(parsed->type, StoreType::kPostgres);
    EXPECT_EQ(parsed->target, url);
  }
}

TEST(ParseStateUrlTest, MalformedUrlsAreOneClearLine) {
  for (const char* url : {"", "mysql://x", "sqlite://", "postgres:x", "sqlite:/x", "http://h/p"}) {
    auto parsed = ParseStateUrl(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(parsed.status().message().rfind("malformed state URL", 0), 0u)
        << parsed.status().message();
    EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos);
  }
}

TEST(ParseStateUrlTest, MalformedMessageHidesThePassword) {
  auto parsed = ParseStateUrl("mysql://root:hunter2@db/x");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().find("hunter2"), std::string::npos)
      << parsed.status().message();
}

TEST(RedactUrlTest, DropsUserinfoPasswordAndPasswordParameters) {
  EXPECT_EQ(RedactUrl("postgres://u:secret@h:5432/db"), "postgres://u@h:5432/db");
  EXPECT_EQ(RedactUrl("postgres://u:@h/db"), "postgres://u@h/db");
  EXPECT_EQ(RedactUrl("postgres://u:p@ss@h/db"), "postgres://u@h/db");
  EXPECT_EQ(RedactUrl("postgres://u@h/db?password=x"), "postgres://u@h/db");
  EXPECT_EQ(RedactUrl("postgres://h/db?password=x&sslmode=require"),
            "postgres://h/db?sslmode=require");
  EXPECT_EQ(RedactUrl("postgres://h/db?sslmode=require&password=x"),
            "postgres://h/db?sslmode=require");
  EXPECT_EQ(RedactUrl("postgres://h/db?a=1&password=x&b=2"), "postgres://h/db?a=1&b=2");
  EXPECT_EQ(RedactUrl("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(RedactUrl("/plain/path:with@signs"), "/plain/path:with@signs");
}

TEST(ScrubMessageTest, ReplacesTheUrlAndThePassword) {
  const std::string url = "postgres://u:s%40cret@h/db?password=other";
  const std::string scrubbed =
      ScrubMessage("bad URI \"" + url + "\"; token s%40cret; s@cret; other", url);
  EXPECT_EQ(scrubbed.find("cret"), std::string::npos) << scrubbed;
  EXPECT_EQ(scrubbed.find("other"), std::string::npos) << scrubbed;
  EXPECT_NE(scrubbed.find("postgres://u@h/db"), std::string::npos) << scrubbed;
}

}  // namespace
}  // namespace ferry::state
