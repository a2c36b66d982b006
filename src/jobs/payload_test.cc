#include "jobs/payload.h"

#include <gtest/gtest.h>

#include "jobs/move_sources.h"

namespace ferry::jobs {
namespace {

const std::vector<std::string> kKeys = {"a", "a b/%2F+", "ü/日本語", "caf\xE9", "\xFF\xFE",
                                        std::string("x\0y", 3), std::string(1024, 'k')};

TEST(PayloadTest, ScanRangesRoundTrip) {
  for (const std::string& a : kKeys) {
    for (const std::optional<std::string>& b :
         {std::optional<std::string>(), std::optional<std::string>(a + "\xF4\x8F\xBF\xBF")}) {
      const KeyRange range{a, b};
      auto back = DecodeScan(EncodeScan(range));
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      EXPECT_EQ(*back, range);
    }
  }
  EXPECT_EQ(DecodeScan(EncodeScan(KeyRange{})).value(), KeyRange{});
}

TEST(PayloadTest, ScanPayloadsOfEarlierVersionsHaveNoEnd) {
  auto range = DecodeScan(R"({"start_after":"k"})");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, (KeyRange{"k", std::nullopt}));
}

TEST(PayloadTest, KeysOfTransfersAndDeletesRoundTripByteForByte) {
  std::vector<transfer::CopyRequest> objects;
  for (const std::string& k : kKeys) {
    transfer::CopyRequest r;
    r.src.key = k;
    r.src.size = k.size();
    objects.push_back(r);
  }
  auto back = DecodeTransfer(EncodeTransfer(objects));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), kKeys.size());
  for (size_t i = 0; i < kKeys.size(); ++i) {
    EXPECT_EQ((*back)[i].src.key, kKeys[i]);
    EXPECT_EQ((*back)[i].src.size, kKeys[i].size());
  }
  EXPECT_EQ(DecodeDelete(EncodeDelete(kKeys)).value(), kKeys);
}

// A run records the command that started it; runs stored before that decode with "".
// A transfer object names its source version only when it is not the current one: the
// payload of a current version is what older ferry wrote, and older payloads decode as current.
TEST(PayloadTest, TransferObjectsCarryVersionIdsOnlyWhenSet) {
  std::vector<transfer::CopyRequest> objects(2);
  objects[0].src.key = "a";
  objects[0].src.version_id = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY";
  objects[1].src.key = "b";
  const std::string text = EncodeTransfer(objects);
  EXPECT_EQ(text.find("\"v\""), text.rfind("\"v\"")) << "one object has a version: " << text;
  EXPECT_NE(text.find("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"), std::string::npos);
  auto back = DecodeTransfer(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0].src.version_id, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
  EXPECT_EQ((*back)[1].src.version_id, "");
  // As written before versions existed.
  auto old = DecodeTransfer(
      R"({"objects":[{"k":"x","s":5,"e":"e1","m":0,"c":"","d":false,"r":"new","x":false}]})");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ((*old)[0].src.version_id, "");
  EXPECT_EQ((*old)[0].src.etag, "e1");
}

// Each failed object keeps its own error ("f"); objects without one, and payloads written
// before errors were kept, decode with "".
TEST(PayloadTest, TransferObjectsKeepTheirOwnErrors) {
  std::vector<transfer::CopyRequest> objects(3);
  objects[0].src.key = "a";
  objects[1].src.key = "b";
  objects[2].src.key = "c";
  const std::string text = EncodeTransfer(objects, {"a: denied", "", "c: gone"});
  auto errors = DecodeTransferErrors(text);
  ASSERT_TRUE(errors.ok()) << errors.status().ToString();
  EXPECT_EQ(*errors, (std::vector<std::string>{"a: denied", "", "c: gone"}));
  auto back = DecodeTransfer(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 3u);
  EXPECT_EQ(PeekTransfer(text)->objects, 3u);
  EXPECT_EQ(EncodeTransfer(objects).find("\"f\""), std::string::npos) << "no errors: no \"f\"";
  auto old = DecodeTransferErrors(
      R"({"objects":[{"k":"x","s":5,"e":"e1","m":0,"c":"","d":false,"r":"new","x":false}]})");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*old, (std::vector<std::string>{""}));
}

TEST(PayloadTest, RunOptionsKeepTheCommandAndOldRunsDecode) {
  RunOptions o;
  o.command = "sync";
  o.delete_extra = true;
  auto back = DecodeRunOptions(EncodeRunOptions(o));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->command, "sync");
  EXPECT_TRUE(back->delete_extra);
  auto old = DecodeRunOptions(
      R"({"delete":true,"filter":{"include":[],"exclude":[]},"decide":{"checksum":false,)"
      R"("size_only":false,"update":false},"multipart_threshold":1,"part_size":2,)"
      R"("server_side_copy_limit":3,"storage_class":"","max_attempts":5})");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->command, "");
  EXPECT_TRUE(old->delete_extra);
}

// --preserve-lock and --acl/--grants travel with the run; runs without them encode as before.
TEST(PayloadTest, LockAndAclRoundTripAndAreAbsentUntilSet) {
  RunOptions o;
  o.command = "cp";
  const std::string plain = EncodeRunOptions(o);
  EXPECT_EQ(plain.find("preserve_lock"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("\"acl\""), std::string::npos) << plain;
  o.preserve_lock = true;
  o.acl.canned = "public-read";
  o.acl.grant_read = "id=\"alice\", uri=\"http://x\"";
  o.acl.grant_full_control = "id=\"bob\"";
  auto back = DecodeRunOptions(EncodeRunOptions(o));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->preserve_lock);
  EXPECT_EQ(back->acl, o.acl);
  auto old = DecodeRunOptions(plain);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->preserve_lock);
  EXPECT_TRUE(old->acl.empty());
}

TEST(PayloadTest, BackupDirRoundTripsAndIsAbsentUntilSet) {
  RunOptions o;
  o.command = "sync";
  const std::string plain = EncodeRunOptions(o);
  EXPECT_EQ(plain.find("backup_dir"), std::string::npos) << plain;
  o.backup_dir = "ra:bak/2026-11-29/";
  o.backup_suffix = ".old";
  auto back = DecodeRunOptions(EncodeRunOptions(o));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->backup_dir, "ra:bak/2026-11-29/");
  EXPECT_EQ(back->backup_suffix, ".old");
  auto old = DecodeRunOptions(plain);
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->backup_dir.empty());
}

TEST(PayloadTest, MoveSourcesRoundTripWithTheirKeysByteForByte) {
  MoveSourcesPayload p;
  for (const std::string& key : kKeys) {
    p.moved.push_back({.key = key, .etag = "e" + std::to_string(key.size()), .size = key.size(),
                       .mtime_ns = -5});
    p.kept.emplace_back(key, "why " + std::to_string(key.size()));
  }
  auto back = DecodeMoveSources(EncodeMoveSources(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->moved, p.moved);
  EXPECT_EQ(back->kept, p.kept);
  EXPECT_EQ(DecodeMoveSources("{\"objects\":[{}]}").status().code(), ErrorCode::kInvalidArgument);
}

TEST(PayloadTest, TransportOptionsRoundTripAndBackupIsWrittenOnlyWhenSet) {
  RunOptions o;
  o.command = "backup";
  o.transport.staging = "rb:backups/data/";
  o.transport.level = 5;
  o.transport.unpack_jobs = false;
  o.transport.backup = true;
  auto back = DecodeRunOptions(EncodeRunOptions(o));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->transport, o.transport);
  o.transport.backup = false;
  const std::string plain = EncodeRunOptions(o);
  EXPECT_EQ(plain.find("backup\":"), std::string::npos) << plain;  // runs stored before it
  EXPECT_FALSE(DecodeRunOptions(plain)->transport.backup);
}

// The [costs] prices the adaptive level weighs travel with the run; runs stored without them
// decode to "defaults" (-1).
TEST(PayloadTest, TransportPricesRoundTripAndAreAbsentUntilSet) {
  RunOptions o;
  o.command = "sync";
  o.transport.staging = "rb:staging/x/";
  const std::string without = EncodeRunOptions(o);
  EXPECT_EQ(without.find("prices"), std::string::npos) << without;
  auto plain = DecodeRunOptions(without);
  ASSERT_TRUE(plain.ok());
  EXPECT_LT(plain->transport.price_per_gib, 0);
  EXPECT_LT(plain->transport.price_per_cpu_second, 0);
  o.transport.price_per_gib = 0.09;
  o.transport.price_per_cpu_second = 0.00002;
  auto back = DecodeRunOptions(EncodeRunOptions(o));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_DOUBLE_EQ(back->transport.price_per_gib, 0.09);
  EXPECT_DOUBLE_EQ(back->transport.price_per_cpu_second, 0.00002);
}

TEST(PayloadTest, MalformedPayloadsAreOneError) {
  for (const char* text : {"", "{", R"({"start_after":5})", R"({"start_after":{"hex":"zz"}})",
                           R"({"start_after":{"hex":"abc"}})",
                           R"({"start_after":{"hex":"1z"}})", "[]"}) {
    auto range = DecodeScan(text);
    EXPECT_EQ(range.status().code(), ErrorCode::kInvalidArgument) << text;
  }
  EXPECT_EQ(DecodeDelete(R"({"keys":[1]})").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(DecodeTransfer(R"({"objects":[{}]})").status().code(), ErrorCode::kInvalidArgument);
}

// PeekTransfer reads the count and the first size that DecodeTransfer would give, whatever the
// keys look like (a hex key is an object inside an object) and wherever "objects" stands.
TEST(PayloadTest, PeekTransferCountsWhatDecodeTransferDecodes) {
  std::vector<transfer::CopyRequest> objects(3);
  objects[0].src.key = std::string("a\xfe", 2);  // written as {"hex":"61fe"}
  objects[0].src.size = 70ull << 20;
  objects[1].src.key = "s";
  objects[1].src.size = 5;
  objects[1].src.version_id = "v";
  objects[2].src.key = "objects";
  objects[2].dst = storage::ObjectInfo{};
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}}) {
    const std::vector<transfer::CopyRequest> some(objects.begin(), objects.begin() + n);
    const std::string text = EncodeTransfer(some);
    auto decoded = DecodeTransfer(text);
    auto shape = PeekTransfer(text);
    ASSERT_TRUE(decoded.ok() && shape.ok()) << text;
    EXPECT_EQ(shape->objects, decoded->size()) << text;
    EXPECT_EQ(shape->first_size, n == 0 ? 0 : decoded->front().src.size) << text;
  }
  auto other_order = PeekTransfer(R"({"x":[{"s":1}],"objects":[{"k":"a","s":9},{"s":2}]})");
  ASSERT_TRUE(other_order.ok());
  EXPECT_EQ(other_order->objects, 2u);
  EXPECT_EQ(other_order->first_size, 9u);
  EXPECT_EQ(PeekTransfer(R"({"objects":[{"s":1})").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(PeekTransfer("").status().code(), ErrorCode::kInvalidArgument);
}

// The text of a transfer payload is what every earlier ferry wrote (runs in a state store outlive
// a build), whatever way it is built.
TEST(PayloadTest, TransferPayloadTextIsUnchanged) {
  std::vector<transfer::CopyRequest> objects(2);
  objects[0].src.key = "dir/a";
  objects[0].src.size = 16384;
  objects[0].src.etag = "\"9e107d9d372bb6826bd81d3542a419d6\"";
  objects[0].src.mtime = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  objects[0].src.storage_class = "STANDARD";
  objects[0].reason = "new";
  objects[1].src.key = std::string("b\xff", 2);
  objects[1].src.version_id = "v1";
  objects[1].need_details = true;
  objects[1].dst = storage::ObjectInfo{};
  objects[1].reason = "changed";
  EXPECT_EQ(EncodeTransfer(objects),
            R"({"objects":[{"c":"STANDARD","d":false,"e":"\"9e107d9d372bb6826bd81d3542a419d6\"",)"
            R"("k":"dir/a","m":1700000000000000000,"r":"new","s":16384,"x":false},)"
            R"({"c":"","d":true,"e":"","k":{"hex":"62ff"},"m":0,"r":"changed","s":0,"v":"v1",)"
            R"("x":true}]})");
}

}  // namespace
}  // namespace ferry::jobs
