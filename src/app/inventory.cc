#include "app/inventory.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "app/location.h"
#include "inventory/locate.h"
#include "inventory/manifest.h"

namespace ferry::app {
namespace {

// The location of the store's root and the path (a key of that store) the location names.
struct InventoryRoot {
  Location root;
  std::string path;
};

Result<InventoryRoot> InventoryRootOf(const Location& loc) {
  InventoryRoot r{loc, ""};
  if (loc.is_s3()) {
    r.path = loc.prefix;
    r.root.prefix.clear();
  } else {
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(loc.path, ec);
    if (ec) return Status::InvalidArgument(loc.text + ": " + ec.message());
    r.path = abs.lexically_normal().relative_path().generic_string();
    r.root.path = "/";
  }
  // Location parsing writes a prefix as a folder ("a/manifest.json/"): a key is meant here.
  while (!r.path.empty() && r.path.back() == '/') r.path.pop_back();
  return r;
}

}  // namespace

Result<OpenedInventory> OpenInventory(Wiring& wiring, std::string_view location_text,
                                      inventory::RowsOptions options, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(Location loc, ParseLocation(location_text));
  FERRY_ASSIGN_OR_RETURN(InventoryRoot root, InventoryRootOf(loc));
  OpenedInventory opened;
  FERRY_ASSIGN_OR_RETURN(opened.store, wiring.OpenBackend(root.root, false));
  FERRY_RETURN_IF_ERROR(opened.store->Check(stop));
  FERRY_ASSIGN_OR_RETURN(opened.manifest_key, inventory::LocateManifest(*opened.store, root.path));
  FERRY_ASSIGN_OR_RETURN(inventory::Manifest manifest,
                         inventory::ReadManifest(*opened.store, opened.manifest_key, stop));
  opened.rows = std::make_unique<inventory::RowCursor>(*opened.store, opened.manifest_key,
                                                       std::move(manifest), std::move(options),
                                                       stop);
  return opened;
}

}  // namespace ferry::app
