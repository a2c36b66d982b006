#include "checksum/checksum.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace ferry::checksum {
namespace {

TEST(Crc32cTest, MatchesStandardCheckValue) {
  EXPECT_EQ(Crc32c(AsBytes("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32c(AsBytes("")), 0u);
}

TEST(Crc32cTest, IncrementalEqualsWhole) {
  EXPECT_EQ(Crc32c(AsBytes("6789"), Crc32c(AsBytes("12345"))), 0xE3069283u);
}

TEST(Crc32cTest, CombineOfPartsEqualsCrcOfWhole) {
  std::mt19937 rng(7);
  std::vector<std::byte> data(1 << 20);
  for (auto& b : data) b = static_cast<std::byte>(rng());
  const uint32_t whole = Crc32c(data);
  for (size_t split : {size_t{0}, size_t{1}, size_t{4095}, size_t{65536}, data.size()}) {
    std::span<const std::byte> a(data.data(), split);
    std::span<const std::byte> b(data.data() + split, data.size() - split);
    EXPECT_EQ(Crc32cCombine(Crc32c(a), Crc32c(b), b.size()), whole) << "split " << split;
  }
}

TEST(DigestTest, KnownValues) {
  EXPECT_EQ(Hex(Md5(AsBytes(""))), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Md5Hasher h;
  h.Update(AsBytes("ab"));
  h.Update(AsBytes("c"));
  EXPECT_EQ(Hex(h.Finish()), "900150983cd24fb0d6963f7d28e17f72");
}

// RFC 4231 test cases 2 (short key) and 6 (a key longer than SHA-256's block, which HMAC
// hashes first), and digests computed one after another on one thread's reused context.
TEST(DigestTest, HmacSha256MatchesRfc4231AndContextsAreReusedCleanly) {
  EXPECT_EQ(Hex(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const std::string long_key(131, '\xaa');
  EXPECT_EQ(Hex(HmacSha256(AsBytes(long_key),
                           AsBytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Interleaved: a digest between two HMACs with different keys leaves nothing behind.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Md5(AsBytes("abc"))), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Hex(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(DigestTest, ManyThreadsHashAtOnceWithTheirOwnContexts) {
  std::vector<std::byte> data(16 * 1024);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 31 + 7);
  const Sha256Digest sha = Sha256(data);
  const Sha256Digest mac = HmacSha256(AsBytes("key"), data);
  const Md5Digest md5 = Md5(data);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (Sha256(data) != sha || HmacSha256(AsBytes("key"), data) != mac || Md5(data) != md5) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(EncodingTest, Base64RoundTripAndHex32) {
  const std::string s = "any carnal pleas";
  const std::string enc = Base64({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  EXPECT_EQ(enc, "YW55IGNhcm5hbCBwbGVhcw==");
  EXPECT_EQ(Base64Decode(enc), s);
  EXPECT_EQ(Hex32(0xE3069283u), "e3069283");
  EXPECT_EQ(ParseHex32("E3069283"), 0xE3069283u);
  EXPECT_FALSE(ParseHex32("xyz").has_value());
}

}  // namespace
}  // namespace ferry::checksum
