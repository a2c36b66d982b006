// ContentClass: Content-Type first, then the extension (contract in content_class.h).
#include "transport/content_class.h"

#include <string>

namespace ferry::transport {
namespace {

struct Mapping {
  std::string_view name;  // a full MIME type, "major/" for a whole family, or an extension
  std::string_view cls;
};

// Exact MIME types (after lower-casing and dropping parameters), then whole families.
constexpr Mapping kTypes[] = {
    {"text/csv", "csv"},
    {"text/tab-separated-values", "csv"},
    {"application/csv", "csv"},
    {"application/json", "json"},
    {"application/x-ndjson", "json"},
    {"application/ndjson", "json"},
    {"application/jsonl", "json"},
    {"application/geo+json", "json"},
    {"text/json", "json"},
    {"application/xml", "xml"},
    {"text/xml", "xml"},
    {"application/atom+xml", "xml"},
    {"application/rss+xml", "xml"},
    {"image/svg+xml", "xml"},
    {"text/html", "html"},
    {"application/xhtml+xml", "html"},
    {"text/plain", "text"},
    {"text/markdown", "text"},
    {"application/javascript", "source"},
    {"text/javascript", "source"},
    {"text/css", "source"},
    {"text/x-python", "source"},
    {"text/x-c", "source"},
    {"application/x-sh", "source"},
    {"application/sql", "sql"},
    {"application/vnd.apache.parquet", "parquet"},
    {"application/x-parquet", "parquet"},
    {"application/pdf", "pdf"},
    {"application/gzip", "compressed"},
    {"application/x-gzip", "compressed"},
    {"application/zip", "compressed"},
    {"application/zstd", "compressed"},
    {"application/x-bzip2", "compressed"},
    {"application/x-xz", "compressed"},
    {"application/x-7z-compressed", "compressed"},
    {"application/x-tar", "binary"},
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "office"},
    {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "office"},
    {"application/msword", "office"},
    {"application/vnd.ms-excel", "office"},
    {"image/", "image"},
    {"audio/", "audio"},
    {"video/", "video"},
    {"text/", "text"},
};

constexpr Mapping kExtensions[] = {
    {"csv", "csv"},        {"tsv", "csv"},        {"json", "json"},      {"jsonl", "json"},
    {"ndjson", "json"},    {"geojson", "json"},   {"xml", "xml"},        {"svg", "xml"},
    {"rss", "xml"},        {"html", "html"},      {"htm", "html"},       {"xhtml", "html"},
    {"txt", "text"},       {"md", "text"},        {"rst", "text"},       {"tex", "text"},
    {"log", "log"},        {"out", "log"},        {"err", "log"},        {"c", "source"},
    {"cc", "source"},      {"cpp", "source"},     {"h", "source"},       {"hpp", "source"},
    {"py", "source"},      {"js", "source"},      {"ts", "source"},      {"go", "source"},
    {"rs", "source"},      {"java", "source"},    {"rb", "source"},      {"sh", "source"},
    {"css", "source"},     {"yaml", "source"},    {"yml", "source"},     {"toml", "source"},
    {"ini", "source"},     {"cfg", "source"},     {"sql", "sql"},        {"parquet", "parquet"},
    {"orc", "parquet"},    {"avro", "parquet"},   {"pdf", "pdf"},        {"jpg", "image"},
    {"jpeg", "image"},     {"png", "image"},      {"gif", "image"},      {"webp", "image"},
    {"tif", "image"},      {"tiff", "image"},     {"bmp", "image"},      {"heic", "image"},
    {"mp3", "audio"},      {"flac", "audio"},     {"wav", "audio"},      {"ogg", "audio"},
    {"aac", "audio"},      {"mp4", "video"},      {"mkv", "video"},      {"mov", "video"},
    {"webm", "video"},     {"avi", "video"},      {"gz", "compressed"},  {"tgz", "compressed"},
    {"zip", "compressed"}, {"zst", "compressed"}, {"bz2", "compressed"}, {"xz", "compressed"},
    {"7z", "compressed"},  {"lz4", "compressed"}, {"br", "compressed"},  {"snappy", "compressed"},
    {"pt", "model"},       {"pth", "model"},      {"onnx", "model"},     {"safetensors", "model"},
    {"gguf", "model"},     {"h5", "model"},       {"bin", "binary"},     {"dat", "binary"},
    {"tar", "binary"},     {"db", "binary"},      {"sqlite", "binary"},  {"so", "binary"},
    {"exe", "binary"},     {"o", "binary"},       {"docx", "office"},    {"xlsx", "office"},
    {"pptx", "office"},    {"doc", "office"},     {"xls", "office"},     {"odt", "office"},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view FromType(std::string_view content_type) {
  const std::string type = Lower(Trim(content_type.substr(0, content_type.find(';'))));
  if (type.empty()) return {};
  for (const Mapping& m : kTypes) {
    if (m.name.back() != '/' && type == m.name) return m.cls;
  }
  // Structured-syntax suffixes (RFC 6839): application/vnd.foo+json is JSON.
  if (type.ends_with("+json")) return "json";
  if (type.ends_with("+xml")) return "xml";
  for (const Mapping& m : kTypes) {
    if (m.name.back() == '/' && type.starts_with(m.name)) return m.cls;
  }
  return {};
}

std::string_view FromKey(std::string_view key) {
  const size_t slash = key.rfind('/');
  std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  const size_t dot = name.rfind('.');
  // No extension, or a name that only starts with a dot (".profile").
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return {};
  const std::string ext = Lower(name.substr(dot + 1));
  for (const Mapping& m : kExtensions) {
    if (ext == m.name) return m.cls;
  }
  return {};
}

}  // namespace

std::string_view ContentClass(std::string_view content_type, std::string_view key) {
  if (std::string_view c = FromType(content_type); !c.empty()) return c;
  if (std::string_view c = FromKey(key); !c.empty()) return c;
  return "other";
}

}  // namespace ferry::transport
