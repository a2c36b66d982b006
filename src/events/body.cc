// One raw body: which shape it is (S3 records, S3's test event, an SNS envelope), and its
// parse. The records themselves are read in records.cc.
#include <exception>
#include <string>
#include <utility>

#include "events/errors.h"
#include "events/parse.h"
#include "events/parse_internal.h"

namespace ferry::events {
namespace {

using internal::StringMember;
using internal::StringOr;
using nlohmann::json;

Result<TestEvent> ReadTestEvent(const json& j) {
  TestEvent test;
  test.service = StringOr(j, "Service");
  test.bucket = StringOr(j, "Bucket");
  test.request_id = StringOr(j, "RequestId");
  test.host_id = StringOr(j, "HostId");
  if (const std::string* time = StringMember(j, "Time")) {
    test.time = internal::ParseEventTime(*time);
    if (!test.time) return Refuse(Reason::kInvalidField, "test event Time is not an ISO 8601 time");
  }
  return test;
}

// An S3 body already parsed: records or a test event.
Result<ParsedBody> ReadS3Body(const json& j, const ParseOptions& options) {
  ParsedBody out;
  if (j.contains("Records")) {
    FERRY_ASSIGN_OR_RETURN(out.events, internal::ParseRecords(j, options));
    return out;
  }
  const std::string* event = StringMember(j, "Event");
  if (event != nullptr && *event == "s3:TestEvent") {
    out.kind = BodyKind::kTestEvent;
    FERRY_ASSIGN_OR_RETURN(out.test, ReadTestEvent(j));
    return out;
  }
  return Refuse(Reason::kUnknownBody, "neither Records, an s3:TestEvent nor an SNS envelope");
}

// A signed string member that must be there and not be empty.
Status Require(const json& j, const char* name, std::string& out) {
  const std::string* s = StringMember(j, name);
  if (s == nullptr || s->empty()) {
    return Refuse(Reason::kMissingField, std::string("SNS envelope has no ") + name);
  }
  out = *s;
  return Status::Ok();
}

Result<SnsEnvelope> ReadEnvelope(const json& j) {
  SnsEnvelope env;
  const std::string* type = StringMember(j, "Type");
  if (type == nullptr || type->empty()) {
    return Refuse(Reason::kMissingField, "SNS envelope has no Type");
  }
  if (*type == "Notification") {
    env.type = SnsType::kNotification;
  } else if (*type == "SubscriptionConfirmation") {
    env.type = SnsType::kSubscriptionConfirmation;
  } else if (*type == "UnsubscribeConfirmation") {
    env.type = SnsType::kUnsubscribeConfirmation;
  } else {
    return Refuse(Reason::kInvalidField, "SNS envelope has an unknown Type");
  }
  FERRY_RETURN_IF_ERROR(Require(j, "MessageId", env.message_id));
  FERRY_RETURN_IF_ERROR(Require(j, "TopicArn", env.topic_arn));
  if (env.type == SnsType::kNotification) {
    FERRY_RETURN_IF_ERROR(Require(j, "Message", env.message));
    if (const auto it = j.find("Subject"); it != j.end() && !it->is_null()) {
      if (!it->is_string()) return Refuse(Reason::kInvalidField, "SNS Subject is not a string");
      env.subject = it->get<std::string>();
    }
    env.unsubscribe_url = StringOr(j, "UnsubscribeURL");
  } else {
    env.message = StringOr(j, "Message");
    FERRY_RETURN_IF_ERROR(Require(j, "SubscribeURL", env.subscribe_url));
    FERRY_RETURN_IF_ERROR(Require(j, "Token", env.token));
  }
  env.timestamp = StringOr(j, "Timestamp");
  env.signature_version = StringOr(j, "SignatureVersion");
  env.signature = StringOr(j, "Signature");
  env.signing_cert_url = StringOr(j, "SigningCertURL");
  return env;
}

Result<ParsedBody> ReadAny(std::string_view body, const ParseOptions& options) {
  FERRY_ASSIGN_OR_RETURN(json j, internal::ParseJsonObject(body, options, "body"));
  if (!j.contains("Type")) return ReadS3Body(j, options);
  FERRY_ASSIGN_OR_RETURN(SnsEnvelope env, ReadEnvelope(j));
  if (env.type != SnsType::kNotification) {
    ParsedBody out;
    out.kind = BodyKind::kSubscription;
    out.sns = std::move(env);
    return out;
  }
  FERRY_ASSIGN_OR_RETURN(json inner,
                         internal::ParseJsonObject(env.message, options, "SNS Message"));
  if (inner.contains("Type")) {
    return Refuse(Reason::kUnknownBody, "SNS Message is itself an SNS envelope");
  }
  FERRY_ASSIGN_OR_RETURN(ParsedBody out, ReadS3Body(inner, options));
  out.sns = std::move(env);
  return out;
}

// Runs `read`, turning anything thrown into a Status: no exception leaves this module.
template <class F>
auto Guarded(F read) -> decltype(read()) {
  try {
    return read();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("events: unexpected failure: ") + e.what());
  }
}

}  // namespace

std::string_view BodyKindName(BodyKind kind) {
  switch (kind) {
    case BodyKind::kRecords:
      return "records";
    case BodyKind::kTestEvent:
      return "test_event";
    case BodyKind::kSubscription:
      return "subscription";
  }
  return "unknown";
}

Result<ParsedBody> ParseBody(std::string_view body, const ParseOptions& options) {
  return Guarded([&] { return ReadAny(body, options); });
}

Result<ParsedBody> ParseS3Message(std::string_view body, const ParseOptions& options) {
  return Guarded([&]() -> Result<ParsedBody> {
    FERRY_ASSIGN_OR_RETURN(json j, internal::ParseJsonObject(body, options, "body"));
    if (j.contains("Type")) return Refuse(Reason::kUnknownBody, "an SNS envelope, not S3's JSON");
    return ReadS3Body(j, options);
  });
}

Result<SnsEnvelope> ParseSnsEnvelope(std::string_view body, const ParseOptions& options) {
  return Guarded([&]() -> Result<SnsEnvelope> {
    FERRY_ASSIGN_OR_RETURN(json j, internal::ParseJsonObject(body, options, "body"));
    return ReadEnvelope(j);
  });
}

}  // namespace ferry::events
