// The records of an S3 notification ({"Records":[...]}) as AWS S3, Ceph RGW and MinIO send
// them, each made one normalized Event.
#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "events/errors.h"
#include "events/parse_internal.h"

namespace ferry::events::internal {
namespace {

using nlohmann::json;

constexpr size_t kMaxKeyBytes = 1024;       // S3's limit on a key
constexpr size_t kMaxBucketBytes = 255;     // longer than any store allows
constexpr size_t kMaxEventNameBytes = 128;  // the longest real name is under 64

// Reads one record; every refusal names the record.
class RecordReader {
 public:
  RecordReader(const json& record, size_t index, const ParseOptions& options)
      : r_(record), index_(index), options_(options) {}

  Result<Event> Read();

 private:
  Status Fail(Reason reason, std::string_view what) const {
    return Refuse(reason, "record " + std::to_string(index_) + ": " + std::string(what));
  }
  Status ReadHeader(Event& e) const;
  Status ReadBucket(const json& s3, Event& e) const;
  Status ReadKey(const json& object, Event& e) const;
  Status ReadObjectDetails(const json& object, Event& e) const;
  Status ReadTime(Event& e) const;
  // A member that must be a non-empty string: missing_field when absent, null or empty,
  // invalid_field when of another type.
  Status RequiredString(const json& j, const char* name, std::string_view path,
                        const std::string*& out) const;
  // A member that is absent, null or a string; `out` keeps "" for the first two.
  Status OptionalString(const json& j, const char* name, std::string_view path,
                        std::string& out) const;

  const json& r_;
  size_t index_;
  const ParseOptions& options_;
};

// "2.1" -> true; a major version other than 2, or no version at all, is false.
bool IsVersion2(std::string_view v) {
  const size_t dot = v.find('.');
  const std::string_view major = v.substr(0, dot);
  if (major != "2") return false;
  if (dot == std::string_view::npos) return true;
  const std::string_view minor = v.substr(dot + 1);
  if (minor.empty()) return false;
  for (char c : minor) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<SourceKind> SourceOf(std::string_view event_source) {
  if (event_source == "aws:s3") return SourceKind::kAws;
  if (event_source == "ceph:s3") return SourceKind::kRgw;
  if (event_source == "minio:s3") return SourceKind::kMinio;
  return std::nullopt;
}

bool IsPrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// `s` quoted for a message: at most 32 characters, anything but printable ASCII as '?'.
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 32)) out += (c >= 0x20 && c <= 0x7e) ? c : '?';
  if (s.size() > 32) out += "...";
  return out + "\"";
}

// RGW sends metadata and tags as [{"key":k,"val":v}], MinIO its userMetadata as {k:v}. Entries
// of another shape are left out (these are informational).
std::vector<std::pair<std::string, std::string>> Pairs(const json* j) {
  std::vector<std::pair<std::string, std::string>> out;
  if (j == nullptr) return out;
  if (j->is_object()) {
    for (const auto& [k, v] : j->items()) {
      if (v.is_string()) out.emplace_back(k, v.get<std::string>());
    }
  } else if (j->is_array()) {
    for (const json& entry : *j) {
      const std::string* k = StringMember(entry, "key");
      const std::string* v = StringMember(entry, "val");
      if (k != nullptr && v != nullptr) out.emplace_back(*k, *v);
    }
  }
  return out;
}

const json* Member(const json& j, const char* name) {
  const auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

}  // namespace

Result<Event> RecordReader::Read() {
  if (!r_.is_object()) return Fail(Reason::kInvalidField, "is not an object");
  Event e;
  FERRY_RETURN_IF_ERROR(ReadHeader(e));
  const json* s3 = ObjectMember(r_, "s3");
  if (s3 == nullptr) return Fail(Reason::kMissingField, "no s3 object");
  FERRY_RETURN_IF_ERROR(ReadBucket(*s3, e));
  const json* object = ObjectMember(*s3, "object");
  if (object == nullptr) return Fail(Reason::kMissingField, "no s3.object");
  FERRY_RETURN_IF_ERROR(ReadKey(*object, e));
  FERRY_RETURN_IF_ERROR(ReadObjectDetails(*object, e));
  FERRY_RETURN_IF_ERROR(ReadTime(e));
  e.configuration_id = StringOr(*s3, "configurationId");
  e.region = StringOr(r_, "awsRegion");
  e.opaque_data = StringOr(r_, "opaqueData");
  if (const json* response = ObjectMember(r_, "responseElements")) {
    e.request_id = StringOr(*response, "x-amz-request-id");
    e.host_id = StringOr(*response, "x-amz-id-2");
  }
  return e;
}

Status RecordReader::ReadHeader(Event& e) const {
  const std::string* version = nullptr;
  FERRY_RETURN_IF_ERROR(RequiredString(r_, "eventVersion", "eventVersion", version));
  if (!IsVersion2(*version)) {
    return Fail(Reason::kUnknownVersion,
                "eventVersion " + Quoted(*version) + " (only 2.x is understood)");
  }
  e.event_version = *version;

  if (options_.source_override) {
    e.source = *options_.source_override;
  } else {
    const std::string* source = nullptr;
    FERRY_RETURN_IF_ERROR(RequiredString(r_, "eventSource", "eventSource", source));
    const auto kind = SourceOf(*source);
    if (!kind) {
      return Fail(Reason::kUnknownSource,
                  "eventSource " + Quoted(*source) + " is not aws:s3, ceph:s3 or minio:s3");
    }
    e.source = *kind;
  }

  const std::string* name = nullptr;
  FERRY_RETURN_IF_ERROR(RequiredString(r_, "eventName", "eventName", name));
  if (name->size() > kMaxEventNameBytes || !IsPrintableAscii(*name)) {
    return Fail(Reason::kInvalidField, "eventName is not an event name");
  }
  e.name = *name;
  e.kind = ClassifyEventName(*name);
  return Status::Ok();
}

Status RecordReader::ReadBucket(const json& s3, Event& e) const {
  const json* bucket = ObjectMember(s3, "bucket");
  if (bucket == nullptr) return Fail(Reason::kMissingField, "no s3.bucket");
  const std::string* name = nullptr;
  FERRY_RETURN_IF_ERROR(RequiredString(*bucket, "name", "s3.bucket.name", name));
  for (char c : *name) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20) {
      return Fail(Reason::kInvalidField, "s3.bucket.name is not a bucket name");
    }
  }
  if (name->size() > kMaxBucketBytes) {
    return Fail(Reason::kInvalidField, "s3.bucket.name is longer than any bucket name");
  }
  e.bucket = *name;
  return Status::Ok();
}

Status RecordReader::ReadKey(const json& object, Event& e) const {
  const json* key = Member(object, "key");
  if (key == nullptr || key->is_null()) return Fail(Reason::kMissingField, "no s3.object.key");
  if (!key->is_string()) return Fail(Reason::kInvalidField, "s3.object.key is not a string");
  const auto& sent = key->get_ref<const std::string&>();
  if (e.source == SourceKind::kRgw) {
    e.key = sent;  // RGW sends keys raw
  } else {
    std::optional<std::string> decoded = FormDecode(sent);
    if (!decoded) return Fail(Reason::kInvalidKey, "s3.object.key has a bad %-escape");
    e.key = std::move(*decoded);
  }
  if (e.key.empty()) return Fail(Reason::kInvalidKey, "s3.object.key is empty");
  if (e.key.size() > kMaxKeyBytes) {
    return Fail(Reason::kInvalidKey, "s3.object.key is longer than 1024 bytes once decoded");
  }
  if (e.key.find('\0') != std::string::npos || !IsUtf8(e.key)) {
    return Fail(Reason::kInvalidKey, "s3.object.key is not NUL-free UTF-8 once decoded");
  }
  return Status::Ok();
}

Status RecordReader::ReadObjectDetails(const json& object, Event& e) const {
  if (const json* size = Member(object, "size"); size != nullptr && !size->is_null()) {
    if (size->is_number_unsigned()) {
      e.size = size->get<uint64_t>();
    } else if (size->is_string()) {
      // RGW sends the size as a string.
      const auto& text = size->get_ref<const std::string&>();
      uint64_t v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return Fail(Reason::kInvalidField, "s3.object.size is not a byte count");
      }
      e.size = v;
    } else {
      return Fail(Reason::kInvalidField, "s3.object.size is not a byte count");
    }
  }
  FERRY_RETURN_IF_ERROR(OptionalString(object, "versionId", "s3.object.versionId", e.version_id));
  FERRY_RETURN_IF_ERROR(OptionalString(object, "sequencer", "s3.object.sequencer", e.sequencer));
  e.etag = StringOr(object, "eTag");
  e.metadata = Pairs(Member(object, "metadata"));
  if (e.metadata.empty()) e.metadata = Pairs(Member(object, "userMetadata"));
  e.tags = Pairs(Member(object, "tags"));
  return Status::Ok();
}

Status RecordReader::ReadTime(Event& e) const {
  const json* time = Member(r_, "eventTime");
  if (time == nullptr || time->is_null()) return Status::Ok();
  if (!time->is_string()) return Fail(Reason::kInvalidField, "eventTime is not a string");
  e.time = ParseEventTime(time->get_ref<const std::string&>());
  if (!e.time) return Fail(Reason::kInvalidField, "eventTime is not an ISO 8601 time");
  return Status::Ok();
}

Status RecordReader::RequiredString(const json& j, const char* name, std::string_view path,
                                    const std::string*& out) const {
  const json* member = Member(j, name);
  if (member == nullptr || member->is_null())
    return Fail(Reason::kMissingField, "no " + std::string(path));
  if (!member->is_string()) {
    return Fail(Reason::kInvalidField, std::string(path) + " is not a string");
  }
  out = member->get_ptr<const std::string*>();
  if (out->empty()) return Fail(Reason::kMissingField, std::string(path) + " is empty");
  return Status::Ok();
}

Status RecordReader::OptionalString(const json& j, const char* name, std::string_view path,
                                    std::string& out) const {
  const json* member = Member(j, name);
  if (member == nullptr || member->is_null()) return Status::Ok();
  if (!member->is_string())
    return Fail(Reason::kInvalidField, std::string(path) + " is not a string");
  out = member->get<std::string>();
  return Status::Ok();
}

Result<std::vector<Event>> ParseRecords(const json& j, const ParseOptions& options) {
  const json* records = Member(j, "Records");
  if (records == nullptr || !records->is_array()) {
    return Refuse(Reason::kInvalidField, "Records is not an array");
  }
  std::vector<Event> events;
  events.reserve(records->size());
  for (size_t i = 0; i < records->size(); ++i) {
    FERRY_ASSIGN_OR_RETURN(Event e, RecordReader((*records)[i], i, options).Read());
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace ferry::events::internal
