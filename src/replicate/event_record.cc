// S3 event records of replication events (contract in event_record.h).
#include "replicate/event_record.h"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "replicate/sla.h"

namespace ferry::replicate {
namespace {

// "2026-11-27T06:40:01.123Z" of unix ns.
std::string IsoTime(int64_t ns) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{duration_cast<milliseconds>(nanoseconds(ns))};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buf;
}

std::string Seconds(int64_t ns) { return std::to_string(ns / 1'000'000'000); }

}  // namespace

std::string BucketOfLocation(std::string_view location) {
  if (location.starts_with("s3://")) location.remove_prefix(5);
  else if (const size_t colon = location.find(':'); colon != std::string_view::npos &&
                                                    !location.starts_with("/")) {
    location.remove_prefix(colon + 1);
  } else {
    return std::string(location);
  }
  return std::string(location.substr(0, location.find('/')));
}

std::string EventKeyEncode(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : key) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' ||
        b == '_' || b == '.' || b == '~' || b == '/') {
      out.push_back(c);
    } else if (b == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

std::string FailureReasonOf(const OutboxEvent& e) {
  // The destination's bucket is gone (s3/errors.cc says "bucket not found: B"); a missing
  // source bucket has no S3 reason.
  const std::string dst = BucketOfLocation(e.destination);
  if ((e.message.find("NoSuchBucket") != std::string::npos ||
       e.message.find("bucket not found: " + dst) != std::string::npos) &&
      e.message.find(dst) != std::string::npos) {
    return "DstBucketNotFound";
  }
  if (e.error_code == "kPermissionDenied" || e.error_code == "PermissionDenied") {
    return e.delete_marker ? "DstDelObjNotPermitted" : "DstPutObjectNotPermitted";
  }
  return FailureReason(e.error_code);
}

std::string EventRecordJson(const OutboxEvent& e, const EventRecordContext& context) {
  std::string region = context.region_of ? context.region_of(e.source) : "";
  if (region.empty()) region = "us-east-1";
  const std::string bucket = BucketOfLocation(e.source);
  char sequencer[24];
  std::snprintf(sequencer, sizeof sequencer, "%016llX", static_cast<unsigned long long>(e.id));
  nlohmann::ordered_json object = {{"key", EventKeyEncode(e.key)}, {"size", e.size}};
  if (!e.delete_marker && !e.source_etag.empty()) object["eTag"] = e.source_etag;
  if (e.source_version != "null" && !e.source_version.empty()) {
    object["versionId"] = e.source_version;
  }
  object["sequencer"] = sequencer;
  nlohmann::ordered_json data = {
      {"replicationRuleId", e.rule},
      {"destinationBucket", "arn:aws:s3:::" + BucketOfLocation(e.destination)},
      {"s3Operation", e.delete_marker ? "OBJECT_DELETE" : "OBJECT_PUT"},
      {"requestTime", IsoTime(e.pending_since_ns > 0 ? e.pending_since_ns : e.event_ns)}};
  if (e.event == ReplicationEvent::kFailed) data["failureReason"] = FailureReasonOf(e);
  if (e.event != ReplicationEvent::kFailed && e.threshold_ns > 0) {
    data["threshold"] = Seconds(e.threshold_ns);
  }
  if (e.event == ReplicationEvent::kAfterThreshold && e.pending_since_ns > 0) {
    data["replicationTime"] = Seconds(e.event_ns - e.pending_since_ns);
  }
  nlohmann::ordered_json record = {
      {"eventVersion", "2.2"},
      {"eventSource", "aws:s3"},
      {"awsRegion", region},
      {"eventTime", IsoTime(e.event_ns)},
      {"eventName", "Replication:" + std::string(ReplicationEventName(e.event))},
      {"userIdentity", {{"principalId", "ferry"}}},
      {"requestParameters", {{"sourceIPAddress", "ferry"}}},
      {"responseElements", {{"x-amz-request-id", sequencer}, {"x-amz-id-2", ""}}},
      {"s3",
       {{"s3SchemaVersion", "1.0"},
        {"configurationId", "ferry-replication-events"},
        {"bucket",
         {{"name", bucket}, {"ownerIdentity", {{"principalId", "ferry"}}},
          {"arn", "arn:aws:s3:::" + bucket}}},
        {"object", object}}},
      {"replicationEventData", data}};
  // Invalid UTF-8 in a key or message is replaced, never a reason to fail the delivery.
  return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string EventRecordsBody(std::span<const OutboxEvent> events,
                             const EventRecordContext& context) {
  std::string body = "{\"Records\":[";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0) body += ',';
    body += EventRecordJson(events[i], context);
  }
  return body + "]}";
}

}  // namespace ferry::replicate
