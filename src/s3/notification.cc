#include "s3/notification.h"
#include "s3/notification_set.h"

#include <cctype>
#include <cstring>
#include <pugixml.hpp>
#include <sstream>

#include "s3/xml.h"

namespace ferry::s3 {
namespace {

constexpr const char* kRoot = "NotificationConfiguration";

// Loads `xml` into `doc`; an empty (or blank) body becomes an empty <NotificationConfiguration>.
Status Load(pugi::xml_document& doc, std::string_view xml) {
  bool blank = true;
  for (char c : xml) blank = blank && std::isspace(static_cast<unsigned char>(c)) != 0;
  if (blank) {
    doc.append_child(kRoot);
    return Status::Ok();
  }
  const pugi::xml_parse_result r = doc.load_buffer(
      xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata_single,
      pugi::encoding_utf8);
  if (!r) {
    return Status::Internal(std::string("malformed NotificationConfiguration XML: ") +
                            r.description() + " at offset " + std::to_string(r.offset));
  }
  const char* root = doc.document_element().name();
  // moto_server answers a bucket without configurations with an empty
  // <GetBucketNotificationResponse/>: an empty configuration, as AWS's empty document.
  if (std::strcmp(root, "GetBucketNotificationResponse") == 0 &&
      !doc.document_element().find_child(
          [](const pugi::xml_node& n) { return n.type() == pugi::node_element; })) {
    doc.reset();
    doc.append_child(kRoot);
    return Status::Ok();
  }
  if (std::strcmp(root, kRoot) != 0) {
    return Status::Internal(std::string("unexpected XML reply <") + root + ">, expected <" +
                            kRoot + ">");
  }
  return Status::Ok();
}

struct Kind {
  const char* element;
  const char* kind;
  const char* target;
};
constexpr Kind kKinds[] = {
    {"TopicConfiguration", "topic", "Topic"},
    {"QueueConfiguration", "queue", "Queue"},
    {"CloudFunctionConfiguration", "function", "CloudFunction"},
    {"LambdaFunctionConfiguration", "function", "CloudFunction"},
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<NotificationFilterRule> ParseFilter(const pugi::xml_node& filter) {
  std::vector<NotificationFilterRule> rules;
  for (pugi::xml_node group : filter.children()) {
    if (group.type() != pugi::node_element) continue;
    const std::string_view name = group.name();
    for (pugi::xml_node rule : group.children("FilterRule")) {
      NotificationFilterRule r;
      r.value = rule.child("Value").text().get();
      if (name == "S3Key") {
        r.kind = Lower(rule.child("Name").text().get());  // AWS answers "Prefix"
      } else {
        r.kind = name == "S3Metadata" ? "metadata" : name == "S3Tags" ? "tag" : std::string(name);
        r.name = rule.child("Name").text().get();
      }
      rules.push_back(std::move(r));
    }
  }
  return rules;
}

NotificationConfig ParseConfig(const pugi::xml_node& node) {
  NotificationConfig c;
  c.kind = node.name();
  for (const Kind& k : kKinds) {
    if (std::strcmp(node.name(), k.element) != 0) continue;
    c.kind = k.kind;
    c.target = node.child(k.target).text().get();
    if (c.target.empty() && std::strcmp(k.kind, "function") == 0) {
      c.target = node.child("LambdaFunctionArn").text().get();  // AWS's spelling
    }
    if (c.target.empty() && std::strcmp(k.kind, "topic") == 0) {
      c.target = node.child("TopicArn").text().get();
    }
  }
  c.id = node.child("Id").text().get();
  for (pugi::xml_node e : node.children("Event")) c.events.emplace_back(e.text().get());
  c.filter = ParseFilter(node.child("Filter"));
  return c;
}

std::string Save(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return out.str();
}

// Removes the element children of `root` whose <Id> is `id` and (when `only` is set) whose
// element name is `only`. Returns how many; *other_kind is set when one of another kind has it.
int RemoveById(pugi::xml_node root, std::string_view id, const char* only, bool* other_kind) {
  int removed = 0;
  for (pugi::xml_node n = root.first_child(); n;) {
    pugi::xml_node next = n.next_sibling();
    if (n.type() == pugi::node_element && id == n.child("Id").text().get()) {
      if (only == nullptr || std::strcmp(n.name(), only) == 0) {
        root.remove_child(n);
        ++removed;
      } else if (other_kind != nullptr) {
        *other_kind = true;
      }
    }
    n = next;
  }
  return removed;
}

}  // namespace

Result<std::vector<NotificationConfig>> ParseNotificationConfiguration(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml));
  std::vector<NotificationConfig> out;
  for (pugi::xml_node n : doc.document_element().children()) {
    if (n.type() == pugi::node_element) out.push_back(ParseConfig(n));
  }
  return out;
}

Result<std::string> BuildNotificationConfiguration(const NotificationConfigSpec& spec) {
  const Kind* kind = nullptr;
  for (const Kind& k : kKinds) {
    if (spec.kind == k.kind && std::strcmp(k.kind, "function") != 0) kind = &k;
  }
  if (kind == nullptr) {
    return Status::InvalidArgument("no configuration of kind '" + spec.kind + "' is set");
  }
  std::string out = std::string("<") + kind->element + "><Id>";
  AppendXmlEscaped(out, spec.id);
  out.append("</Id><").append(kind->target).append(">");
  AppendXmlEscaped(out, spec.target_arn);
  out.append("</").append(kind->target).append(">");
  for (const std::string& e : spec.events) {
    out.append("<Event>");
    AppendXmlEscaped(out, e);
    out.append("</Event>");
  }
  if (!spec.prefix.empty()) {
    out.append("<Filter><S3Key><FilterRule><Name>prefix</Name><Value>");
    AppendXmlEscaped(out, spec.prefix);
    out.append("</Value></FilterRule></S3Key></Filter>");
  }
  out.append("</").append(kind->element).append(">");
  return out;
}

Result<std::string> SetNotificationConfiguration(std::string_view xml,
                                                 const NotificationConfigSpec& spec,
                                                 bool* replaced) {
  FERRY_ASSIGN_OR_RETURN(const std::string element, BuildNotificationConfiguration(spec));
  const std::string element_name = element.substr(1, element.find('>') - 1);
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml));
  pugi::xml_node root = doc.document_element();
  bool other_kind = false;
  const int removed = RemoveById(root, spec.id, element_name.c_str(), &other_kind);
  if (other_kind) {
    return Status::InvalidArgument("the bucket has a configuration named '" + spec.id +
                                   "' that is not a " + spec.kind + " configuration");
  }
  if (replaced != nullptr) *replaced = removed > 0;
  pugi::xml_document fragment;
  if (!fragment.load_buffer(element.data(), element.size(), pugi::parse_default,
                            pugi::encoding_utf8)) {
    return Status::Internal("cannot build the " + spec.kind +
                            " configuration");  // escaped: unreachable
  }
  root.append_copy(fragment.document_element());
  return Save(doc);
}

namespace {

NotificationConfigSpec TopicSpec(const TopicConfigSpec& spec) {
  return {.kind = "topic",
          .id = spec.id,
          .target_arn = spec.topic_arn,
          .events = spec.events,
          .prefix = spec.prefix};
}

}  // namespace

std::string BuildTopicConfiguration(const TopicConfigSpec& spec) {
  return BuildNotificationConfiguration(TopicSpec(spec)).value();
}

Result<std::string> SetTopicConfiguration(std::string_view xml, const TopicConfigSpec& spec,
                                          bool* replaced) {
  return SetNotificationConfiguration(xml, TopicSpec(spec), replaced);
}

Result<std::string> RemoveConfiguration(std::string_view xml, std::string_view id,
                                        int* removed) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml));
  const int n = RemoveById(doc.document_element(), id, nullptr, nullptr);
  if (removed != nullptr) *removed = n;
  return Save(doc);
}

}  // namespace ferry::s3
