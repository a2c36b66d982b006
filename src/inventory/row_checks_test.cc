#include "inventory/row_checks.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "inventory/run_rows.h"

namespace ferry::inventory {
namespace {

storage::ObjectInfo RowChecksRow(std::string key, uint64_t size, std::string etag,
                                 int64_t seconds = 1000) {
  storage::ObjectInfo o;
  o.key = std::move(key);
  o.size = size;
  o.etag = std::move(etag);
  o.mtime = std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
  return o;
}

// Records of `rows` as a KeyStream, for lists::SortKeys.
class RowChecksRecords : public lists::KeyStream {
 public:
  explicit RowChecksRecords(std::vector<storage::ObjectInfo> rows) : rows_(std::move(rows)) {}
  Result<std::optional<std::string>> Next() override {
    if (at_ == rows_.size()) return std::optional<std::string>();
    const storage::ObjectInfo& row = rows_[at_++];
    FERRY_ASSIGN_OR_RETURN(std::string record, EncodeRunRow(row, row.key));
    return std::optional<std::string>(std::move(record));
  }

 private:
  std::vector<storage::ObjectInfo> rows_;
  size_t at_ = 0;
};

std::unique_ptr<lists::SortedKeyCursor> RowChecksSorted(std::vector<storage::ObjectInfo> rows) {
  auto sorted = lists::SortKeys(std::make_unique<RowChecksRecords>(std::move(rows)));
  EXPECT_TRUE(sorted.ok()) << sorted.status().ToString();
  return std::move(sorted).value();
}

// The options of a plain sync: a key is written when its size or ETag differs or it is
// missing; `deletes`: sync --delete.
RowCheckOptions RowChecksSync(bool deletes, bool destination_current = false) {
  RowCheckOptions o;
  o.would_write = [](const storage::ObjectInfo* src, const storage::ObjectInfo* dst) {
    return dst == nullptr || dst->size != src->size || dst->etag != src->etag;
  };
  if (deletes) o.would_delete = [](const storage::ObjectInfo&) { return true; };
  o.destination_current = destination_current;
  return o;
}

TEST(RunRowsTest, ARecordKeepsWhatAListingGivesAndSortsByKey) {
  storage::ObjectInfo row = RowChecksRow("data/a b", 12, "0123abcd", 1764200000);
  row.storage_class = "GLACIER";
  row.archive.archived = true;
  row.version_id = "v1";
  auto record = EncodeRunRow(row, "a b");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(RunRowKey(*record), "a b");
  auto back = DecodeRunRow(*record);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->key, "a b");
  EXPECT_EQ(back->size, 12u);
  EXPECT_EQ(back->etag, "0123abcd");
  EXPECT_EQ(back->mtime, row.mtime);
  EXPECT_EQ(back->storage_class, "GLACIER");
  EXPECT_TRUE(back->archive.archived);
  EXPECT_EQ(back->version_id, "v1");
  // A key that is a prefix of another sorts first, whatever the metadata says.
  EXPECT_LT(*EncodeRunRow(RowChecksRow("a", 999, "z"), "a"),
            *EncodeRunRow(RowChecksRow("a!", 0, ""), "a!"));
  EXPECT_EQ(EncodeRunRow(RowChecksRow(std::string("a\0b", 3), 1, ""), std::string("a\0b", 3))
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(DecodeRunRow("plain key").status().code(), ErrorCode::kInvalidArgument);
}

TEST(RowPairCursorTest, PairsBothSidesByKeyAndSkipsASecondRowOfAKey) {
  RowPairCursor pairs(RowChecksSorted({RowChecksRow("c", 3, "e3"), RowChecksRow("a", 1, "e1"),
                                       RowChecksRow("c", 4, "e4")}),
                      RowChecksSorted({RowChecksRow("b", 2, "e2"), RowChecksRow("c", 3, "e3")}));
  std::vector<std::string> seen;
  for (;;) {
    auto pair = pairs.Next();
    ASSERT_TRUE(pair.ok()) << pair.status().ToString();
    if (*pair == nullptr) break;
    const RowPair& p = **pair;
    seen.push_back(p.key + ":" + (p.source ? std::to_string(p.source->size) : "-") + ":" +
                   (p.destination ? std::to_string(p.destination->size) : "-"));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a:1:-", "b:-:2", "c:3:3"}));
  EXPECT_EQ(pairs.duplicates(), 1u);
}

TEST(RowChecksTest, RowsThatSayEqualCostNoRequest) {
  RowPair same{"k", RowChecksRow("k", 5, "e"), RowChecksRow("k", 5, "e")};
  EXPECT_FALSE(ChecksFor(same, RowChecksSync(true)).any());
  // Out of the run's scope (its filter): nothing read either.
  RowCheckOptions filtered = RowChecksSync(true);
  filtered.would_write = [](const storage::ObjectInfo*, const storage::ObjectInfo*) {
    return false;
  };
  RowPair differs{"k", RowChecksRow("k", 5, "e"), RowChecksRow("k", 6, "f")};
  EXPECT_FALSE(ChecksFor(differs, filtered).any());
}

TEST(RowChecksTest, AKeyToWriteIsReadOnBothSidesFirst) {
  RowPair differs{"k", RowChecksRow("k", 5, "e"), RowChecksRow("k", 6, "f")};
  RowChecks c = ChecksFor(differs, RowChecksSync(false));
  EXPECT_TRUE(c.source);
  EXPECT_TRUE(c.destination);
  RowPair missing{"k", RowChecksRow("k", 5, "e"), std::nullopt};
  c = ChecksFor(missing, RowChecksSync(false));
  EXPECT_TRUE(c.source && c.destination);
  // The destination looked up now: only the source's row is a claim.
  c = ChecksFor(missing, RowChecksSync(false, /*destination_current=*/true));
  EXPECT_TRUE(c.source);
  EXPECT_FALSE(c.destination);
}

TEST(RowChecksTest, ADeleteIsNeverMadeOnARowsWord) {
  RowPair extra{"k", std::nullopt, RowChecksRow("k", 5, "e")};
  RowChecks c = ChecksFor(extra, RowChecksSync(/*deletes=*/true));
  EXPECT_TRUE(c.source && c.destination);
  // Without --delete a destination row is left as it is, unread.
  EXPECT_FALSE(ChecksFor(extra, RowChecksSync(false)).any());
  // The destination's key is gone already: no destination object is left to delete.
  ApplyChecks(extra, c, std::nullopt, std::nullopt);
  EXPECT_FALSE(extra.source.has_value());
  EXPECT_FALSE(extra.destination.has_value());
  // The source has the key again: both sides as they are now, compared, not deleted.
  RowPair again{"k", std::nullopt, RowChecksRow("k", 5, "e")};
  EXPECT_FALSE(ApplyChecks(again, c, RowChecksRow("k", 5, "e"), RowChecksRow("k", 5, "e")));
  EXPECT_TRUE(again.source.has_value());
  EXPECT_TRUE(again.destination.has_value());
}

TEST(RowChecksTest, StaleRowsGiveWayToTheFactsReadNow) {
  const RowChecks both{.source = true, .destination = true};
  // Gone from the source since the inventory: reported, the key absent on the source side.
  RowPair gone{"k", RowChecksRow("k", 5, "e"), std::nullopt};
  EXPECT_TRUE(ApplyChecks(gone, both, std::nullopt, std::nullopt));
  EXPECT_FALSE(gone.source.has_value());
  // Changed since: planned from what the Stat says, not the row.
  RowPair changed{"k", RowChecksRow("k", 5, "e"), RowChecksRow("k", 6, "f")};
  EXPECT_FALSE(ApplyChecks(changed, both, RowChecksRow("k", 7, "g"), RowChecksRow("k", 6, "f")));
  EXPECT_EQ(changed.source->size, 7u);
  EXPECT_EQ(changed.source->etag, "g");
  // Appeared at the destination since (no row there): compared with it as it is now.
  RowPair appeared{"k", RowChecksRow("k", 5, "e"), std::nullopt};
  EXPECT_FALSE(ApplyChecks(appeared, both, RowChecksRow("k", 5, "e"), RowChecksRow("k", 5, "e")));
  ASSERT_TRUE(appeared.destination.has_value());
  EXPECT_EQ(appeared.destination->etag, "e");
  // A destination-only key the source lacks is not "gone": the source's inventory never named it.
  RowPair extra{"k", std::nullopt, RowChecksRow("k", 5, "e")};
  EXPECT_FALSE(ApplyChecks(extra, both, std::nullopt, RowChecksRow("k", 5, "e")));
}

}  // namespace
}  // namespace ferry::inventory
