// S3 Inventory manifests and CSV rows (src/inventory/): what an inventory bucket, possibly
// written by someone else, hands a run that lists from it. The first byte picks the parser:
// even, the bytes are a manifest.json (and are checked against a manifest.checksum of
// themselves); odd, each line of the rest is a CSV row mapped by AWS's full schema.
#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "fuzz/fuzz_target.h"
#include "inventory/csv_row.h"
#include "inventory/manifest.h"

namespace {

void FuzzInventoryManifest(std::string_view text) {
  using ferry::fuzz::Require;
  auto m = ferry::inventory::ParseManifest(text, "fuzz");
  if (m.ok()) {
    Require(m->columns.size() == m->column_names.size(), "a name per column");
    bool key = false;
    for (auto f : m->columns) key = key || f == ferry::inventory::Field::kKey;
    Require(key, "an accepted schema has a Key column");
    for (const auto& f : m->files) Require(f.md5_hex.size() == 32, "a file has an MD5");
  } else {
    Require(m.status().message().find('\n') == std::string::npos, "a refusal is one line");
  }
  const std::string md5 =
      ferry::checksum::Hex(ferry::checksum::Md5(ferry::checksum::AsBytes(text)));
  Require(ferry::inventory::CheckManifestChecksum(text, md5, "fuzz").ok(),
          "a manifest matches its own MD5");
}

void FuzzInventoryRows(std::string_view text) {
  using ferry::fuzz::Require;
  using F = ferry::inventory::Field;
  static const std::vector<F> kColumns = {F::kBucket,  F::kKey,  F::kVersionId,
                                          F::kIsLatest, F::kIsDeleteMarker, F::kSize,
                                          F::kLastModifiedDate, F::kETag, F::kStorageClass,
                                          F::kOther};
  std::vector<std::string> fields;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!ferry::inventory::SplitCsvLine(line, fields).ok()) continue;
    Require(!fields.empty(), "a split line has a field");
    auto row = ferry::inventory::RowObject(fields, kColumns, "bucket");
    if (row.ok()) Require(!row->key.empty(), "a row has a key");
    (void)ferry::inventory::DecodeKey(line);
    (void)ferry::inventory::ParseLastModified(line);
  }
}

}  // namespace

FERRY_FUZZ_TARGET(inventory) {
  const std::string_view text = ferry::fuzz::AsText(data, size);
  if (text.empty()) return 0;
  if ((static_cast<unsigned char>(text[0]) & 1) == 0) {
    FuzzInventoryManifest(text.substr(1));
  } else {
    FuzzInventoryRows(text.substr(1));
  }
  return 0;
}
