// SNS's query protocol, pure (protocol.h).
#include "sns/protocol.h"

#include <cstring>
#include <pugixml.hpp>

#include "s3/errors.h"
#include "s3/uri.h"

namespace ferry::sns {
namespace {

constexpr std::string_view kVersion = "2010-03-31";

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty()) out.push_back('&');
  s3::AppendUriEncoded(out, name);
  out.push_back('=');
  s3::AppendUriEncoded(out, value);
}

// The reply as a document whose root is `root`, or kUnavailable (not what SNS sends).
Status Load(pugi::xml_document& doc, std::string_view xml, const char* root) {
  const pugi::xml_parse_result r = doc.load_buffer(
      xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata_single,
      pugi::encoding_utf8);
  if (!r || std::strcmp(doc.document_element().name(), root) != 0) {
    return Status::Unavailable(std::string("SNS: the reply is not a <") + root + "> document");
  }
  return Status::Ok();
}

bool OneOf(std::string_view code, std::initializer_list<std::string_view> codes) {
  for (std::string_view c : codes) {
    if (code == c) return true;
  }
  return false;
}

}  // namespace

std::string BuildForm(std::string_view action, const Fields& fields) {
  std::string out;
  AppendField(out, "Action", action);
  for (const auto& [name, value] : fields) AppendField(out, name, value);
  AppendField(out, "Version", kVersion);
  return out;
}

Result<Fields> ParseTopicAttributes(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "GetTopicAttributesResponse"));
  Fields out;
  const pugi::xml_node attributes =
      doc.document_element().child("GetTopicAttributesResult").child("Attributes");
  for (pugi::xml_node entry : attributes.children("entry")) {
    out.emplace_back(entry.child("key").text().get(), entry.child("value").text().get());
  }
  return out;
}

Result<std::string> ParseSubscribe(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "SubscribeResponse"));
  std::string arn =
      doc.document_element().child("SubscribeResult").child("SubscriptionArn").text().get();
  if (arn.empty()) return Status::Unavailable("SNS Subscribe: the reply has no SubscriptionArn");
  return arn;
}

Result<SubscriptionsPage> ParseListSubscriptionsByTopic(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "ListSubscriptionsByTopicResponse"));
  SubscriptionsPage page;
  const pugi::xml_node result = doc.document_element().child("ListSubscriptionsByTopicResult");
  for (pugi::xml_node m : result.child("Subscriptions").children("member")) {
    page.subscriptions.push_back({.arn = m.child("SubscriptionArn").text().get(),
                                  .protocol = m.child("Protocol").text().get(),
                                  .endpoint = m.child("Endpoint").text().get()});
  }
  page.next_token = result.child("NextToken").text().get();
  return page;
}

Status SnsError(std::string_view action, std::string_view topic, int http_status,
                std::string_view body) {
  std::string code;
  std::string detail;
  pugi::xml_document doc;
  if (doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8)) {
    pugi::xml_node error = doc.document_element();
    if (std::strcmp(error.name(), "Error") != 0) error = error.child("Error");
    code = error.child("Code").text().get();
    detail = error.child("Message").text().get();
  }
  std::string message = "SNS " + std::string(action) + " " + std::string(topic) + ": " +
                        (code.empty() ? std::string("error") : code);
  if (!detail.empty()) message += ": " + s3::QuotableServerMessage(detail);
  message += " (HTTP " + std::to_string(http_status) + ")";
  if (http_status >= 500 || OneOf(code, {"Throttling", "ThrottledException", "InternalError",
                                         "InternalFailure", "ServiceUnavailable"})) {
    return Status::Unavailable(message);
  }
  if (http_status == 403 ||
      OneOf(code, {"AuthorizationError", "InvalidClientTokenId", "SignatureDoesNotMatch",
                   "AccessDenied", "ExpiredToken", "IncompleteSignature",
                   "MissingAuthenticationToken"})) {
    return Status::PermissionDenied(message);
  }
  if (http_status == 404 || OneOf(code, {"NotFound", "NotFoundException"})) {
    return Status::NotFound(message);
  }
  return Status::InvalidArgument(message);
}

}  // namespace ferry::sns
