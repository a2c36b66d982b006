#include "inventory/locate.h"

#include <memory>

namespace ferry::inventory {
namespace {

constexpr std::string_view kManifestName = "manifest.json";

bool DigitAt(std::string_view s, size_t i) { return s[i] >= '0' && s[i] <= '9'; }

}  // namespace

bool IsRunFolderName(std::string_view n) {
  // YYYY-MM-DDTHH-MMZ
  if (n.size() != 17) return false;
  static constexpr std::string_view kShape = "dddd-dd-ddTdd-ddZ";
  for (size_t i = 0; i < n.size(); ++i) {
    if (kShape[i] == 'd' ? !DigitAt(n, i) : n[i] != kShape[i]) return false;
  }
  return true;
}

Result<std::string> LocateManifest(storage::Backend& store, std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (last == kManifestName) return std::string(path);
  std::string prefix(path);
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::ListingCursor> cursor, store.List(prefix));
  const bool sorted = store.features().sorted_listing;
  std::string newest;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    const std::string_view rest = std::string_view(o->key).substr(prefix.size());
    if (rest.empty() || !DigitAt(rest, 0)) {
      // Digits sort before letters: in a sorted listing, data/ and hive/ come after every run.
      if (sorted && !rest.empty() && rest[0] > '9') break;
      continue;
    }
    const size_t sep = rest.find('/');
    if (sep == std::string_view::npos || rest.substr(sep + 1) != kManifestName ||
        !IsRunFolderName(rest.substr(0, sep))) {
      continue;
    }
    if (o->key > newest) newest = o->key;
  }
  if (newest.empty()) {
    return Status::NotFound(store.Describe() + prefix +
                            ": no inventory run here (no <YYYY-MM-DDTHH-MMZ>/manifest.json); "
                            "name a manifest.json or an inventory configuration's prefix");
  }
  return newest;
}

}  // namespace ferry::inventory
