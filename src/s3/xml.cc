#include "s3/xml.h"

#include <charconv>
#include <cstring>
#include <pugixml.hpp>

#include "s3/time_format.h"
#include "s3/uri.h"

namespace ferry::s3 {
namespace {

constexpr unsigned kParseOptions = pugi::parse_default | pugi::parse_ws_pcdata_single;

Status Load(pugi::xml_document& doc, std::string_view xml, const char* root) {
  const pugi::xml_parse_result r =
      doc.load_buffer(xml.data(), xml.size(), kParseOptions, pugi::encoding_utf8);
  if (!r) {
    return Status::Internal(std::string("malformed ") + root + " XML: " + r.description() +
                            " at offset " + std::to_string(r.offset));
  }
  const pugi::xml_node element = doc.document_element();
  if (std::strcmp(element.name(), root) != 0) {
    return Status::Internal(std::string("unexpected XML reply <") + element.name() +
                            ">, expected <" + root + ">");
  }
  return Status::Ok();
}

std::string Text(const pugi::xml_node& node, const char* child) {
  return node.child(child).text().get();
}

bool Bool(const pugi::xml_node& node, const char* child) {
  return std::strcmp(node.child(child).text().get(), "true") == 0;
}

uint64_t Uint(const pugi::xml_node& node, const char* child) {
  const char* s = node.child(child).text().get();
  uint64_t v = 0;
  std::from_chars(s, s + std::strlen(s), v);
  return v;
}

std::chrono::system_clock::time_point Time(const pugi::xml_node& node, const char* child) {
  return ParseIso8601(node.child(child).text().get())
      .value_or(std::chrono::system_clock::time_point{});
}

// Decodes a field of a reply requested with encoding-type=url.
std::string Field(const pugi::xml_node& node, const char* child, bool url_encoded) {
  const char* raw = node.child(child).text().get();
  return url_encoded ? UriDecode(raw, /*plus_as_space=*/true) : std::string(raw);
}

bool UrlEncoded(const pugi::xml_node& root) {
  return std::strcmp(root.child("EncodingType").text().get(), "url") == 0;
}

}  // namespace

std::string UnquoteEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  if (etag.starts_with("&quot;") && etag.ends_with("&quot;") && etag.size() >= 12) {
    etag = etag.substr(6, etag.size() - 12);
  }
  return std::string(etag);
}

Result<ListPage> ParseListObjectsV2(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "ListBucketResult"));
  const pugi::xml_node root = doc.document_element();
  const bool encoded = UrlEncoded(root);
  ListPage page;
  for (pugi::xml_node c : root.children("Contents")) {
    ListEntry e;
    e.key = Field(c, "Key", encoded);
    e.size = Uint(c, "Size");
    e.etag = UnquoteEtag(Text(c, "ETag"));
    e.last_modified = Time(c, "LastModified");
    e.storage_class = Text(c, "StorageClass");
    page.objects.push_back(std::move(e));
  }
  for (pugi::xml_node p : root.children("CommonPrefixes")) {
    page.common_prefixes.push_back(Field(p, "Prefix", encoded));
  }
  page.truncated = Bool(root, "IsTruncated");
  page.next_continuation_token = Text(root, "NextContinuationToken");
  return page;
}

std::string ParseListV1NextMarker(std::string_view xml) {
  pugi::xml_document doc;
  if (!Load(doc, xml, "ListBucketResult").ok()) return {};
  const pugi::xml_node root = doc.document_element();
  return Field(root, "NextMarker", UrlEncoded(root));
}

Result<VersionPage> ParseListVersions(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "ListVersionsResult"));
  const pugi::xml_node root = doc.document_element();
  const bool encoded = UrlEncoded(root);
  VersionPage page;
  for (pugi::xml_node v : root.children()) {
    const bool marker = std::strcmp(v.name(), "DeleteMarker") == 0;
    if (!marker && std::strcmp(v.name(), "Version") != 0) continue;
    VersionEntry e;
    e.key = Field(v, "Key", encoded);
    e.version_id = Text(v, "VersionId");
    e.is_latest = Bool(v, "IsLatest");
    e.delete_marker = marker;
    e.size = Uint(v, "Size");
    e.etag = UnquoteEtag(Text(v, "ETag"));
    e.last_modified = Time(v, "LastModified");
    e.storage_class = Text(v, "StorageClass");
    page.versions.push_back(std::move(e));
  }
  page.truncated = Bool(root, "IsTruncated");
  page.next_key_marker = Field(root, "NextKeyMarker", encoded);
  page.next_version_id_marker = Text(root, "NextVersionIdMarker");
  return page;
}

Result<PartsPage> ParseListParts(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "ListPartsResult"));
  const pugi::xml_node root = doc.document_element();
  PartsPage page;
  for (pugi::xml_node p : root.children("Part")) {
    CompletedPart part;
    part.part_number = static_cast<int>(Uint(p, "PartNumber"));
    part.etag = UnquoteEtag(Text(p, "ETag"));
    part.size = Uint(p, "Size");
    for (checksum::Algorithm a :
         {checksum::Algorithm::kCrc32c, checksum::Algorithm::kCrc32, checksum::Algorithm::kCrc64Nvme,
          checksum::Algorithm::kSha1, checksum::Algorithm::kSha256}) {
      if (part.checksum.empty()) part.checksum = Text(p, checksum::ElementName(a).c_str());
    }
    page.parts.push_back(std::move(part));
  }
  page.truncated = Bool(root, "IsTruncated");
  page.next_part_number_marker = static_cast<int>(Uint(root, "NextPartNumberMarker"));
  return page;
}

Result<UploadsPage> ParseListMultipartUploads(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "ListMultipartUploadsResult"));
  const pugi::xml_node root = doc.document_element();
  const bool encoded = UrlEncoded(root);
  UploadsPage page;
  for (pugi::xml_node u : root.children("Upload")) {
    UploadInfo info;
    info.key = Field(u, "Key", encoded);
    info.upload_id = Text(u, "UploadId");
    info.initiated = Time(u, "Initiated");
    page.uploads.push_back(std::move(info));
  }
  page.truncated = Bool(root, "IsTruncated");
  page.next_key_marker = Field(root, "NextKeyMarker", encoded);
  page.next_upload_id_marker = Text(root, "NextUploadIdMarker");
  return page;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "InitiateMultipartUploadResult"));
  std::string id = Text(doc.document_element(), "UploadId");
  if (id.empty()) return Status::Internal("InitiateMultipartUploadResult without an UploadId");
  return id;
}

Result<SessionCredentials> ParseCreateSession(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "CreateSessionResult"));
  const pugi::xml_node c = doc.document_element().child("Credentials");
  SessionCredentials out;
  out.credentials.access_key_id = Text(c, "AccessKeyId");
  out.credentials.secret_access_key = Text(c, "SecretAccessKey");
  out.credentials.session_token = Text(c, "SessionToken");
  const auto expiration = ParseIso8601(Text(c, "Expiration"));
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty() ||
      out.credentials.session_token.empty() || !expiration) {
    return Status::Internal(
        "CreateSessionResult without AccessKeyId, SecretAccessKey, SessionToken or Expiration");
  }
  out.expiration = *expiration;
  return out;
}

Result<std::string> ParseCompleteMultipartUpload(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "CompleteMultipartUploadResult"));
  return UnquoteEtag(Text(doc.document_element(), "ETag"));
}

Result<std::string> ParseCopyResult(std::string_view xml) {
  pugi::xml_document doc;
  const pugi::xml_parse_result r =
      doc.load_buffer(xml.data(), xml.size(), kParseOptions, pugi::encoding_utf8);
  const pugi::xml_node root = doc.document_element();
  if (!r || (std::strcmp(root.name(), "CopyObjectResult") != 0 &&
             std::strcmp(root.name(), "CopyPartResult") != 0)) {
    return Status::Internal(
        "malformed copy reply: expected <CopyObjectResult> or <CopyPartResult>");
  }
  std::string etag = UnquoteEtag(Text(root, "ETag"));
  if (etag.empty()) return Status::Internal("copy reply without an ETag");
  return etag;
}

Result<Tags> ParseTagging(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "Tagging"));
  Tags tags;
  for (pugi::xml_node t : doc.document_element().child("TagSet").children("Tag")) {
    tags.emplace_back(Text(t, "Key"), Text(t, "Value"));
  }
  return tags;
}

Result<BucketVersioning> ParseVersioningConfiguration(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "VersioningConfiguration"));
  const std::string status = Text(doc.document_element(), "Status");
  if (status.empty()) return BucketVersioning::kOff;  // never enabled: no <Status>
  if (status == "Enabled") return BucketVersioning::kEnabled;
  if (status == "Suspended") return BucketVersioning::kSuspended;
  return Status::Internal("unexpected versioning status \"" + status + "\"");
}

Result<std::vector<DeleteFailure>> ParseDeleteResult(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "DeleteResult"));
  std::vector<DeleteFailure> failures;
  for (pugi::xml_node e : doc.document_element().children("Error")) {
    failures.push_back({Text(e, "Key"), Text(e, "Code"), Text(e, "Message")});
  }
  return failures;
}

S3ErrorInfo ParseError(std::string_view xml) {
  S3ErrorInfo info;
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), kParseOptions, pugi::encoding_utf8)) return info;
  const pugi::xml_node root = doc.document_element();
  if (std::strcmp(root.name(), "Error") != 0) return info;
  info.code = Text(root, "Code");
  info.message = Text(root, "Message");
  return info;
}

bool IsErrorDocument(std::string_view xml) {
  // Cheap pre-check before parsing: success replies are the common case.
  if (xml.find("<Error>") == std::string_view::npos) return false;
  return !ParseError(xml).code.empty();
}

void AppendXmlEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&apos;");
        break;
      case '\r':
        out.append("&#13;");
        break;
      case '\n':
        out.append("&#10;");
        break;
      case '\t':
        out.append("&#9;");
        break;
      default:
        out.push_back(c);
    }
  }
}

namespace {

std::string BuildComplete(std::span<const CompletedPart> parts,
                          std::optional<checksum::Algorithm> algorithm) {
  const std::string element = algorithm ? checksum::ElementName(*algorithm) : "";
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  out.reserve(out.size() + parts.size() * 96 + 32);
  for (size_t i = 0; i < parts.size(); ++i) {
    const CompletedPart& p = parts[i];
    out.append("<Part><PartNumber>").append(std::to_string(p.part_number));
    out.append("</PartNumber><ETag>&quot;");
    AppendXmlEscaped(out, p.etag);
    out.append("&quot;</ETag>");
    if (algorithm && !p.checksum.empty()) {
      out.append("<").append(element).append(">");
      AppendXmlEscaped(out, p.checksum);
      out.append("</").append(element).append(">");
    }
    out.append("</Part>");
  }
  out.append("</CompleteMultipartUpload>");
  return out;
}

}  // namespace

std::string BuildCompleteMultipartUpload(std::span<const CompletedPart> parts) {
  return BuildComplete(parts, std::nullopt);
}

std::string BuildCompleteMultipartUpload(std::span<const CompletedPart> parts,
                                         checksum::Algorithm algorithm) {
  return BuildComplete(parts, algorithm);
}

std::string BuildDeleteObjects(std::span<const std::string> keys, bool quiet) {
  std::string out = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  if (quiet) out.append("<Quiet>true</Quiet>");
  for (const std::string& key : keys) {
    out.append("<Object><Key>");
    AppendXmlEscaped(out, key);
    out.append("</Key></Object>");
  }
  out.append("</Delete>");
  return out;
}

std::string BuildTagging(const Tags& tags) {
  std::string out = "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>";
  for (const auto& [key, value] : tags) {
    out.append("<Tag><Key>");
    AppendXmlEscaped(out, key);
    out.append("</Key><Value>");
    AppendXmlEscaped(out, value);
    out.append("</Value></Tag>");
  }
  out.append("</TagSet></Tagging>");
  return out;
}

std::string BuildCreateBucketConfiguration(std::string_view region) {
  if (region.empty() || region == "us-east-1") return {};
  std::string out =
      "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<LocationConstraint>";
  AppendXmlEscaped(out, region);
  out.append("</LocationConstraint></CreateBucketConfiguration>");
  return out;
}

Result<ObjectLock> ParseRetention(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "Retention"));
  ObjectLock lock;
  lock.mode = Text(doc.document_element(), "Mode");
  lock.retain_until = Text(doc.document_element(), "RetainUntilDate");
  if (lock.mode.empty() != lock.retain_until.empty()) {
    return Status::Internal("a Retention with only one of Mode and RetainUntilDate");
  }
  return lock;
}

Result<bool> ParseLegalHold(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "LegalHold"));
  return Text(doc.document_element(), "Status") == "ON";
}

Result<WriteAcl> ParseAccessControlPolicy(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "AccessControlPolicy"));
  WriteAcl acl;
  for (pugi::xml_node grant : doc.document_element().child("AccessControlList").children("Grant")) {
    const pugi::xml_node grantee = grant.child("Grantee");
    std::string who;
    for (const auto& [element, form] : {std::pair{"ID", "id"}, std::pair{"URI", "uri"},
                                        std::pair{"EmailAddress", "emailAddress"}}) {
      const std::string value = Text(grantee, element);
      if (value.empty()) continue;
      if (value.find('"') != std::string::npos) {
        return Status::Internal("an ACL grantee holds a double quote: " + value);
      }
      who = std::string(form) + "=\"" + value + "\"";
      break;
    }
    if (who.empty()) return Status::Internal("an ACL grant names no grantee ID, URI or e-mail");
    const std::string permission = Text(grant, "Permission");
    std::string* list = permission == "FULL_CONTROL" ? &acl.grant_full_control
                        : permission == "READ"       ? &acl.grant_read
                        : permission == "READ_ACP"   ? &acl.grant_read_acp
                        : permission == "WRITE_ACP"  ? &acl.grant_write_acp
                                                     : nullptr;
    if (permission == "WRITE") continue;  // a bucket permission: objects do not take it
    if (list == nullptr) return Status::Internal("unknown ACL permission " + permission);
    if (list->find(who) != std::string::npos) continue;  // listed twice
    if (!list->empty()) list->append(", ");
    list->append(who);
  }
  return acl;
}

Result<ObjectLockConfiguration> ParseObjectLockConfiguration(std::string_view xml) {
  pugi::xml_document doc;
  FERRY_RETURN_IF_ERROR(Load(doc, xml, "ObjectLockConfiguration"));
  const pugi::xml_node root = doc.document_element();
  ObjectLockConfiguration config;
  config.enabled = Text(root, "ObjectLockEnabled") == "Enabled";
  const pugi::xml_node retention = root.child("Rule").child("DefaultRetention");
  if (retention) {
    DefaultRetention rule;
    rule.mode = Text(retention, "Mode");
    const std::string days = Text(retention, "Days");
    const std::string years = Text(retention, "Years");
    const std::string& n = days.empty() ? years : days;
    int v = 0;
    for (char c : n) {
      if (c < '0' || c > '9' || v > 1000000) return Status::Internal("bad retention period");
      v = v * 10 + (c - '0');
    }
    rule.days = days.empty() ? v * 365 : v;
    config.default_retention = rule;
  }
  return config;
}

std::string BuildRetention(const ObjectLock& lock) {
  std::string out = "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>";
  AppendXmlEscaped(out, lock.mode);
  out.append("</Mode><RetainUntilDate>");
  AppendXmlEscaped(out, lock.retain_until);
  out.append("</RetainUntilDate></Retention>");
  return out;
}

std::string BuildLegalHold(bool on) {
  return std::string("<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>") +
         (on ? "ON" : "OFF") + "</Status></LegalHold>";
}

std::string BuildObjectLockConfiguration(const std::optional<DefaultRetention>& rule) {
  std::string out =
      "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<ObjectLockEnabled>Enabled</ObjectLockEnabled>";
  if (rule) {
    out.append("<Rule><DefaultRetention><Mode>");
    AppendXmlEscaped(out, rule->mode);
    out.append("</Mode><Days>" + std::to_string(rule->days) + "</Days></DefaultRetention></Rule>");
  }
  out.append("</ObjectLockConfiguration>");
  return out;
}

std::string BuildVersioningConfiguration(bool enabled) {
  std::string out =
      "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>";
  out.append(enabled ? "Enabled" : "Suspended");
  out.append("</Status></VersioningConfiguration>");
  return out;
}

}  // namespace ferry::s3
