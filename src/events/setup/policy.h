// ferry's statement in the resource Policy of a queue (SQS) or a topic (SNS) that lets S3
// deliver one bucket's events there, merged into the Policy or taken out of it as JSON: every
// other statement and field is kept as it was (policy.cc). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ferry::events::setup {

// ferry's statement in a queue's (or an SNS topic's) Policy for `bucket`: Sid
// PolicySid(bucket), Allow, Principal {"Service":"s3.amazonaws.com"}, the action
// (sqs:SendMessage; SNS:Publish), Resource the queue's or topic's ARN, Condition ArnEquals
// aws:SourceArn arn:PARTITION:s3:::BUCKET (the resource ARN's partition) and, when
// source_account is set, StringEquals aws:SourceAccount.
struct S3Statement {
  std::string bucket;
  std::string resource_arn;
  std::string source_account;
  std::string action = "sqs:SendMessage";
};
std::string PolicySid(std::string_view bucket);
// `policy` (the Policy attribute; "" = none) with ferry's statement added, or replacing the
// statement of its Sid, every other statement and field kept. `changed` (optional): whether the
// statements differ from `policy`'s. kInvalidArgument when `policy` is not a JSON object (ferry
// would replace it) or the resource is not an ARN.
Result<std::string> MergePolicyStatement(std::string_view policy, const S3Statement& statement,
                                         bool* changed = nullptr);
// `policy` without the statement of PolicySid(bucket); "" when no statement is left.
// `changed` (optional): whether there was one.
Result<std::string> RemovePolicyStatement(std::string_view policy, std::string_view bucket,
                                          bool* changed = nullptr);
// Whether `policy` allows s3.amazonaws.com `action` (case aside; or "sqs:*"/"sns:*") from
// `bucket`: ferry's statement or any statement of that shape. For `show`.
bool PolicyAllowsBucket(std::string_view policy, std::string_view bucket,
                        std::string_view action = "sqs:SendMessage");

// The value of attribute `name` in a queue's or a topic's attributes as GetAttributes returns
// them ("" when it has none).
std::string AttributeValue(const std::vector<std::pair<std::string, std::string>>& attributes,
                           std::string_view name);

}  // namespace ferry::events::setup
