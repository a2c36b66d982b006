// The Blob API's formats (azure_format.h).
#include "storage/azure/azure_format.h"

#include <pugixml.hpp>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <random>

#include "checksum/checksum.h"
#include "s3/time_format.h"
#include "s3/uri.h"

namespace ferry::storage::azure {
namespace {

constexpr const char* kMetaHeader = "x-ms-meta-";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string AzureMetaLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status LoadAzureXml(pugi::xml_document& doc, std::string_view xml, const char* root) {
  const pugi::xml_parse_result r = doc.load_buffer(
      xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata_single,
      pugi::encoding_utf8);
  if (!r) return Status::Internal(std::string("malformed XML reply: ") + r.description());
  if (!doc.child(root)) {
    return Status::Internal(std::string("unexpected XML reply: no <") + root + ">");
  }
  return Status::Ok();
}

uint64_t AzureParseU64(const char* s) {
  uint64_t v = 0;
  std::from_chars(s, s + std::strlen(s), v);
  return v;
}

}  // namespace

std::string EncodeMetaName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool digit_first = i == 0 && c >= '0' && c <= '9';
    if (IsLowerAlnum(c) && !digit_first) {
      out += c;
    } else if (c == '_') {
      out += "__";
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "_%02x", static_cast<unsigned char>(c));
      out += hex;
    }
  }
  return out;
}

std::string DecodeMetaName(std::string_view stored) {
  const std::string lower = AzureMetaLower(stored);
  std::string out;
  for (size_t i = 0; i < lower.size(); ++i) {
    if (lower[i] != '_') {
      out += lower[i];
      continue;
    }
    if (i + 1 < lower.size() && lower[i + 1] == '_') {
      out += '_';
      ++i;
      continue;
    }
    const int hi = i + 2 < lower.size() ? HexValue(lower[i + 1]) : -1;
    const int lo = hi >= 0 ? HexValue(lower[i + 2]) : -1;
    if (lo < 0) return lower;  // not ferry's form: another tool's name, as it is
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

void AddWriteHeaders(const WriteSpec& spec, const std::map<std::string, std::string>& extra,
                     http::Headers& headers) {
  const ContentHeaders& c = spec.content;
  if (!c.content_type.empty()) headers.Set("x-ms-blob-content-type", c.content_type);
  if (!c.content_encoding.empty()) headers.Set("x-ms-blob-content-encoding", c.content_encoding);
  if (!c.content_language.empty()) headers.Set("x-ms-blob-content-language", c.content_language);
  if (!c.content_disposition.empty()) {
    headers.Set("x-ms-blob-content-disposition", c.content_disposition);
  }
  if (!c.cache_control.empty()) headers.Set("x-ms-blob-cache-control", c.cache_control);
  std::map<std::string, std::string> meta = spec.metadata;
  for (const auto& [k, v] : extra) meta[k] = v;
  for (const auto& [k, v] : meta) headers.Set(kMetaHeader + EncodeMetaName(k), v);
  if (!c.expires.empty()) headers.Set(std::string(kMetaHeader) + kExpiresMetaName, c.expires);
}

std::string Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

ObjectInfo InfoFromHeaders(std::string_view key, const http::Headers& headers) {
  ObjectInfo info;
  info.key = std::string(key);
  info.has_details = true;
  info.etag = Unquote(headers.Get("ETag"));
  // a ranged Get Blob's Content-Length is the range's; Content-Range names the whole size
  const std::string range = headers.Get("Content-Range");
  if (size_t slash = range.rfind('/'); slash != std::string::npos) {
    info.size = AzureParseU64(range.c_str() + slash + 1);
  } else {
    info.size = AzureParseU64(headers.Get("Content-Length").c_str());
  }
  if (auto t = s3::ParseHttpDate(headers.Get("Last-Modified"))) info.mtime = *t;
  info.content.content_type = headers.Get("Content-Type");
  info.content.content_encoding = headers.Get("Content-Encoding");
  info.content.content_language = headers.Get("Content-Language");
  info.content.content_disposition = headers.Get("Content-Disposition");
  info.content.cache_control = headers.Get("Cache-Control");
  for (const auto& [name, value] : headers.entries()) {
    const std::string lower = AzureMetaLower(name);
    if (!lower.starts_with(kMetaHeader)) continue;
    const std::string stored = lower.substr(std::string_view(kMetaHeader).size());
    if (stored == kExpiresMetaName) {
      info.content.expires = value;
    } else {
      info.metadata[DecodeMetaName(stored)] = value;
    }
  }
  return info;
}

Result<BlobsPage> ParseListBlobs(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(LoadAzureXml(doc, xml, "EnumerationResults"));
  const pugi::xml_node root = doc.child("EnumerationResults");
  BlobsPage page;
  for (pugi::xml_node b : root.child("Blobs").children("Blob")) {
    BlobsPage::Entry e;
    const pugi::xml_node name = b.child("Name");
    e.name = name.text().as_string();
    // names with characters XML 1.0 cannot carry come percent-encoded (version 2020-06-12+)
    if (name.attribute("Encoded").as_bool()) e.name = s3::UriDecode(e.name);
    const pugi::xml_node p = b.child("Properties");
    e.size = AzureParseU64(p.child("Content-Length").text().as_string());
    e.etag = Unquote(p.child("Etag").text().as_string());
    if (auto t = s3::ParseHttpDate(p.child("Last-Modified").text().as_string())) e.mtime = *t;
    e.content_md5 = p.child("Content-MD5").text().as_string();
    page.blobs.push_back(std::move(e));
  }
  page.next_marker = root.child("NextMarker").text().as_string();
  return page;
}

Result<std::vector<Block>> ParseBlockList(std::string_view xml, bool committed) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(LoadAzureXml(doc, xml, "BlockList"));
  std::vector<Block> out;
  const char* list = committed ? "CommittedBlocks" : "UncommittedBlocks";
  for (pugi::xml_node b : doc.child("BlockList").child(list).children("Block")) {
    std::optional<std::string> id = checksum::Base64Decode(b.child("Name").text().as_string());
    if (!id) return Status::Internal("block list: a block id is not base64");
    out.push_back({std::move(*id), AzureParseU64(b.child("Size").text().as_string())});
  }
  return out;
}

std::string BlockListXml(const std::vector<std::string>& ids) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (const std::string& id : ids) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(id.data());
    xml += "<Latest>" + checksum::Base64({bytes, id.size()}) + "</Latest>";
  }
  return xml + "</BlockList>";
}

std::string BlockId(std::string_view upload_id, int part_number) {
  char part[8];
  std::snprintf(part, sizeof part, "%06d", part_number);
  return "ferry-" + std::string(upload_id) + "-" + part;
}

std::optional<std::pair<std::string, int>> ParseBlockId(std::string_view id) {
  if (id.size() != 29 || !id.starts_with("ferry-") || id[22] != '-') return std::nullopt;
  const std::string_view upload = id.substr(6, 16);
  for (char c : upload) {
    if (HexValue(c) < 0) return std::nullopt;
  }
  int part = 0;
  const std::string_view digits = id.substr(23);
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), part);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return std::nullopt;
  return std::pair(std::string(upload), part);
}

std::string NewUploadId(std::chrono::system_clock::time_point now) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  char id[20];
  std::snprintf(id, sizeof id, "%08x%08x", static_cast<unsigned>(secs.count()),
                static_cast<unsigned>(rng()));
  return id;
}

std::optional<std::chrono::system_clock::time_point> UploadStarted(std::string_view upload_id) {
  if (upload_id.size() != 16) return std::nullopt;
  uint32_t secs = 0;
  auto r = std::from_chars(upload_id.data(), upload_id.data() + 8, secs, 16);
  if (r.ec != std::errc() || r.ptr != upload_id.data() + 8) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::seconds(secs));
}

std::string AzureBatchBody(std::string_view boundary,
                           const std::vector<std::string>& subrequests) {
  std::string body;
  for (size_t i = 0; i < subrequests.size(); ++i) {
    body += "--" + std::string(boundary) +
            "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            "Content-ID: " + std::to_string(i) + "\r\n\r\n" + subrequests[i];
  }
  body += "--" + std::string(boundary) + "--\r\n";
  return body;
}

namespace {

// The value of header `name` (case-insensitive) among the "Name: value" lines of `block`.
std::string AzureBatchHeader(std::string_view block, std::string_view name) {
  size_t at = 0;
  while (at < block.size()) {
    size_t end = block.find('\n', at);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && http::EqualsIgnoreCase(line.substr(0, colon), name)) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    at = end + 1;
  }
  return {};
}

}  // namespace

Result<std::map<int, AzureBatchAnswer>> ParseAzureBatchReply(std::string_view content_type,
                                                             std::string_view body) {
  const size_t b = content_type.find("boundary=");
  if (b == std::string_view::npos) {
    return Status::InvalidArgument("Blob Batch reply without a boundary: " +
                                   std::string(content_type.substr(0, 100)));
  }
  std::string boundary(content_type.substr(b + 9));
  boundary = boundary.substr(0, boundary.find(';'));
  if (boundary.size() >= 2 && boundary.front() == '"') {
    boundary = boundary.substr(1, boundary.size() - 2);
  }
  const std::string delimiter = "--" + boundary;
  std::map<int, AzureBatchAnswer> answers;
  size_t at = body.find(delimiter);
  while (at != std::string_view::npos) {
    const size_t start = at + delimiter.size();
    const size_t next = body.find(delimiter, start);
    const std::string_view part =
        body.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
    at = next;
    const std::string id = AzureBatchHeader(part.substr(0, part.find("HTTP/1.1 ")), "Content-ID");
    const size_t line = part.find("HTTP/1.1 ");
    int content_id = 0;
    int status = 0;
    if (id.empty() || line == std::string_view::npos ||
        std::from_chars(id.data(), id.data() + id.size(), content_id).ec != std::errc() ||
        std::from_chars(part.data() + line + 9, part.data() + part.size(), status).ec !=
            std::errc()) {
      continue;
    }
    answers[content_id] = {status, AzureBatchHeader(part.substr(line), "x-ms-error-code")};
  }
  return answers;
}

}  // namespace ferry::storage::azure
