// One version's bytes from a source to a destination (see pass.h, "Data path").
#include <algorithm>
#include <vector>

#include "checksum/checksum.h"
#include "replicate/pass_internal.h"

namespace ferry::replicate::internal {
namespace {

using storage::ObjectInfo;

// Reads [offset, offset + out.size()) of the version: by version id where the source has one,
// else the current object pinned to the listed ETag.
Status ReadPart(storage::Backend& src, const ObjectInfo& v, uint64_t offset,
                std::span<std::byte> out, std::stop_token stop) {
  if (out.empty()) return Status::Ok();
  if (!v.version_id.empty() && v.version_id != "null") {
    return src.ReadVersionAt(v.key, v.version_id, offset, out, stop);
  }
  return src.ReadAt(v.key, offset, out, v.etag, stop);
}

Status CheckDeclared(const ObjectInfo& v, uint32_t crc) {
  if (std::optional<uint32_t> declared = v.crc32c(); declared && *declared != crc) {
    return Status::DataLoss("CRC32C of the bytes read (" + checksum::Hex32(crc) +
                            ") differs from the one the source version declares (" +
                            checksum::Hex32(*declared) + ")");
  }
  return Status::Ok();
}

Result<storage::WriteResult> CopyWhole(storage::Backend& src, storage::Backend& dst,
                                       const ObjectInfo& v, const std::string& key,
                                       storage::WriteSpec& spec, std::stop_token stop) {
  std::vector<std::byte> data(v.size);
  FERRY_RETURN_IF_ERROR(ReadPart(src, v, 0, data, stop));
  const uint32_t crc = checksum::Crc32c(data);
  FERRY_RETURN_IF_ERROR(CheckDeclared(v, crc));
  const checksum::Md5Digest md5 = checksum::Md5(data);
  if (v.etag_is_md5() && checksum::Hex(md5) != v.etag) {
    return Status::DataLoss("MD5 of the bytes read differs from the source version's ETag " +
                            v.etag);
  }
  spec.metadata[storage::kMetaCrc32c] = checksum::Hex32(crc);
  spec.content_md5 = checksum::Base64(md5);
  return dst.Put(key, data, spec, stop);
}

Result<storage::WriteResult> CopyChunked(const PassOptions& o, storage::Backend& src,
                                         storage::Backend& dst, const ObjectInfo& v,
                                         const std::string& key, storage::WriteSpec& spec,
                                         std::stop_token stop) {
  const storage::Features& f = dst.features();
  uint64_t part = std::max<uint64_t>(o.part_size, f.min_part_size);
  const uint64_t max_parts = static_cast<uint64_t>(std::max(f.max_parts, 1));
  part = std::max(part, (v.size + max_parts - 1) / max_parts);
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::ChunkWriter> writer,
                         dst.OpenChunkWriter(key, spec, part, stop));
  auto fail = [&](Status s) {
    (void)writer->Abort();
    return s;
  };
  uint32_t crc = 0;
  std::vector<std::byte> data;
  int number = 1;
  for (uint64_t offset = 0; offset < v.size; offset += part, ++number) {
    data.resize(std::min(part, v.size - offset));
    if (Status s = ReadPart(src, v, offset, data, stop); !s.ok()) return fail(s);
    crc = offset == 0 ? checksum::Crc32c(data)
                      : checksum::Crc32cCombine(crc, checksum::Crc32c(data), data.size());
    if (Status s = writer->WriteChunk(number, offset, data, stop); !s.ok()) return fail(s);
  }
  if (Status s = CheckDeclared(v, crc); !s.ok()) return fail(s);
  if (!v.crc32c()) writer->AddMetadataOnCommit({{storage::kMetaCrc32c, checksum::Hex32(crc)}});
  Result<storage::WriteResult> done = writer->Commit(stop);
  if (!done.ok()) return fail(done.status());
  return done;
}

}  // namespace

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 200;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kDataLoss:
      return 400;
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kFailedPrecondition:
      return 412;
    case ErrorCode::kNotSupported:
      return 501;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kCancelled:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

Result<storage::WriteResult> CopyVersion(const PassOptions& o, storage::Backend& src,
                                         storage::Backend& dst, const ObjectInfo& version,
                                         const std::string& key, storage::WriteSpec spec,
                                         PassStats& stats, std::stop_token stop) {
  spec.size = version.size;
  if (dst.CanCopyFrom(src) && version.size <= dst.features().max_single_put) {
    Result<storage::WriteResult> copied = dst.CopyFromWithSpec(src, version, key, spec, stop);
    if (copied.ok()) {
      stats.server_side.fetch_add(1);
      stats.bytes.fetch_add(version.size);
      return copied;
    }
    if (copied.status().code() != ErrorCode::kNotSupported) return copied.status();
  }
  Result<storage::WriteResult> written =
      version.size > o.multipart_threshold && dst.features().chunked_write
          ? CopyChunked(o, src, dst, version, key, spec, stop)
          : CopyWhole(src, dst, version, key, spec, stop);
  if (written.ok()) stats.bytes.fetch_add(version.size);
  return written;
}

}  // namespace ferry::replicate::internal
