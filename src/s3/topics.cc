#include "s3/topics.h"

#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "s3/uri.h"

namespace ferry::s3 {
namespace {

constexpr std::string_view kVersion = "2010-03-31";

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty()) out.push_back('&');
  AppendUriEncoded(out, name);
  out.push_back('=');
  AppendUriEncoded(out, value);
}

Status LoadTopicsReply(pugi::xml_document& doc, std::string_view xml, const char* root) {
  const pugi::xml_parse_result r = doc.load_buffer(
      xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata_single,
      pugi::encoding_utf8);
  if (!r) {
    return Status::Internal(std::string("malformed ") + root + " XML: " + r.description() +
                            " at offset " + std::to_string(r.offset));
  }
  const char* name = doc.document_element().name();
  if (std::strcmp(name, root) != 0) {
    return Status::Internal(std::string("unexpected XML reply <") + name + ">, expected <" +
                            root + ">");
  }
  return Status::Ok();
}

std::optional<bool> ParseBool(std::string_view s) {
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true") return true;
  if (lower == "false") return false;
  return std::nullopt;
}

// RGW's EndPoint attribute: a JSON object of strings. What cannot be read is left out.
void ReadEndpoint(std::string_view text, TopicAttributes& out) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  if (auto it = j.find("EndpointAddress"); it != j.end() && it->is_string()) {
    out.push_endpoint = it->get<std::string>();
  }
  if (auto it = j.find("Persistent"); it != j.end()) {
    if (it->is_boolean()) out.persistent = it->get<bool>();
    if (it->is_string()) out.persistent = ParseBool(it->get<std::string>());
  }
}

}  // namespace

std::string BuildCreateTopicForm(const CreateTopicRequest& request) {
  std::string out;
  AppendField(out, "Action", "CreateTopic");
  AppendField(out, "Name", request.name);
  int n = 0;
  for (const auto& [key, value] : request.attributes) {
    const std::string entry = "Attributes.entry." + std::to_string(++n);
    AppendField(out, entry + ".key", key);
    AppendField(out, entry + ".value", value);
  }
  AppendField(out, "Version", kVersion);
  return out;
}

std::string BuildTopicArnForm(std::string_view action, std::string_view topic_arn) {
  std::string out;
  AppendField(out, "Action", action);
  AppendField(out, "TopicArn", topic_arn);
  AppendField(out, "Version", kVersion);
  return out;
}

Result<std::string> ParseCreateTopic(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(LoadTopicsReply(doc, xml, "CreateTopicResponse"));
  std::string arn =
      doc.document_element().child("CreateTopicResult").child("TopicArn").text().get();
  if (arn.empty()) return Status::Internal("CreateTopicResponse without a TopicArn");
  return arn;
}

Result<TopicAttributes> ParseGetTopicAttributes(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(LoadTopicsReply(doc, xml, "GetTopicAttributesResponse"));
  TopicAttributes out;
  const pugi::xml_node attributes =
      doc.document_element().child("GetTopicAttributesResult").child("Attributes");
  for (pugi::xml_node entry : attributes.children("entry")) {
    const std::string_view key = entry.child("key").text().get();
    const char* value = entry.child("value").text().get();
    if (key == "TopicArn") out.arn = value;
    if (key == "Name") out.name = value;
    if (key == "OpaqueData") out.opaque_data = value;
    if (key == "EndPoint") ReadEndpoint(value, out);
  }
  if (out.name.empty() && !out.arn.empty()) out.name = TopicNameOfArn(out.arn);
  return out;
}

std::string TopicNameOfArn(std::string_view arn) {
  const size_t colon = arn.rfind(':');
  return std::string(colon == std::string_view::npos ? arn : arn.substr(colon + 1));
}

}  // namespace ferry::s3
