#include "lists/line_source.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"

namespace ferry::lists {
namespace {

// One gzip member of `text` (zlib's deflate with the gzip wrapper).
std::string GzipOf(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A source that hands out at most one byte per Read: every chunk edge is crossed.
class TrickleSource : public ByteSource {
 public:
  explicit TrickleSource(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> Read(std::span<char> out) override {
    if (at_ == bytes_.size() || out.empty()) return size_t{0};
    out[0] = bytes_[at_++];
    return size_t{1};
  }
  const std::string& name() const override { return name_; }

 private:
  std::string bytes_;
  std::string name_ = "trickle";
  size_t at_ = 0;
};

struct ReadAll {
  std::vector<std::string> lines;
  Status status;
};

ReadAll Lines(std::unique_ptr<ByteSource> source, LineSource::Options options = {}) {
  LineSource reader(std::move(source), options);
  ReadAll all;
  for (;;) {
    auto line = reader.Next();
    if (!line.ok()) {
      all.status = line.status();
      return all;
    }
    if (!line->has_value()) return all;
    all.lines.emplace_back(**line);
  }
}

ReadAll Lines(const std::string& bytes, LineSource::Options options = {}) {
  return Lines(MemorySource(bytes, "list.txt"), options);
}

using Strings = std::vector<std::string>;

TEST(LineSourceTest, PlainLinesWithAndWithoutAFinalNewline) {
  EXPECT_EQ(Lines("a\nb\n").lines, (Strings{"a", "b"}));
  EXPECT_EQ(Lines("a\nb").lines, (Strings{"a", "b"}));
  EXPECT_EQ(Lines("").lines, Strings{});
  EXPECT_EQ(Lines("\n").lines, Strings{""});
  EXPECT_EQ(Lines("a\n\n b \n").lines, (Strings{"a", "", " b "}));  // nothing trimmed
}

TEST(LineSourceTest, CrLfEndingsAreDroppedAndALoneCrIsKept) {
  EXPECT_EQ(Lines("a\r\nb\r\n").lines, (Strings{"a", "b"}));
  EXPECT_EQ(Lines("a\rb\r\nc\r").lines, (Strings{"a\rb", "c"}));
}

TEST(LineSourceTest, GzipIsDetectedByItsMagicBytesAndDecoded) {
  LineSource reader(MemorySource(GzipOf("x/1\r\nx/2\nx/3"), "list.gz"));
  Strings lines;
  for (;;) {
    auto line = reader.Next();
    ASSERT_TRUE(line.ok()) << line.status().ToString();
    if (!line->has_value()) break;
    lines.emplace_back(**line);
    EXPECT_EQ(reader.line_number(), lines.size());
  }
  EXPECT_TRUE(reader.gzip());
  EXPECT_EQ(lines, (Strings{"x/1", "x/2", "x/3"}));
}

TEST(LineSourceTest, ConcatenatedGzipMembersAreOneStream) {
  EXPECT_EQ(Lines(GzipOf("a\nb") + GzipOf("c\n")).lines, (Strings{"a", "bc"}));
  EXPECT_EQ(Lines(GzipOf("")).lines, Strings{});
}

TEST(LineSourceTest, ALargeGzipStreamAcrossManyChunks) {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "prefix/key-" + std::to_string(i) + "\n";
  ReadAll all = Lines(GzipOf(text));
  ASSERT_TRUE(all.status.ok()) << all.status.ToString();
  ASSERT_EQ(all.lines.size(), 100000u);
  EXPECT_EQ(all.lines[99999], "prefix/key-99999");
}

TEST(LineSourceTest, ByteByByteSourcesGiveTheSameLines) {
  EXPECT_EQ(Lines(std::make_unique<TrickleSource>("a\r\nbb\nccc")).lines,
            (Strings{"a", "bb", "ccc"}));
  EXPECT_EQ(Lines(std::make_unique<TrickleSource>(GzipOf("a\r\nbb\nccc"))).lines,
            (Strings{"a", "bb", "ccc"}));
}

TEST(LineSourceTest, ATruncatedGzipIsOneErrorNamingTheFile) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "key-" + std::to_string(i) + "\n";
  const std::string gz = GzipOf(text);
  for (size_t cut : {gz.size() - 1, gz.size() - 8, gz.size() / 2, size_t{5}}) {
    ReadAll all = Lines(gz.substr(0, cut));
    EXPECT_EQ(all.status.code(), ErrorCode::kInvalidArgument) << cut;
    EXPECT_EQ(all.status.message(), "list.txt: truncated gzip stream") << cut;
  }
}

TEST(LineSourceTest, CorruptGzipIsOneErrorNamingTheFile) {
  std::string gz = GzipOf("some keys\nand more keys\n");
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0x55;  // the trailer's CRC-32
  ReadAll all = Lines(bad_crc);
  EXPECT_EQ(all.status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(all.status.message().find("list.txt: corrupt gzip data"), std::string::npos)
      << all.status.ToString();
  std::string bad_body = gz;
  bad_body[12] = static_cast<char>(0xff);
  bad_body[13] = static_cast<char>(0xff);
  EXPECT_EQ(Lines(bad_body).status.code(), ErrorCode::kInvalidArgument);
  // Garbage after a complete member.
  all = Lines(gz + "junk");
  EXPECT_EQ(all.status.message(),
            "list.txt: corrupt gzip data (bytes after the end of the gzip stream)");
}

TEST(LineSourceTest, ALineLongerThanTheLimitIsRefusedWithItsNumber) {
  LineSource::Options options;
  options.max_line = 10;
  EXPECT_EQ(Lines("a\n0123456789\n", options).lines, (Strings{"a", "0123456789"}));
  EXPECT_EQ(Lines("a\n0123456789\r\n", options).lines, (Strings{"a", "0123456789"}));
  ReadAll all = Lines("a\nb\n0123456789x\nc\n", options);
  EXPECT_EQ(all.lines, (Strings{"a", "b"}));
  EXPECT_EQ(all.status.message(), "list.txt:3: line longer than 10 bytes");
  // A line that never ends is refused without being read to its end (bounded memory).
  all = Lines(std::string(1u << 20, 'x') + "\n");
  EXPECT_EQ(all.status.message(), "list.txt:1: line longer than 65536 bytes");
  all = Lines(GzipOf("ok\n" + std::string(1u << 20, 'x')));
  EXPECT_EQ(all.status.message(), "list.txt:2: line longer than 65536 bytes");
}

TEST(LineSourceTest, AnErrorIsReturnedAgainByLaterCalls) {
  LineSource reader(MemorySource(GzipOf("a\nb\n").substr(0, 10), "f"));
  EXPECT_FALSE(reader.Next().ok());
  EXPECT_FALSE(reader.Next().ok());
}

TEST(LineSourceTest, AnObjectIsReadInRanges) {
  storage::MemoryBackend store;
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "k" + std::to_string(i) + "\n";
  const std::string gz = GzipOf(text);
  storage::WriteSpec spec;
  spec.size = gz.size();
  ASSERT_TRUE(store.Put("lists/keys.gz", checksum::AsBytes(gz), spec, {}).ok());
  auto source = OpenObjectSource(store, "lists/keys.gz", {}, "s3://b/lists/keys.gz", 100);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  ReadAll all = Lines(std::move(*source));
  ASSERT_TRUE(all.status.ok()) << all.status.ToString();
  ASSERT_EQ(all.lines.size(), 3000u);
  EXPECT_EQ(all.lines.back(), "k2999");

  auto missing = OpenObjectSource(store, "lists/none", {}, "s3://b/lists/none");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("s3://b/lists/none"), std::string::npos);
}

TEST(LineSourceTest, AFileIsReadAndAMissingOneNamed) {
  auto missing = OpenFileSource("/nonexistent/keys.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/keys.txt"), std::string::npos);
  auto folder = OpenFileSource("/tmp");
  ASSERT_FALSE(folder.ok());
  EXPECT_EQ(folder.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::lists
