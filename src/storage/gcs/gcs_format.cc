// GCS JSON documents (gcs_format.h).
#include "storage/gcs/gcs_format.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "checksum/checksum.h"
#include "s3/time_format.h"

namespace ferry::storage::gcs {
namespace {

using Json = nlohmann::json;

std::string GcsStringField(const Json& doc, const char* name) {
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<GcsObject> ObjectFromJson(const Json& doc) {
  if (!doc.is_object()) return Status::InvalidArgument("GCS object resource is not an object");
  GcsObject o;
  o.name = GcsStringField(doc, "name");
  if (o.name.empty()) return Status::InvalidArgument("GCS object resource without a name");
  ObjectInfo& info = o.info;
  info.key = o.name;
  const std::string size = GcsStringField(doc, "size");  // int64 values are JSON strings
  if (std::from_chars(size.data(), size.data() + size.size(), info.size).ec != std::errc() ||
      size.empty()) {
    return Status::InvalidArgument("GCS object '" + o.name + "' has no size");
  }
  o.generation = GcsStringField(doc, "generation");
  o.md5_base64 = GcsStringField(doc, "md5Hash");
  o.crc32c_base64 = GcsStringField(doc, "crc32c");
  // the MD5 (hex) is the ETag where the object has one, so that an S3 side's ETag compares;
  // a composite object's generation is no digest (never 32 hex digits)
  if (std::optional<std::string> md5 = checksum::Base64Decode(o.md5_base64);
      md5 && md5->size() == 16) {
    info.etag = checksum::Hex({reinterpret_cast<const uint8_t*>(md5->data()), md5->size()});
  } else {
    info.etag = o.generation;
  }
  if (!o.crc32c_base64.empty()) {
    info.checksum = checksum::ParseDeclared(checksum::Algorithm::kCrc32c, o.crc32c_base64);
  }
  if (auto t = s3::ParseIso8601(GcsStringField(doc, "updated"))) info.mtime = *t;
  info.has_details = true;
  info.content.content_type = GcsStringField(doc, "contentType");
  info.content.content_encoding = GcsStringField(doc, "contentEncoding");
  info.content.content_language = GcsStringField(doc, "contentLanguage");
  info.content.content_disposition = GcsStringField(doc, "contentDisposition");
  info.content.cache_control = GcsStringField(doc, "cacheControl");
  if (auto it = doc.find("metadata"); it != doc.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) continue;
      if (k == kGcsExpiresMeta) {
        info.content.expires = v.get<std::string>();
      } else {
        info.metadata[k] = v.get<std::string>();
      }
    }
  }
  return o;
}

}  // namespace

Result<GcsObject> ParseObjectResource(std::string_view json) {
  return ObjectFromJson(Json::parse(json, nullptr, false));
}

Result<GcsObjectsPage> ParseObjectsPage(std::string_view json) {
  Json doc = Json::parse(json, nullptr, false);
  if (!doc.is_object()) return Status::InvalidArgument("objects.list reply is not JSON");
  GcsObjectsPage page;
  page.next_page_token = GcsStringField(doc, "nextPageToken");
  if (auto it = doc.find("items"); it != doc.end()) {
    if (!it->is_array()) return Status::InvalidArgument("objects.list items is not a list");
    for (const Json& item : *it) {
      FERRY_ASSIGN_OR_RETURN(GcsObject o, ObjectFromJson(item));
      page.objects.push_back(std::move(o));
    }
  }
  return page;
}

Result<GcsRewrite> ParseRewriteReply(std::string_view json) {
  Json doc = Json::parse(json, nullptr, false);
  if (!doc.is_object()) return Status::InvalidArgument("objects.rewrite reply is not JSON");
  GcsRewrite r;
  if (auto it = doc.find("done"); it != doc.end() && it->is_boolean()) r.done = it->get<bool>();
  if (r.done) {
    auto res = doc.find("resource");
    if (res == doc.end()) return Status::InvalidArgument("objects.rewrite done without a resource");
    FERRY_ASSIGN_OR_RETURN(GcsObject o, ObjectFromJson(*res));
    r.object = std::move(o);
    return r;
  }
  r.token = GcsStringField(doc, "rewriteToken");
  if (r.token.empty()) {
    return Status::InvalidArgument("objects.rewrite reply neither done nor with a rewriteToken");
  }
  return r;
}

std::string UploadResource(std::string_view name, const WriteSpec& spec,
                           const std::map<std::string, std::string>& extra_metadata,
                           std::string_view md5_base64, std::string_view crc32c_base64) {
  Json doc = {{"name", std::string(name)}};
  const ContentHeaders& c = spec.content;
  for (auto [field, value] : {std::pair{"contentType", &c.content_type},
                              std::pair{"contentEncoding", &c.content_encoding},
                              std::pair{"contentLanguage", &c.content_language},
                              std::pair{"contentDisposition", &c.content_disposition},
                              std::pair{"cacheControl", &c.cache_control}}) {
    if (!value->empty()) doc[field] = *value;
  }
  Json meta = Json::object();
  for (const auto& [k, v] : spec.metadata) meta[k] = v;
  for (const auto& [k, v] : extra_metadata) meta[k] = v;
  if (!c.expires.empty()) meta[kGcsExpiresMeta] = c.expires;
  if (!meta.empty()) doc["metadata"] = std::move(meta);
  if (!md5_base64.empty()) doc["md5Hash"] = std::string(md5_base64);
  if (!crc32c_base64.empty()) doc["crc32c"] = std::string(crc32c_base64);
  return doc.dump();
}

std::string MultipartBody(std::string_view boundary, std::string_view resource_json,
                          std::span<const std::byte> data) {
  std::string body;
  body.reserve(resource_json.size() + data.size() + 3 * boundary.size() + 128);
  body += "--" + std::string(boundary) +
          "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n";
  body += resource_json;
  body += "\r\n--" + std::string(boundary) + "\r\nContent-Type: application/octet-stream\r\n\r\n";
  body.append(reinterpret_cast<const char*>(data.data()), data.size());
  body += "\r\n--" + std::string(boundary) + "--\r\n";
  return body;
}

GoogHash ParseGoogHash(const std::vector<std::string>& values) {
  GoogHash h;
  for (const std::string& value : values) {
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      std::string_view part = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      if (part.starts_with("crc32c=")) h.crc32c = std::string(part.substr(7));
      if (part.starts_with("md5=")) h.md5 = std::string(part.substr(4));
    }
  }
  return h;
}

std::string Crc32cBase64(uint32_t crc) {
  const uint8_t be[4] = {static_cast<uint8_t>(crc >> 24), static_cast<uint8_t>(crc >> 16),
                         static_cast<uint8_t>(crc >> 8), static_cast<uint8_t>(crc)};
  return checksum::Base64(be);
}

}  // namespace ferry::storage::gcs
