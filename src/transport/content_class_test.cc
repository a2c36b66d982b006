#include "transport/content_class.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ferry::transport {
namespace {

TEST(ContentClassTest, ContentTypeFirst) {
  EXPECT_EQ(ContentClass("text/csv", "data/x.json"), "csv");
  EXPECT_EQ(ContentClass("Application/JSON; charset=utf-8", "a.bin"), "json");
  EXPECT_EQ(ContentClass("application/vnd.api+json", "a"), "json");
  EXPECT_EQ(ContentClass("application/soap+xml", "a"), "xml");
  EXPECT_EQ(ContentClass("image/png", "a.csv"), "image");
  EXPECT_EQ(ContentClass("text/x-unknown", "a"), "text");
  EXPECT_EQ(ContentClass("  application/gzip ", "a.csv"), "compressed");
}

TEST(ContentClassTest, GenericTypeFallsBackToTheExtension) {
  EXPECT_EQ(ContentClass("application/octet-stream", "logs/2026/app.LOG"), "log");
  EXPECT_EQ(ContentClass("binary/octet-stream", "t.Parquet"), "parquet");
  EXPECT_EQ(ContentClass("", "dir.v2/readme.md"), "text");
  EXPECT_EQ(ContentClass("", "archive.tar.gz"), "compressed");
}

TEST(ContentClassTest, OtherWhenNothingIsKnown) {
  EXPECT_EQ(ContentClass("", "noext"), "other");
  EXPECT_EQ(ContentClass("", "dir.d/noext"), "other");
  EXPECT_EQ(ContentClass("", ".profile"), "other");
  EXPECT_EQ(ContentClass("", "trailing."), "other");
  EXPECT_EQ(ContentClass("application/x-weird", "a.weird"), "other");
}

TEST(ContentClassTest, EveryResultIsOneOfTheFixedClasses) {
  const char* types[] = {"", "text/csv", "application/x-ndjson", "video/mp4", "audio/ogg",
                         "application/pdf", "application/zip", "application/msword", "x/y"};
  const char* keys[] = {"a", "a.csv", "a.c", "a.sql", "a.onnx", "a.bin", "a.xlsx", "a.html",
                        "a.mkv", "a.flac", "a.jpeg", "a.pdf", "a.xml", "a.txt", "a.zz"};
  for (const char* t : types) {
    for (const char* k : keys) {
      const std::string_view c = ContentClass(t, k);
      EXPECT_NE(std::find(kContentClasses.begin(), kContentClasses.end(), c),
                kContentClasses.end())
          << t << " " << k << " -> " << c;
    }
  }
}

}  // namespace
}  // namespace ferry::transport
