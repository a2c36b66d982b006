// ValidateTransportFlags and CheckTransport (copy_internal.h): cp/sync's compressed-transport
// flags (--compress, --staging, --pack-only, --unpack-region, --compress-level, --archive-size).
#include <string>
#include <utility>

#include "app/location.h"
#include "cli/commands/copy_internal.h"
#include "plan/filter.h"

namespace ferry::cli {

Status ValidateTransportFlags(const CopyArgs& a) {
  if (!a.compress) {
    if (!a.staging.empty()) return Status::InvalidArgument("--staging needs --compress");
    if (a.pack_only) return Status::InvalidArgument("--pack-only needs --compress");
    if (!a.unpack_region.empty()) return Status::InvalidArgument("--unpack-region needs --compress");
    return Status::Ok();
  }
  if (a.staging.empty()) {
    return Status::InvalidArgument("--compress needs --staging REMOTE:bucket/prefix (in the "
                                   "destination's region)");
  }
  if (a.no_state) {
    return Status::InvalidArgument("--compress needs a durable run (its archives are tracked in "
                                   "the state store): drop --no-state");
  }
  if (a.unpack_region.find(',') != std::string::npos && !a.pack_only) {
    return Status::InvalidArgument("--unpack-region: a list of regions needs --pack-only (each "
                                   "region's `ferry worker --role unpack --region` or, without "
                                   "--state, `ferry unpack --region` unpacks them)");
  }
  if (a.compress_level < 0 || a.compress_level > 19) {
    return Status::InvalidArgument("--compress-level: 1..19 (0 = adaptive)");
  }
  if (!a.archive_size.empty()) {
    auto v = plan::ParseSize(a.archive_size);
    if (!v.ok()) return v.status().WithContext("--archive-size");
    if (*v < (1u << 20) || *v > (4ull << 30)) {
      return Status::InvalidArgument("--archive-size: 1MiB..4GiB");
    }
  }
  auto loc = app::ParseLocation(a.staging);
  if (!loc.ok()) return loc.status().WithContext("--staging");
  if (!loc->is_s3()) {
    return Status::InvalidArgument("--staging must be an S3 location (REMOTE:bucket/prefix or "
                                   "s3://bucket/prefix): archives are written as multipart "
                                   "uploads");
  }
  // Staged archives inside SRC would be copied (packed again) by the next run, inside DST
  // copied or deleted (--delete) with the data; SRC or DST inside the staging prefix would be
  // taken for archives by `ferry unpack`.
  for (const auto& [side, text] : {std::pair{"source", &a.src}, {"destination", &a.dst}}) {
    auto other = app::ParseLocation(*text);
    if (!other.ok() || !other->is_s3() || other->remote != loc->remote ||
        other->bucket != loc->bucket) {
      continue;
    }
    if (other->prefix.starts_with(loc->prefix) || loc->prefix.starts_with(other->prefix)) {
      return Status::InvalidArgument("--staging " + a.staging + " overlaps the " + side + " " +
                                     *text + ": give a staging prefix apart from both");
    }
  }
  return Status::Ok();
}

Status CheckTransport(const CopyArgs& a, app::Wiring& wiring, Context& ctx) {
  FERRY_ASSIGN_OR_RETURN(app::Location loc, app::ParseLocation(a.staging));
  FERRY_ASSIGN_OR_RETURN(auto staging, wiring.OpenBackend(loc, false));
  return staging->Check(ctx.stop).WithContext("staging");
}

}  // namespace ferry::cli
