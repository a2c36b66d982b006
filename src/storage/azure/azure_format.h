// The Blob API's formats as ferry reads and writes them: metadata names, the headers of a
// write and of a blob's properties, and the XML of List Blobs and block lists (pugixml).
// docs/design/azure.md §3.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "http/transport.h"
#include "storage/backend.h"

namespace ferry::storage::azure {

// Azure metadata names must be C# identifiers (letters, digits, '_', not starting with a digit)
// and compare case-insensitively; ferry's names ("ferry-crc32c") and S3's are not. A name is
// stored with '_' as "__", any other byte that is not a lower-case letter or digit (and a
// leading digit) as "_hh" (two lower-case hex digits): "ferry-crc32c" -> "ferry_2dcrc32c".
// Names made only of a-z 0-9 (not starting with a digit) are stored as they are, so that
// metadata written by other tools reads back unchanged.
std::string EncodeMetaName(std::string_view name);
// The reverse; a name that is not in that form (another tool's "Owner") is lower-cased as is.
std::string DecodeMetaName(std::string_view stored);
// The metadata name that holds ContentHeaders::expires (Azure has no Expires property): one
// EncodeMetaName never makes ("_ex" is no escape).
inline constexpr const char* kExpiresMetaName = "ferry_expires";

// x-ms-blob-content-* and x-ms-meta-* headers of a write of `spec` (+ `extra` metadata, which
// wins over the spec's): what Put Blob and Put Block List carry.
void AddWriteHeaders(const WriteSpec& spec, const std::map<std::string, std::string>& extra,
                     http::Headers& headers);

// An ObjectInfo from a Get Blob Properties / Get Blob reply's headers (has_details = true).
// Unquoted ETag ("0x8DB...": never taken for a digest, so not marked etag_opaque, which says
// "looks like an MD5 but is not").
ObjectInfo InfoFromHeaders(std::string_view key, const http::Headers& headers);

// "0x8DB..." from "\"0x8DB...\"".
std::string Unquote(std::string_view etag);

// One page of List Blobs.
struct BlobsPage {
  struct Entry {
    std::string name;  // the full blob name
    uint64_t size = 0;
    std::string etag;  // unquoted
    std::chrono::system_clock::time_point mtime{};
    std::string content_md5;  // base64, "" when none
  };
  std::vector<Entry> blobs;
  std::string next_marker;  // "" at the end
};
// kInternal naming what is wrong when `xml` is not an EnumerationResults document.
Result<BlobsPage> ParseListBlobs(std::string_view xml);

struct Block {
  std::string id;  // decoded block id
  uint64_t size = 0;
};
// The <UncommittedBlocks> (or, with `committed`, <CommittedBlocks>) of a Get Block List
// reply, block ids base64-decoded.
Result<std::vector<Block>> ParseBlockList(std::string_view xml, bool committed);
// Put Block List's body: every id (raw; encoded here) as <Latest>.
std::string BlockListXml(const std::vector<std::string>& ids);

// ferry's block ids: "ferry-" + the upload id (16 hex digits: 8 of the start time's unix
// seconds, 8 random) + "-" + the part number in 6 digits; every id of a blob has one length,
// as Azure requires. Part 0 is the marker block written when an upload opens, so that an
// upload with no part yet can be found and resumed; it is never committed.
std::string BlockId(std::string_view upload_id, int part_number);
// The upload id and part number of a ferry block id; nullopt for another tool's id.
std::optional<std::pair<std::string, int>> ParseBlockId(std::string_view id);
// A new upload id started at `now`.
std::string NewUploadId(std::chrono::system_clock::time_point now);
// When the upload `upload_id` started; nullopt when it is not one of ferry's.
std::optional<std::chrono::system_clock::time_point> UploadStarted(std::string_view upload_id);

// --- Blob Batch (azure_batch.cc; docs/design/azure.md §3) ---

// Azure takes at most this many subrequests in one Blob Batch request.
inline constexpr size_t kAzureBatchMax = 256;

// The multipart/mixed body of a Blob Batch: each subrequest (its request line and headers,
// ending in an empty line; BatchSubrequest) as an application/http part whose Content-ID is
// its index.
std::string AzureBatchBody(std::string_view boundary, const std::vector<std::string>& subrequests);

// One subrequest's answer in a Blob Batch reply.
struct AzureBatchAnswer {
  int status = 0;
  std::string error_code;  // x-ms-error-code, "" when none
};
// The answers of a Blob Batch reply (its Content-Type's boundary), by Content-ID. A part
// without a Content-ID or a status line is left out (the caller treats a missing answer as
// unknown). kInvalidArgument when the Content-Type has no boundary.
Result<std::map<int, AzureBatchAnswer>> ParseAzureBatchReply(std::string_view content_type,
                                                             std::string_view body);

}  // namespace ferry::storage::azure
