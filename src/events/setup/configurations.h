// Internal to ferry_events_setup: the bucket's notification document read, edited, written
// and read back, shared by the topic setup (setup.cc) and the queue setup (queue_setup.cc).
#pragma once

#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "s3/client.h"
#include "s3/notification.h"
#include "s3/notification_set.h"

namespace ferry::events::setup::internal {

// The bucket's configurations; `xml` (optional) receives the document as GET returned it.
Result<std::vector<s3::NotificationConfig>> Configurations(s3::S3Client& client,
                                                           std::string_view bucket,
                                                           std::string* xml,
                                                           std::stop_token stop);

const s3::NotificationConfig* FindId(const std::vector<s3::NotificationConfig>& configs,
                                     std::string_view id);

// kInvalidArgument when `configs` hold `id` as a configuration of another kind than `kind`.
Status CheckIdFree(const std::vector<s3::NotificationConfig>& configs, std::string_view bucket,
                   std::string_view id, std::string_view kind);

struct Applied {
  bool replaced = false;
  size_t configurations = 0;
  std::vector<std::string> also_notifying;  // other Ids naming the same target
};

// `xml` (GET's document) with `spec` set (s3::SetNotificationConfiguration), PUT, then GET
// again: ferry's configuration must be there, naming spec.target_arn (else kInternal).
Result<Applied> PutAndCheck(s3::S3Client& client, std::string_view bucket, std::string_view xml,
                            const s3::NotificationConfigSpec& spec, std::stop_token stop);

// PutAndCheck, its findings copied into `result` (a setup's result: replaced, configurations,
// also_notifying).
template <class SetupResult>
Status PutAndCheckInto(s3::S3Client& client, std::string_view bucket, std::string_view xml,
                       const s3::NotificationConfigSpec& spec, std::stop_token stop,
                       SetupResult& result) {
  Result<Applied> applied = PutAndCheck(client, bucket, xml, spec, stop);
  if (!applied.ok()) return applied.status();
  result.replaced = applied->replaced;
  result.configurations = applied->configurations;
  result.also_notifying = std::move(applied->also_notifying);
  return Status::Ok();
}

struct Removed {
  bool removed = false;
  size_t configurations = 0;
  std::string target;  // what the removed configuration named ("" when none)
};

// The configurations of `id` taken out: PUT without them, GET again; a store that kept them
// (RGW 16 adds on PUT, and refuses an empty document) is sent DELETE ?notification=Id.
Result<Removed> RemoveId(s3::S3Client& client, std::string_view bucket, std::string_view id,
                         std::stop_token stop);

}  // namespace ferry::events::setup::internal
