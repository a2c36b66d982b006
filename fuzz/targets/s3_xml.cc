// S3's XML replies: every parser of s3/xml.h, the error mapping of s3/errors.h (and how a
// server's message is quoted in ours), and the notification and topic documents a bucket or an
// SNS endpoint hands back.
#include <string>

#include "fuzz/fuzz_target.h"
#include "s3/errors.h"
#include "s3/notification.h"
#include "s3/topics.h"
#include "s3/xml.h"

namespace {

using namespace ferry::s3;
using ferry::fuzz::Require;

// UnquoteEtag removes surrounding quotes; a malformed ETag ("&quot;abc&quot;x") keeps its
// inner ones, as the server sent it
void CheckEtag(const std::string& etag) {
  Require(etag.size() < 2 || etag.front() != '"' || etag.back() != '"', "ETag left quoted");
}

}  // namespace

FERRY_FUZZ_TARGET(s3_xml) {
  const std::string_view xml = ferry::fuzz::AsText(data, size);
  if (auto page = ParseListObjectsV2(xml); page.ok()) {
    for (const auto& o : page->objects) CheckEtag(o.etag);
  }
  if (auto page = ParseListVersions(xml); page.ok()) {
    for (const auto& v : page->versions) {
      if (!v.delete_marker) CheckEtag(v.etag);
    }
  }
  if (auto parts = ParseListParts(xml); parts.ok()) {
    // each part's checksum is kept as the store wrote it, and a completion names them all
    const std::string complete =
        BuildCompleteMultipartUpload(parts->parts, ferry::checksum::Algorithm::kCrc32c);
    size_t named = 0;
    for (const auto& part : parts->parts) named += part.checksum.empty() ? 0 : 1;
    size_t found = 0;
    for (size_t at = complete.find("<ChecksumCRC32C>"); at != std::string::npos;
         at = complete.find("<ChecksumCRC32C>", at + 1)) {
      ++found;
    }
    Require(found == named, "a completion names every listed part's checksum");
  }
  (void)ParseListMultipartUploads(xml);
  (void)ParseInitiateMultipartUpload(xml);
  if (auto etag = ParseCompleteMultipartUpload(xml); etag.ok()) CheckEtag(*etag);
  if (auto etag = ParseCopyResult(xml); etag.ok()) CheckEtag(*etag);
  (void)ParseTagging(xml);
  (void)ParseVersioningConfiguration(xml);
  (void)ParseCreateSession(xml);
  (void)ParseDeleteResult(xml);
  (void)ParseNotificationConfiguration(xml);
  (void)ParseCreateTopic(xml);
  (void)ParseGetTopicAttributes(xml);
  int removed = 0;
  (void)RemoveConfiguration(xml, "ferry", &removed);
  Require(removed >= 0, "a count of removed configurations");
  (void)ParseError(xml);
  const std::string quotable = QuotableServerMessage(xml);
  Require(quotable.find('\n') == std::string::npos && quotable.size() <= 303,
          "a server's message quoted in ours is one line of at most 300 bytes (+...)");
  (void)IsErrorDocument(xml);
  ErrorTarget target;
  target.bucket = "b";
  target.key = "k";
  for (int http : {0, 200, 400, 403, 404, 412, 500, 503}) {
    Require(!StatusFromReply(http, xml, target).ok(), "a failed reply maps to an error");
  }
  return 0;
}
