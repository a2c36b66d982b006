// How one object's bytes move, whole or in parts (copy_bytes.h).
#include "transfer/copy_bytes.h"

#include <algorithm>
#include <optional>
#include <string>

#include "checksum/checksum.h"

namespace ferry::transfer {

PartLayout ChooseLayout(storage::Backend& src, const storage::Features& dst,
                        const SourceCheck& check, const storage::ObjectInfo& object,
                        uint64_t part_size, std::stop_token stop) {
  PartLayout layout{.part_size = part_size};
  if (!check.multipart || check.parts > dst.max_parts) return layout;
  auto usable = [&](uint64_t p) {
    return p <= dst.max_part_size && (check.parts == 1 || p >= dst.min_part_size);
  };
  Result<std::optional<uint64_t>> told = src.FirstPartSize(object, stop);
  if (told.ok() && *told && usable(**told) &&
      (object.size + **told - 1) / **told == static_cast<uint64_t>(check.parts)) {
    layout.part_size = **told;
    layout.verify = layout.exact = true;
    return layout;
  }
  for (uint64_t p : CandidatePartSizes(object.size, check.parts, 16)) {
    if (!usable(p)) continue;
    layout.part_size = p;
    layout.verify = true;
    return layout;
  }
  return layout;
}

Status ReadPinned(storage::Backend& src, const storage::ObjectInfo& object, uint64_t offset,
                  std::span<std::byte> out, std::stop_token stop) {
  if (out.empty()) return Status::Ok();
  if (!object.version_id.empty() && object.version_id != "null") {
    return src.ReadVersionAt(object.key, object.version_id, offset, out, stop);
  }
  return src.ReadAt(object.key, offset, out, object.etag, stop);
}

WholeCheck CheckRead(storage::Backend& src, const storage::ObjectInfo& object,
                     std::span<const std::byte> data, uint32_t crc,
                     bool md5_checked_by_destination, std::stop_token stop) {
  const SourceCheck check = CheckOf(object);
  WholeCheck verdict = CheckWhole(check, data, crc, md5_checked_by_destination);
  if (verdict != WholeCheck::kUnverified || !check.multipart) return verdict;
  // No common part size reproduces the ETag: ask the store for the real layout.
  Result<std::optional<uint64_t>> exact = src.FirstPartSize(object, stop);
  if (!exact.ok() || !exact->has_value() || **exact == 0) return verdict;
  // Uniform parts of the size the store tells that account for every part of the ETag are the
  // object's layout: bytes that do not make its ETag in it are not the source's (kMismatch).
  // A size whose uniform parts do not (parts of mixed sizes) proves nothing either way.
  if ((object.size + **exact - 1) / **exact != static_cast<uint64_t>(check.parts)) {
    return verdict;
  }
  return CheckWhole(check, data, crc, false, **exact);
}

Status CheckSourceUnchanged(storage::Backend& src, const storage::ObjectInfo& object,
                            std::stop_token stop) {
  Result<storage::ObjectInfo> now = src.Stat(object.key, false, stop);
  if (!now.ok()) return now.status().WithContext("stat source before completing");
  if (now->etag != object.etag || now->size != object.size) {
    return Status::FailedPrecondition("source " + object.key +
                                      " changed during the server-side copy");
  }
  return Status::Ok();
}

void PartCopy::TrackDeclaredCrc(std::optional<checksum::Algorithm> algorithm) {
  declared_crc = algorithm == checksum::Algorithm::kCrc32c ? std::nullopt : algorithm;
  const size_t n = declared_crc ? static_cast<size_t>(upload.parts) : 0;
  declared_part_crcs.assign(n, 0);
  declared_known.assign(n, 0);
}

std::vector<int> PartCopy::Missing() const {
  std::vector<int> todo;
  for (int part = 1; part <= upload.parts; ++part) {
    if (!upload.adopted[static_cast<size_t>(part - 1)]) todo.push_back(part);
  }
  return todo;
}

Status PartCopy::Send(int part_number, std::stop_token stop) {
  // A pooled buffer: the GET writes into it and the PUT sends from it, with no other copy.
  std::optional<BufferPool::Buffer> buffer = buffers->Borrow(Length(part_number), stop);
  if (!buffer) return Status::Cancelled("cancelled while waiting for buffer memory");
  FERRY_RETURN_IF_ERROR(ReadPinned(*src, object, Offset(part_number), buffer->data(), stop));
  return SendBytes(part_number, buffer->data(), stop);
}

Status PartCopy::SendBytes(int part_number, std::span<const std::byte> bytes,
                           std::stop_token stop) {
  const auto index = static_cast<size_t>(part_number - 1);
  const uint32_t crc = checksum::Crc32c(bytes);
  upload.part_crcs[index] = crc;
  if (declared_crc) {  // sized by TrackDeclaredCrc before parts run: each writes its own entry
    declared_part_crcs[index] = checksum::Crc(*declared_crc, bytes);
    declared_known[index] = 1;
  }
  FERRY_RETURN_IF_ERROR(upload.writer->WriteChunk(part_number, Offset(part_number), bytes, stop));
  std::string md5;
  if (track_md5) {
    // The store's MD5 of the bytes it received (it checked them against what was sent: signed
    // payload or Content-MD5) is the MD5 of what was read; hashed here only where the store
    // reports none (hashing every byte again cost replication 1.8x sync's CPU).
    std::optional<checksum::Md5Digest> stored =
        ParseMd5Hex(upload.writer->WrittenPartMd5(part_number));
    upload.part_md5s[index] = stored ? *stored : checksum::Md5(bytes);
    upload.md5_known[index] = 1;
    md5 = checksum::Hex(upload.part_md5s[index]);
  }
  if (journal == nullptr) return Status::Ok();
  return journal->PartDone({part_number, crc, bytes.size(), md5});
}

Status PartCopy::CopyOnServer(int part_number, std::stop_token stop) {
  return upload.writer->CopyChunk(part_number, *src, object, Offset(part_number),
                                  Length(part_number), stop);
}

uint32_t PartCopy::Crc32c() const {
  uint32_t crc = 0;
  for (int part = 1; part <= upload.parts; ++part) {
    crc = checksum::Crc32cCombine(crc, upload.part_crcs[static_cast<size_t>(part - 1)],
                                  Length(part));
  }
  return crc;
}

std::optional<checksum::Algorithm> DeclaredCrcOf(const SourceCheck& check) {
  if (!check.declared || !checksum::IsCrc(check.declared->algorithm)) return std::nullopt;
  return check.declared->algorithm;
}

Result<std::optional<bool>> CheckDeclaredParts(const PartCopy& copy, const SourceCheck& check) {
  const std::optional<checksum::Algorithm> algorithm = DeclaredCrcOf(check);
  if (!algorithm) return std::optional<bool>();
  uint64_t crc = 0;
  if (*algorithm == checksum::Algorithm::kCrc32c) {
    crc = copy.Crc32c();  // every part's CRC32C is known, adopted ones from the journal
  } else {
    if (copy.declared_crc != algorithm ||
        copy.declared_known.size() != static_cast<size_t>(copy.upload.parts) ||
        std::find(copy.declared_known.begin(), copy.declared_known.end(), 0) !=
            copy.declared_known.end()) {
      return std::optional<bool>();
    }
    for (int part = 1; part <= copy.upload.parts; ++part) {
      crc = checksum::CrcCombine(*algorithm, crc,
                                 copy.declared_part_crcs[static_cast<size_t>(part - 1)],
                                 copy.Length(part));
    }
  }
  if (checksum::EncodeCrc(*algorithm, crc) == check.declared->value) return std::optional<bool>(true);
  return Status::DataLoss("bytes read from " + copy.object.key + " do not match the source's " +
                          std::string(checksum::AlgorithmName(*algorithm)) + " " +
                          check.declared->value + " (corrupted on the way); upload aborted");
}

Result<bool> CheckParts(PartCopy& copy, const SourceCheck& check, const PartLayout& layout,
                        std::stop_token stop) {
  const bool md5_source = check.md5.has_value();
  if (!layout.verify && !md5_source) return false;
  const ResumedUpload& u = copy.upload;
  if (std::find(u.md5_known.begin(), u.md5_known.end(), 0) != u.md5_known.end()) {
    return false;  // resumed parts whose MD5 neither the store nor the journal tells
  }
  if (layout.verify && MultipartDigest(u.part_md5s) == *check.multipart) return true;
  const std::string& key = copy.object.key;
  if (layout.verify && layout.exact) {
    return Status::DataLoss("bytes read from " + key + " do not match the source's ETag " +
                            copy.object.etag + " (corrupted on the way); upload aborted");
  }
  // Read the object again, in order: parts that read differently twice were corrupted on the
  // way. A source written in one PUT has its MD5 in its ETag, which an in-order read can
  // compute. With a guessed layout that does not reproduce the ETag, parts that read the same
  // twice are what the source serves, and only its ETag could not confirm them.
  checksum::Md5Hasher whole;
  for (int part = 1; part <= u.parts; ++part) {
    std::optional<BufferPool::Buffer> buffer = copy.buffers->Borrow(copy.Length(part), stop);
    if (!buffer) return Status::Cancelled("cancelled while waiting for buffer memory");
    const std::span<std::byte> data = buffer->data();
    FERRY_RETURN_IF_ERROR(ReadPinned(*copy.src, copy.object, copy.Offset(part), data, stop));
    if (checksum::Md5(data) != u.part_md5s[static_cast<size_t>(part - 1)]) {
      return Status::DataLoss("part " + std::to_string(part) + " of " + key +
                              " read differently twice (corrupted on the way); upload aborted");
    }
    if (md5_source) whole.Update(data);
  }
  return md5_source && whole.Finish() == *check.md5;
}

}  // namespace ferry::transfer
