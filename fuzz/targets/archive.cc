// Archives read back from a bucket: the manifest decoder, the header and trailer, and the whole
// Reader over an archive built around the input, every entry read out. A hostile archive must
// never crash, allocate without bound (ManifestLimits, the reader's ratio and frame caps) or
// name a file outside the folder it is unpacked to.
//
// Input: the first two bytes (little-endian) give how many of the rest are the data frames;
// what follows them is the manifest's plain bytes. The target frames them as a writer would
// (header, data, zstd-compressed manifest with its CRC32C, trailer), so that the Reader gets past
// its checksums and meets the fuzzed manifest and frames. The input as a whole also goes
// straight to DecodeManifest, CheckHeader and DecodeTrailer.
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>

#include "archive/format.h"
#include "archive/io.h"
#include "archive/reader.h"
#include "checksum/checksum.h"
#include "fuzz/fuzz_target.h"
#include "storage/key.h"

namespace {

using namespace ferry::archive;
using ferry::fuzz::Require;

// Takes up to 1 MiB of an entry, then stops the read (an entry's size is the manifest's word).
class CappedSink : public ByteSink {
 public:
  ferry::Status Write(std::span<const std::byte> data) override {
    taken_ += data.size();
    if (taken_ > (1u << 20)) return ferry::Status::Cancelled("enough");
    return ferry::Status::Ok();
  }

 private:
  uint64_t taken_ = 0;
};

// The unpack path's rule: a key the local backend accepts names a file under its folder.
void CheckKeyStaysInside(const std::string& key) {
  if (!ferry::storage::ValidateLocalKey(key).ok()) return;
  const std::filesystem::path root = "/unpack/root";
  const std::string joined = (root / key).lexically_normal().string();
  Require(joined.rfind("/unpack/root/", 0) == 0, "an accepted key leaves the target folder");
}

void PutLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

void ReadWholeArchive(const std::string& archive) {
  StringRangeSource source(archive);
  auto reader = Reader::Open(source);
  if (!reader.ok()) return;
  for (const Entry& e : (*reader)->entries()) {
    CheckKeyStaysInside(e.header.key);
    (void)(*reader)->StoredSize(e);
    (void)(*reader)->Find(e.header.key, e.header.version_id);
    CappedSink sink;
    (void)(*reader)->ReadEntry(e, sink);
  }
}

}  // namespace

FERRY_FUZZ_TARGET(archive) {
  const std::string_view input = ferry::fuzz::AsText(data, size);
  const auto whole = Bytes(input);
  if (auto m = DecodeManifest(whole); m.ok()) {
    for (const Entry& e : m->entries) CheckKeyStaysInside(e.header.key);
    Require(DecodeManifest(Bytes(EncodeManifest(*m))).ok(), "a decoded manifest encodes back");
  }
  (void)CheckHeader(whole);
  if (size >= kTrailerSize) (void)DecodeTrailer(whole.last(kTrailerSize));

  if (size < 2) return 0;
  const size_t data_size = std::min<size_t>(data[0] | (size_t{data[1]} << 8), size - 2);
  const std::string_view frames = input.substr(2, data_size);
  const std::string_view plain = input.substr(2 + data_size);
  std::string packed(ZSTD_compressBound(plain.size()), '\0');
  const size_t n = ZSTD_compress(packed.data(), packed.size(), plain.data(), plain.size(), 1);
  Require(!ZSTD_isError(n), "zstd compresses any bytes");
  packed.resize(n);

  std::string archive = EncodeHeader();
  archive.append(frames);
  Trailer t;
  t.manifest_offset = archive.size();
  t.manifest_size = 8 + packed.size();
  t.manifest_crc32c = ferry::checksum::Crc32c(Bytes(packed));
  PutLe(archive, kSkippableMagic, 4);
  PutLe(archive, packed.size(), 4);
  archive += packed;
  archive += EncodeTrailer(t);
  ReadWholeArchive(archive);
  return 0;
}
