// The event intake's normalizer: one raw notification body in, normalized events out. No
// network, no threads, no state: `ferry serve` gives it each body it receives (from an RGW or
// MinIO webhook, from SNS, from an SQS message) and acts on what comes out.
//
// Bodies understood (see docs/design/events.md for each store's differences):
//   - S3 notification JSON {"Records":[...]} as AWS S3, Ceph RGW and MinIO send it (MinIO's
//     top-level "EventName" and "Key" are accepted and ignored: the records say the same);
//   - S3's test event {"Service":"Amazon S3","Event":"s3:TestEvent",...};
//   - an SNS envelope: a Notification whose Message is one of the two above, or a
//     SubscriptionConfirmation / UnsubscribeConfirmation.
//
// Anything else is refused with a Status whose message starts with a reason word
// (events/errors.h): too_large, malformed_json, unknown_body, unknown_version, unknown_source,
// missing_field, invalid_field, invalid_key. One bad record refuses the whole body (the message
// names the record). Nothing here throws or aborts, whatever the body.
//
// Strictness: the fields that say which object and which change (eventVersion, eventSource,
// eventName, bucket, key, versionId, sequencer, size, eventTime) are checked and refused when
// wrong; informational extras (eTag, region, ids, opaqueData, metadata, tags) are taken when
// they have the expected type and otherwise left empty.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "events/event.h"
#include "events/sns.h"

namespace ferry::events {

struct ParseOptions {
  // A longer body is refused unread (too_large). SNS messages are at most 256 KiB and S3's
  // notifications at most 64 KiB; RGW and MinIO send one record per body.
  size_t max_body_bytes = 256 * 1024;
  // When set, every record is taken as sent by this store whatever its eventSource says (and an
  // unknown eventSource is no error): for a webhook known to be fed by one store, e.g. an RGW
  // older than Octopus, which sent "aws:s3" with raw keys.
  std::optional<SourceKind> source_override;
};

// S3's test event: sent once when a notification configuration is set on a bucket, to check
// the destination. Nothing to replicate.
struct TestEvent {
  std::string service;  // "Amazon S3"
  std::string bucket;
  std::string request_id;
  std::string host_id;
  std::optional<std::chrono::system_clock::time_point> time;
};

enum class BodyKind {
  kRecords,       // events: zero or more records
  kTestEvent,     // test
  kSubscription,  // sns->type is kSubscriptionConfirmation or kUnsubscribeConfirmation
};
std::string_view BodyKindName(BodyKind kind);  // "records", "test_event", "subscription"

struct ParsedBody {
  BodyKind kind = BodyKind::kRecords;
  std::vector<Event> events;  // kRecords: in the order of the Records array
  TestEvent test;             // kTestEvent
  // The SNS envelope the body came in, if it came in one (always for kSubscription). Its
  // signature is not checked here: see events/sns.h.
  std::optional<SnsEnvelope> sns;
};

// Any body above: SNS envelopes are recognised by their "Type" member, a Notification's
// Message parsed as an S3 body.
Result<ParsedBody> ParseBody(std::string_view body, const ParseOptions& options = {});

// An S3 body only (records or a test event), as in an SQS message with raw delivery; an SNS
// envelope is unknown_body here.
Result<ParsedBody> ParseS3Message(std::string_view body, const ParseOptions& options = {});

// An SNS envelope only, its Message left unread: to check a signature before reading further.
// Type, TopicArn and MessageId are required, Message for a Notification, SubscribeURL and Token
// for the confirmations (missing_field); an unknown Type is invalid_field.
Result<SnsEnvelope> ParseSnsEnvelope(std::string_view body, const ParseOptions& options = {});

}  // namespace ferry::events
