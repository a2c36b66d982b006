// Event: one bucket notification record, normalized across the stores that send them (AWS S3,
// Ceph RGW, MinIO). The parsers (events/parse.h) make them; `ferry serve` turns them into
// replication work.
//
// An event is a hint, not a fact: it says that something happened to a key at some point, and
// may arrive late, twice or out of order. Whoever acts on it reads the source first.
//
// Thread-safety: values; pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::events {

// Which store sent the record (its `eventSource`): it decides how the key is encoded.
enum class SourceKind {
  kAws,    // "aws:s3": keys URL-encoded as a form ("red flower.jpg" -> "red+flower.jpg")
  kRgw,    // "ceph:s3": keys sent raw
  kMinio,  // "minio:s3": keys URL-encoded ('/' as %2F, ' ' as '+')
};
std::string_view SourceKindName(SourceKind kind);  // "aws", "rgw", "minio"

// What happened, as far as replication cares. Only kCreated means new bytes to copy.
enum class EventKind {
  kCreated,              // ObjectCreated:Put, :Post, :Copy, :CompleteMultipartUpload
  kRemoved,              // ObjectRemoved:Delete (a version, or the object where unversioned)
  kDeleteMarkerCreated,  // ObjectRemoved:DeleteMarkerCreated
  kTagging,              // ObjectTagging:*; MinIO's ObjectCreated:PutTagging, :DeleteTagging
  kAcl,                  // ObjectAcl:Put
  kRetention,            // MinIO's ObjectCreated:PutRetention and :PutLegalHold (object lock)
  kLifecycleExpiration,  // LifecycleExpiration:*; RGW's ObjectLifecycle:Expiration:*
  kLifecycleTransition,  // LifecycleTransition, IntelligentTiering; RGW's ...:Transition:*
  kRestore,              // ObjectRestore:* (an archived copy made readable, or its expiry)
  kReplication,          // Replication:*; RGW's ObjectSynced:* (a write by multisite sync)
  kAccessed,             // MinIO's ObjectAccessed:* (a read: nothing changed)
  kOther,                // a well-formed name this module does not know (count it)
};
std::string_view EventKindName(EventKind kind);  // "created", "removed", ... (metric labels)

// The kind of an eventName, with or without the "s3:" prefix ("ObjectCreated:Put" and
// "s3:ObjectCreated:Put" are the same). A name not in the table is kOther.
EventKind ClassifyEventName(std::string_view name);

// `name` without a leading "s3:" (AWS and current RGW send none, MinIO and older RGW do).
std::string_view BareEventName(std::string_view name);

// One record, normalized.
struct Event {
  SourceKind source = SourceKind::kAws;
  EventKind kind = EventKind::kOther;
  std::string name;           // eventName as sent, e.g. "ObjectCreated:Put", "s3:ObjectCreated:Put"
  std::string event_version;  // "2.1", "2.2", ... (major version 2: checked by the parser)
  std::string bucket;
  std::string key;               // decoded: the object's real key (UTF-8, 1..1024 bytes, no NUL)
  std::string version_id;        // empty when the record names no version
  std::string sequencer;         // hex string ordering events on one key; may be empty
  std::optional<uint64_t> size;  // absent from deletes
  std::string etag;              // as sent (no quotes in practice); may be empty
  std::optional<std::chrono::system_clock::time_point> time;  // eventTime, when sent
  std::string region;            // awsRegion (RGW: the zonegroup); may be empty
  std::string configuration_id;  // s3.configurationId: the notification rule that matched
  std::string opaque_data;       // RGW's opaqueData (set on the topic); empty elsewhere
  std::string request_id;        // responseElements.x-amz-request-id
  std::string host_id;           // responseElements.x-amz-id-2 (RGW: gateway-zone-zonegroup)
  // RGW's s3.object.metadata (in the order sent) or MinIO's userMetadata (in key order); RGW's
  // s3.object.tags.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<std::pair<std::string, std::string>> tags;
};

}  // namespace ferry::events
