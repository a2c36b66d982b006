// The S3 event record of an outbox row (event_outbox.h): what S3 sends for its `Replication:`
// event types (S3 Replication Time Control's notifications), so that a receiver written for
// S3's records reads ferry's:
//
//   {"eventVersion": "2.2", "eventSource": "aws:s3", "awsRegion": REGION,
//    "eventTime": "2026-11-27T06:40:01.123Z", "eventName": "Replication:OperationFailedReplication",
//    "userIdentity": {"principalId": "ferry"}, "requestParameters": {"sourceIPAddress": "ferry"},
//    "responseElements": {"x-amz-request-id": ID, "x-amz-id-2": ""},
//    "s3": {"s3SchemaVersion": "1.0", "configurationId": "ferry-replication-events",
//           "bucket": {"name": B, "ownerIdentity": {"principalId": "ferry"}, "arn": "arn:aws:s3:::B"},
//           "object": {"key": URL-ENCODED KEY, "size": N, "eTag": E, "versionId": V,
//                      "sequencer": 16 HEX DIGITS}},
//    "replicationEventData": {"replicationRuleId": RULE, "destinationBucket": "arn:aws:s3:::D",
//                             "s3Operation": "OBJECT_PUT" | "OBJECT_DELETE",
//                             "requestTime": WRITE TIME, "failureReason": REASON,
//                             "threshold": "900", "replicationTime": "912"}}
//
// The key is URL-encoded as S3 encodes keys in its records (unreserved bytes and '/' as they
// are, a space as '+', any other byte %XX). versionId is left out for an unversioned source
// ("null"); eTag for a delete marker. `sequencer` is the outbox row's id in hex (ascending in
// the order the events happened in one store). failureReason (failed only) is S3's reason
// where one maps (the destination's bucket missing: DstBucketNotFound; refused:
// DstPutObjectNotPermitted, or DstDelObjNotPermitted for a delete marker), else ferry's reason (sla.h FailureReason:
// "unavailable", "data_loss", ...). threshold (missed and after threshold) and replicationTime
// (after threshold: from the write to the replica) are whole seconds.
//
// Pure; thread-safe.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "replicate/event_outbox.h"

namespace ferry::replicate {

struct EventRecordContext {
  // The awsRegion of a source (its recorded location name); null or "": "us-east-1".
  std::function<std::string(std::string_view source)> region_of;
};

// The bucket of a recorded location name: "ra:photos/a/" -> "photos", "s3://b/p/" -> "b", a
// local folder "/data/x/" -> "/data/x/" as is.
std::string BucketOfLocation(std::string_view location);
// S3's encoding of a key in an event record (above).
std::string EventKeyEncode(std::string_view key);
// S3's failureReason for a failed row, or ferry's (above).
std::string FailureReasonOf(const OutboxEvent& e);
// One record (a JSON object).
std::string EventRecordJson(const OutboxEvent& e, const EventRecordContext& context);
// {"Records": [...]} of `events`, in order.
std::string EventRecordsBody(std::span<const OutboxEvent> events,
                             const EventRecordContext& context);

}  // namespace ferry::replicate
