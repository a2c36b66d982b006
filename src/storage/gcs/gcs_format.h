// The GCS JSON API's documents as ferry's types (docs/design/gcs.md §3): object resources
// as ObjectInfo, a WriteSpec as the resource of an upload, the multipart/related body of a
// one-request upload, the x-goog-hash header. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/backend.h"
#include "storage/object_info.h"

namespace ferry::storage::gcs {

// The user metadata name that holds Expires (GCS objects have no such property).
inline constexpr const char* kGcsExpiresMeta = "ferry-expires";

// One object resource of a listing or a metadata GET.
struct GcsObject {
  std::string name;  // the full object name (the backend's prefix included)
  ObjectInfo info;   // key = name; has_details set (the resource carries them all)
  std::string generation;
  std::string md5_base64;     // "" for composite objects
  std::string crc32c_base64;  // always on GCS
};

// Parses one object resource (a JSON object). kInvalidArgument naming what is malformed.
Result<GcsObject> ParseObjectResource(std::string_view json);

struct GcsObjectsPage {
  std::vector<GcsObject> objects;
  std::string next_page_token;  // "" at the end
};
// Parses an objects.list reply.
Result<GcsObjectsPage> ParseObjectsPage(std::string_view json);

// An objects.rewrite reply: done with the new object's resource, or a token to call again with.
struct GcsRewrite {
  bool done = false;
  std::string token;  // rewriteToken, when not done
  std::optional<GcsObject> object;  // when done
};
// Parses an objects.rewrite reply; kInvalidArgument when it is neither done with a resource
// nor carries a token.
Result<GcsRewrite> ParseRewriteReply(std::string_view json);

// The object resource of a write: name, content headers, user metadata (Expires kept as
// kGcsExpiresMeta), and the checksums the service is to check the bytes against (base64;
// "" = not sent).
std::string UploadResource(std::string_view name, const WriteSpec& spec,
                           const std::map<std::string, std::string>& extra_metadata,
                           std::string_view md5_base64, std::string_view crc32c_base64);

// A multipart/related body: the resource (JSON), then the bytes. `boundary` must not occur in
// either (the caller picks a random one).
std::string MultipartBody(std::string_view boundary, std::string_view resource_json,
                          std::span<const std::byte> data);

// The x-goog-hash header's values ("crc32c=...,md5=..."; also given as two headers).
struct GoogHash {
  std::string crc32c;  // base64 of the 4 big-endian bytes; "" when absent
  std::string md5;     // base64; "" when absent
};
GoogHash ParseGoogHash(const std::vector<std::string>& values);

// CRC32C as GCS writes it: base64 of the 4 bytes, big-endian.
std::string Crc32cBase64(uint32_t crc);

}  // namespace ferry::storage::gcs
