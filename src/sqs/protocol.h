// The SQS calls the SQS intake makes, as pure functions: each request's X-Amz-Target and JSON
// body, and each reply's parsing. SQS's JSON protocol (AWS JSON 1.0: POST / with
// `X-Amz-Target: AmazonSQS.<Action>`, `Content-Type: application/x-amz-json-1.0`), which real
// SQS and moto_server both accept; the network is sqs_client.h's.
//
// Calls: ReceiveMessage (long poll, AttributeNames=[ApproximateReceiveCount]),
// DeleteMessageBatch, SendMessage (to a dead-letter queue, with message attributes) and
// GetQueueAttributes (RedrivePolicy, at start) for serve's intake; GetQueueUrl, CreateQueue,
// SetQueueAttributes and DeleteQueue for `ferry events setup|remove` (the queue a bucket
// notifies, and its Policy).
//
// Errors: a reply that is not the JSON expected is kUnavailable (a proxy's page, a truncated
// body: worth another try). SqsError maps an error reply ({"__type":"...#Code","message":..} or
// the x-amzn-query-error header's code) to a Status:
//   5xx, ThrottlingException, RequestThrottled, ServiceUnavailable, InternalFailure,
//     KmsThrottled                                                        -> kUnavailable
//   403, AccessDenied(Exception), InvalidClientTokenId, UnrecognizedClientException,
//     SignatureDoesNotMatch, IncompleteSignature, InvalidSignatureException, ExpiredToken,
//     MissingAuthenticationToken                                          -> kPermissionDenied
//   QueueDoesNotExist, AWS.SimpleQueueService.NonExistentQueue             -> kNotFound
//   other 4xx                                                             -> kInvalidArgument
// The message names the action, the queue, the code and SQS's message, in one line, without
// what the server quoted of the request (s3::QuotableServerMessage): never credentials.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "http/transport.h"

namespace ferry::sqs {

inline constexpr std::string_view kContentType = "application/x-amz-json-1.0";
inline constexpr std::string_view kTargetPrefix = "AmazonSQS.";
inline constexpr size_t kMaxBatch = 10;  // ReceiveMessage and DeleteMessageBatch entries

// One JSON-protocol call: X-Amz-Target is kTargetPrefix + action.
struct Call {
  std::string action;  // "ReceiveMessage"
  std::string body;    // JSON
};

struct ReceiveRequest {
  std::string queue_url;
  int max_messages = 10;  // 1..10
  int wait_seconds = 20;  // 0..20: long poll
};
Call BuildReceive(const ReceiveRequest& request);

struct Message {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  int receive_count = 0;  // ApproximateReceiveCount (0 when the reply had none)
};
// {"Messages":[...]} or {} (none). A message without MessageId, ReceiptHandle or Body:
// kUnavailable (the reply is not what SQS sends).
Result<std::vector<Message>> ParseReceive(std::string_view reply);

struct DeleteEntry {
  std::string id;  // unique within the batch
  std::string receipt_handle;
};
// At most kMaxBatch entries (the caller splits).
Call BuildDeleteBatch(const std::string& queue_url, const std::vector<DeleteEntry>& entries);
// The ids SQS failed to delete, each with its code and message ("" when all were deleted).
struct DeleteFailure {
  std::string id;
  std::string code;
  std::string message;
};
Result<std::vector<DeleteFailure>> ParseDeleteBatch(std::string_view reply);

// SendMessage with String message attributes (name, value).
Call BuildSend(const std::string& queue_url, const std::string& body,
               const std::vector<std::pair<std::string, std::string>>& attributes);

Call BuildGetAttributes(const std::string& queue_url, const std::vector<std::string>& names);
// {"Attributes":{name:value}} or {}: the attributes, as (name, value).
Result<std::vector<std::pair<std::string, std::string>>> ParseGetAttributes(
    std::string_view reply);

// GetQueueUrl of a queue name (owner: the account that owns it; "" the caller's).
Call BuildGetQueueUrl(const std::string& name, const std::string& owner_account);
// CreateQueue of a name with attributes (name, value); an existing queue of that name with the
// same attributes is returned as it is (SQS's rule).
Call BuildCreateQueue(const std::string& name,
                      const std::vector<std::pair<std::string, std::string>>& attributes);
// {"QueueUrl":"..."}, the reply of GetQueueUrl and CreateQueue; kUnavailable without it.
Result<std::string> ParseQueueUrl(std::string_view reply, std::string_view action);
Call BuildSetAttributes(const std::string& queue_url,
                        const std::vector<std::pair<std::string, std::string>>& attributes);
Call BuildDeleteQueue(const std::string& queue_url);

// A queue's RedrivePolicy attribute: {"deadLetterTargetArn":"arn:...","maxReceiveCount":5}
// (the count a number or a string of digits, as SQS and moto differ). kInvalidArgument when
// unreadable.
struct RedrivePolicy {
  std::string dead_letter_target_arn;
  int max_receive_count = 0;
};
Result<RedrivePolicy> ParseRedrivePolicy(std::string_view text);

// The Status of a non-2xx reply to `action` on `queue_url`.
Status SqsError(std::string_view action, std::string_view queue_url, int http_status,
                const http::Headers& headers, std::string_view body);

// A queue's ARN, arn:PARTITION:sqs:REGION:ACCOUNT:NAME (also MinIO's arn:minio:sqs::ID:TYPE).
struct QueueArn {
  std::string partition;  // "aws", "aws-cn", "minio", ...
  std::string region;     // may be empty (MinIO)
  std::string account;    // MinIO: the target's ID
  std::string name;       // MinIO: the target's type ("webhook")
};
// kInvalidArgument unless `arn` has that shape: six ':'-separated fields, "arn", service
// "sqs", a partition and a name (letters, digits, '-', '_', '.'), no spaces.
Result<QueueArn> ParseQueueArn(std::string_view arn);

// The queue's name: the last segment of its URL's path (the metric label).
std::string QueueName(std::string_view queue_url);
// The queue URL's scheme://host[:port].
std::string UrlOrigin(std::string_view queue_url);
// The region an AWS SQS host names: sqs.REGION.amazonaws.com[.cn] or REGION.queue.amazonaws.com
// ("" for any other host, e.g. moto's 127.0.0.1:5000).
std::string RegionOfQueueUrl(std::string_view queue_url);

}  // namespace ferry::sqs
