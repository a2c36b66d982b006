// cp/sync's write flags (write_flags.h).
#include "app/write_flags.h"

#include <algorithm>
#include <cctype>

namespace ferry::app {
namespace {

bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                     std::string_view::npos;
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7F &&
                                         static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

Result<std::optional<checksum::Algorithm>> ParseChecksumAlgorithmFlag(const std::string& value) {
  if (value.empty()) return std::optional<checksum::Algorithm>();
  std::optional<checksum::Algorithm> a = checksum::ParseAlgorithm(value);
  if (!a) {
    return Status::InvalidArgument("--checksum-algorithm: \"" + value +
                                   "\" is not one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256");
  }
  return a;
}

Result<transfer::MetadataOverrides> ParseMetadataFlags(const WriteFlags& flags) {
  transfer::MetadataOverrides o;
  std::string directive = flags.metadata_directive;
  std::transform(directive.begin(), directive.end(), directive.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (directive == "REPLACE") {
    o.replace = true;
  } else if (!directive.empty() && directive != "COPY") {
    return Status::InvalidArgument("--metadata-directive: \"" + flags.metadata_directive +
                                   "\" is not COPY or REPLACE");
  }
  for (const std::string& entry : flags.metadata) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--metadata: \"" + entry + "\" is not NAME=VALUE");
    }
    std::string name = entry.substr(0, eq);
    const std::string value = entry.substr(eq + 1);
    if (!std::all_of(name.begin(), name.end(), [](char c) { return IsTokenChar(c); })) {
      return Status::InvalidArgument("--metadata: the name \"" + name +
                                     "\" may hold only letters, digits and !#$%&'*+-.^_`|~");
    }
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name.starts_with("ferry-")) {
      return Status::InvalidArgument("--metadata: names starting with ferry- are ferry's own (\"" +
                                     name + "\")");
    }
    if (!IsPrintableAscii(value)) {
      return Status::InvalidArgument("--metadata: the value of \"" + name +
                                     "\" must be printable ASCII (S3 sends it in a header)");
    }
    if (o.metadata.count(name) != 0) {
      return Status::InvalidArgument("--metadata: \"" + name + "\" given twice");
    }
    o.metadata[name] = value;
  }
  if (!flags.content_type.empty() &&
      (!IsPrintableAscii(flags.content_type) || flags.content_type.find('/') == std::string::npos)) {
    return Status::InvalidArgument("--content-type: \"" + flags.content_type +
                                   "\" is not a media type such as text/plain");
  }
  o.content_type = flags.content_type;
  return o;
}

}  // namespace ferry::app
