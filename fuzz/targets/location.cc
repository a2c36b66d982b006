// Location strings (s3://bucket/prefix, NAME:bucket/prefix, paths), bucket names, keys made fit
// for a local folder and for printing, and the sizes and ages of the filter flags.
#include <filesystem>
#include <string>

#include "app/location.h"
#include "fuzz/fuzz_target.h"
#include "plan/filter.h"
#include "storage/key.h"

FERRY_FUZZ_TARGET(location) {
  using ferry::fuzz::Require;
  const std::string_view text = ferry::fuzz::AsText(data, size);
  if (auto loc = ferry::app::ParseLocation(text); loc.ok()) {
    Require(loc->prefix.empty() || loc->prefix.back() == '/', "a prefix ends with '/'");
    if (loc->is_s3()) Require(ferry::app::ValidateBucketName(loc->bucket).ok(), "a valid bucket");
  }
  (void)ferry::app::ValidateBucketName(text);
  if (ferry::storage::ValidateLocalKey(text).ok()) {
    const std::string joined =
        (std::filesystem::path("/root/dir") / text).lexically_normal().string();
    Require(joined.rfind("/root/dir/", 0) == 0, "an accepted key stays under its folder");
  }
  const std::string printable = ferry::storage::PrintableKey(text);
  Require(ferry::storage::IsValidUtf8(printable), "a printable key is UTF-8");
  for (char c : printable) {
    const auto u = static_cast<unsigned char>(c);
    Require(u >= 0x20 && u != 0x7f, "a printable key has no control byte");
  }
  (void)ferry::plan::ParseAge(text);
  (void)ferry::plan::ParseSize(text);
  return 0;
}
