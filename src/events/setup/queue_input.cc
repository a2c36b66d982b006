// The pure input helpers of queue.h: queue names and URLs, account ids, MinIO's command.
#include <algorithm>
#include <cctype>

#include "events/setup/queue.h"
#include "events/setup/setup.h"
#include "sqs/protocol.h"

namespace ferry::events::setup {

Status ValidateQueueName(std::string_view name) {
  if (name.ends_with(".fifo")) {
    return Status::InvalidArgument("--sqs-queue: '" + std::string(name) +
                                   "' is a FIFO queue: S3 does not notify FIFO queues");
  }
  const bool ok = !name.empty() && name.size() <= 80 &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' ||
                           c == '_';
                  });
  if (ok) return Status::Ok();
  return Status::InvalidArgument("--sqs-queue: '" + std::string(name.substr(0, 200)) +
                                 "' is not a queue name or URL (a name: 1 to 80 letters, "
                                 "digits, '-', '_'; a URL: https://sqs.REGION.amazonaws.com/"
                                 "ACCOUNT/NAME)");
}

Result<std::string> QueueNameOf(std::string_view name_or_url) {
  if (!name_or_url.starts_with("http://") && !name_or_url.starts_with("https://")) {
    FERRY_RETURN_IF_ERROR(ValidateQueueName(name_or_url));
    return std::string(name_or_url);
  }
  if (Status s = ValidateEndpointUrl(name_or_url); !s.ok()) {
    return Status::InvalidArgument("--sqs-queue: '" + MaskUrl(name_or_url) +
                                   "' is not a queue URL (https://sqs.REGION.amazonaws.com/"
                                   "ACCOUNT/NAME)");
  }
  // The path: /ACCOUNT/NAME
  const std::string origin = sqs::UrlOrigin(name_or_url);
  std::string_view path = name_or_url.substr(origin.size());
  if (path.find('?') != std::string_view::npos) path = path.substr(0, path.find('?'));
  while (path.ends_with('/')) path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos || path.find('/', 1) != slash) {
    return Status::InvalidArgument("--sqs-queue: '" + MaskUrl(name_or_url) +
                                   "' is not a queue URL (its path is /ACCOUNT/NAME)");
  }
  const std::string name(path.substr(slash + 1));
  FERRY_RETURN_IF_ERROR(ValidateQueueName(name));
  return name;
}

Status ValidateAccountId(std::string_view account) {
  const bool ok = account.size() == 12 &&
                  std::all_of(account.begin(), account.end(), [](char c) {
                    return std::isdigit(static_cast<unsigned char>(c)) != 0;
                  });
  if (ok) return Status::Ok();
  return Status::InvalidArgument("--source-account: '" + std::string(account.substr(0, 40)) +
                                 "' is not an AWS account id (12 digits)");
}

std::string MinioWebhookCommand(std::string_view queue_arn, std::string_view endpoint_url,
                                std::string_view token) {
  Result<sqs::QueueArn> arn = sqs::ParseQueueArn(queue_arn);
  const std::string id = arn.ok() && !arn->account.empty() ? arn->account : "ID";
  const std::string type = arn.ok() ? arn->name : "webhook";
  if (type != "webhook") {  // amqp, kafka, ...: their own parameters
    return "mc admin config set ALIAS notify_" + type + ":" + id + " ...";
  }
  const std::string url = endpoint_url.empty() ? "URL_OF_FERRY_SERVE/events"
                                               : MaskUrl(endpoint_url);
  const std::string tok = token.empty() ? "TOKEN" : MaskToken(token);
  return "mc admin config set ALIAS notify_webhook:" + id + " endpoint=\"" + url +
         "\" auth_token=\"" + tok + "\"";
}

}  // namespace ferry::events::setup
