// SQS's JSON protocol, pure (protocol.h).
#include "sqs/protocol.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <nlohmann/json.hpp>

#include "s3/errors.h"

namespace ferry::sqs {
namespace {

using nlohmann::json;

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The reply as a JSON object, or kUnavailable (not what SQS sends: worth another try).
Result<json> Object(std::string_view reply, std::string_view action) {
  json j = json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Unavailable("SQS " + std::string(action) + ": the reply is not a JSON object");
  }
  return j;
}

const std::string* StringAt(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

std::optional<int> Digits(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist"; the x-amzn-query-error
// header's "AWS.SimpleQueueService.NonExistentQueue;Sender" -> its first part.
std::string CodeOf(const http::Headers& headers, const json& body) {
  if (body.is_object()) {
    for (const char* name : {"__type", "code", "Code"}) {
      if (const std::string* type = StringAt(body, name); type != nullptr && !type->empty()) {
        const size_t hash = type->rfind('#');
        return hash == std::string::npos ? *type : type->substr(hash + 1);
      }
    }
  }
  if (const std::string* h = headers.Find("x-amzn-query-error")) {
    return h->substr(0, h->find(';'));
  }
  if (const std::string* h = headers.Find("x-amzn-errortype")) {
    std::string code = h->substr(0, h->find(':'));
    const size_t hash = code.rfind('#');
    return hash == std::string::npos ? code : code.substr(hash + 1);
  }
  return "";
}

bool OneOf(std::string_view code, std::initializer_list<std::string_view> codes) {
  for (std::string_view c : codes) {
    if (code == c) return true;
  }
  return false;
}

}  // namespace

Call BuildReceive(const ReceiveRequest& request) {
  const json body = {{"QueueUrl", request.queue_url},
                     {"MaxNumberOfMessages", request.max_messages},
                     {"WaitTimeSeconds", request.wait_seconds},
                     {"AttributeNames", json::array({"ApproximateReceiveCount"})}};
  return {"ReceiveMessage", Dump(body)};
}

Result<std::vector<Message>> ParseReceive(std::string_view reply) {
  FERRY_ASSIGN_OR_RETURN(json j, Object(reply, "ReceiveMessage"));
  std::vector<Message> out;
  auto list = j.find("Messages");
  if (list == j.end() || list->is_null()) return out;
  if (!list->is_array()) {
    return Status::Unavailable("SQS ReceiveMessage: the reply's Messages is not a list");
  }
  for (const json& m : *list) {
    const std::string* id = m.is_object() ? StringAt(m, "MessageId") : nullptr;
    const std::string* handle = m.is_object() ? StringAt(m, "ReceiptHandle") : nullptr;
    const std::string* body = m.is_object() ? StringAt(m, "Body") : nullptr;
    if (id == nullptr || handle == nullptr || body == nullptr) {
      return Status::Unavailable(
          "SQS ReceiveMessage: a message of the reply has no MessageId, ReceiptHandle or Body");
    }
    Message msg{.message_id = *id, .receipt_handle = *handle, .body = *body, .receive_count = 0};
    if (auto a = m.find("Attributes"); a != m.end() && a->is_object()) {
      if (const std::string* count = StringAt(*a, "ApproximateReceiveCount")) {
        msg.receive_count = Digits(*count).value_or(0);
      }
    }
    out.push_back(std::move(msg));
  }
  return out;
}

Call BuildDeleteBatch(const std::string& queue_url, const std::vector<DeleteEntry>& entries) {
  json list = json::array();
  for (const DeleteEntry& e : entries) {
    list.push_back({{"Id", e.id}, {"ReceiptHandle", e.receipt_handle}});
  }
  return {"DeleteMessageBatch", Dump({{"QueueUrl", queue_url}, {"Entries", list}})};
}

Result<std::vector<DeleteFailure>> ParseDeleteBatch(std::string_view reply) {
  FERRY_ASSIGN_OR_RETURN(json j, Object(reply, "DeleteMessageBatch"));
  std::vector<DeleteFailure> out;
  auto failed = j.find("Failed");
  if (failed == j.end() || !failed->is_array()) return out;
  for (const json& f : *failed) {
    if (!f.is_object()) continue;
    const std::string* id = StringAt(f, "Id");
    const std::string* code = StringAt(f, "Code");
    const std::string* message = StringAt(f, "Message");
    out.push_back({.id = id ? *id : "", .code = code ? *code : "",
                   .message = message ? *message : ""});
  }
  return out;
}

Call BuildSend(const std::string& queue_url, const std::string& body,
               const std::vector<std::pair<std::string, std::string>>& attributes) {
  json j = {{"QueueUrl", queue_url}, {"MessageBody", body}};
  if (!attributes.empty()) {
    json attrs = json::object();
    for (const auto& [name, value] : attributes) {
      attrs[name] = {{"DataType", "String"}, {"StringValue", value}};
    }
    j["MessageAttributes"] = attrs;
  }
  return {"SendMessage", Dump(j)};
}

Call BuildGetAttributes(const std::string& queue_url, const std::vector<std::string>& names) {
  return {"GetQueueAttributes", Dump({{"QueueUrl", queue_url}, {"AttributeNames", names}})};
}

Result<std::vector<std::pair<std::string, std::string>>> ParseGetAttributes(
    std::string_view reply) {
  FERRY_ASSIGN_OR_RETURN(json j, Object(reply, "GetQueueAttributes"));
  std::vector<std::pair<std::string, std::string>> out;
  auto attrs = j.find("Attributes");
  if (attrs == j.end() || !attrs->is_object()) return out;
  for (const auto& [name, value] : attrs->items()) {
    if (value.is_string()) out.emplace_back(name, value.get<std::string>());
  }
  return out;
}

Call BuildGetQueueUrl(const std::string& name, const std::string& owner_account) {
  json j = {{"QueueName", name}};
  if (!owner_account.empty()) j["QueueOwnerAWSAccountId"] = owner_account;
  return {"GetQueueUrl", Dump(j)};
}

Call BuildCreateQueue(const std::string& name,
                      const std::vector<std::pair<std::string, std::string>>& attributes) {
  json j = {{"QueueName", name}};
  if (!attributes.empty()) {
    json a = json::object();
    for (const auto& [k, v] : attributes) a[k] = v;
    j["Attributes"] = std::move(a);
  }
  return {"CreateQueue", Dump(j)};
}

Result<std::string> ParseQueueUrl(std::string_view reply, std::string_view action) {
  FERRY_ASSIGN_OR_RETURN(json j, Object(reply, action));
  const std::string* url = StringAt(j, "QueueUrl");
  if (url == nullptr || url->empty()) {
    return Status::Unavailable("SQS " + std::string(action) + ": the reply has no QueueUrl");
  }
  return *url;
}

Call BuildSetAttributes(const std::string& queue_url,
                        const std::vector<std::pair<std::string, std::string>>& attributes) {
  json a = json::object();
  for (const auto& [k, v] : attributes) a[k] = v;
  return {"SetQueueAttributes", Dump({{"QueueUrl", queue_url}, {"Attributes", std::move(a)}})};
}

Call BuildDeleteQueue(const std::string& queue_url) {
  return {"DeleteQueue", Dump({{"QueueUrl", queue_url}})};
}

Result<QueueArn> ParseQueueArn(std::string_view arn) {
  auto bad = [&] {
    return Status::InvalidArgument(
        "'" + std::string(arn.substr(0, 200)) +
        "' is not a queue ARN (arn:PARTITION:sqs:REGION:ACCOUNT:NAME, such as "
        "arn:aws:sqs:eu-west-1:123456789012:photos-events or arn:minio:sqs::ferry:webhook)");
  };
  std::vector<std::string_view> parts;
  std::string_view rest = arn;
  while (true) {
    const size_t colon = rest.find(':');
    parts.push_back(rest.substr(0, colon));
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[1].empty() ||
      parts[5].empty()) {
    return bad();
  }
  auto plain = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' ||
             c == '.';
    });
  };
  for (size_t i = 1; i < parts.size(); ++i) {
    if (!plain(parts[i])) return bad();
  }
  return QueueArn{.partition = std::string(parts[1]),
                  .region = std::string(parts[3]),
                  .account = std::string(parts[4]),
                  .name = std::string(parts[5])};
}

Result<RedrivePolicy> ParseRedrivePolicy(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  RedrivePolicy p;
  if (!j.is_discarded() && j.is_object()) {
    if (const std::string* arn = StringAt(j, "deadLetterTargetArn")) p.dead_letter_target_arn = *arn;
    if (auto c = j.find("maxReceiveCount"); c != j.end()) {
      if (c->is_number_integer()) {
        p.max_receive_count = c->get<int>();
      } else if (c->is_string()) {
        p.max_receive_count = Digits(c->get_ref<const std::string&>()).value_or(0);
      }
    }
  }
  if (p.dead_letter_target_arn.empty() || p.max_receive_count < 1) {
    return Status::InvalidArgument("unreadable RedrivePolicy (no deadLetterTargetArn or "
                                   "maxReceiveCount): " + std::string(text.substr(0, 200)));
  }
  return p;
}

Status SqsError(std::string_view action, std::string_view queue_url, int http_status,
                const http::Headers& headers, std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const std::string code = CodeOf(headers, j);
  std::string detail;
  if (j.is_object()) {
    for (const char* name : {"message", "Message"}) {
      if (const std::string* m = StringAt(j, name); m != nullptr && !m->empty()) {
        detail = *m;
        break;
      }
    }
  }
  std::string message = "SQS " + std::string(action) + " " + std::string(queue_url) + ": " +
                        (code.empty() ? std::string("error") : code);
  // one line, without what a server may quote of the request (its session token)
  if (!detail.empty()) message += ": " + s3::QuotableServerMessage(detail);
  message += " (HTTP " + std::to_string(http_status) + ")";
  if (http_status >= 500 ||
      OneOf(code, {"ThrottlingException", "RequestThrottled", "ServiceUnavailable",
                   "InternalFailure", "InternalError", "KmsThrottled"})) {
    return Status::Unavailable(message);
  }
  if (http_status == 403 ||
      OneOf(code, {"AccessDenied", "AccessDeniedException", "InvalidClientTokenId",
                   "UnrecognizedClientException", "SignatureDoesNotMatch", "IncompleteSignature",
                   "InvalidSignatureException", "ExpiredToken", "MissingAuthenticationToken"})) {
    return Status::PermissionDenied(message);
  }
  if (OneOf(code, {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"})) {
    return Status::NotFound(message);
  }
  return Status::InvalidArgument(message);
}

std::string QueueName(std::string_view queue_url) {
  while (!queue_url.empty() && queue_url.back() == '/') queue_url.remove_suffix(1);
  const size_t slash = queue_url.rfind('/');
  return std::string(slash == std::string_view::npos ? queue_url : queue_url.substr(slash + 1));
}

std::string UrlOrigin(std::string_view queue_url) {
  const size_t scheme = queue_url.find("://");
  if (scheme == std::string_view::npos) return "";
  const size_t path = queue_url.find('/', scheme + 3);
  return std::string(queue_url.substr(0, path));
}

std::string RegionOfQueueUrl(std::string_view queue_url) {
  const std::string origin = UrlOrigin(queue_url);
  std::string_view host = origin;
  if (const size_t scheme = host.find("://"); scheme != std::string_view::npos) {
    host.remove_prefix(scheme + 3);
  }
  host = host.substr(0, host.find(':'));
  // sqs.REGION.amazonaws.com[.cn]
  for (std::string_view suffix : {".amazonaws.com", ".amazonaws.com.cn"}) {
    if (host.starts_with("sqs.") && host.ends_with(suffix) &&
        host.size() > 4 + suffix.size()) {
      return std::string(host.substr(4, host.size() - 4 - suffix.size()));
    }
  }
  // REGION.queue.amazonaws.com (the legacy form)
  constexpr std::string_view kLegacy = ".queue.amazonaws.com";
  if (host.ends_with(kLegacy) && host.size() > kLegacy.size()) {
    return std::string(host.substr(0, host.size() - kLegacy.size()));
  }
  return "";
}

}  // namespace ferry::sqs
