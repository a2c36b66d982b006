// S3's XML bodies: pure parsers of replies and builders of request bodies (pugixml inside).
//
// Called by the operations in s3/ops/ after a successful HTTP exchange, and by s3/errors.cc
// for error bodies. ETags come out unquoted everywhere (quotes and &quot; are stripped: RGW
// sends some unquoted). Listings whose reply says <EncodingType>url</EncodingType> have their
// encoded fields (Key, Prefix, NextKeyMarker) decoded here ('+' is a space, %XX a byte).
//
// Parsers fail with kInternal on malformed XML or an unexpected root element. Pure;
// thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "s3/types.h"

namespace ferry::s3 {

// <Error><Code/><Message/></Error>. Fields are empty when absent (RGW sends an empty Message).
struct S3ErrorInfo {
  std::string code;
  std::string message;
};

struct PartsPage {  // ListPartsResult
  // Each part's additional checksum (<ChecksumCRC32C> etc.) in CompletedPart::checksum.
  std::vector<CompletedPart> parts;
  bool truncated = false;
  int next_part_number_marker = 0;
};

struct UploadsPage {  // ListMultipartUploadsResult
  std::vector<UploadInfo> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};

struct DeleteFailure {  // one <Error> of a DeleteResult
  std::string key;
  std::string code;
  std::string message;
};

// Removes surrounding double quotes (and "&quot;" entities left verbatim) from an ETag.
std::string UnquoteEtag(std::string_view etag);

// Reply parsers.
// Also reads a ListObjects (version 1) reply: the same <ListBucketResult>.
Result<ListPage> ParseListObjectsV2(std::string_view xml);
// A version 1 listing's <NextMarker> (decoded under encoding-type=url); "" when absent.
std::string ParseListV1NextMarker(std::string_view xml);
Result<VersionPage> ParseListVersions(std::string_view xml);
Result<PartsPage> ParseListParts(std::string_view xml);
Result<UploadsPage> ParseListMultipartUploads(std::string_view xml);
Result<std::string> ParseInitiateMultipartUpload(std::string_view xml);  // the upload id
// The ETag of CompleteMultipartUploadResult; "" when the server sent none (RGW).
Result<std::string> ParseCompleteMultipartUpload(std::string_view xml);
// The ETag of CopyObjectResult or CopyPartResult.
Result<std::string> ParseCopyResult(std::string_view xml);
Result<Tags> ParseTagging(std::string_view xml);
// The <Status> of a VersioningConfiguration: Enabled, Suspended, or none (kOff).
Result<BucketVersioning> ParseVersioningConfiguration(std::string_view xml);
// CreateSessionResult/Credentials: SessionToken, SecretAccessKey, AccessKeyId and Expiration
// (ISO 8601); kInternal when one is missing.
Result<SessionCredentials> ParseCreateSession(std::string_view xml);
// The per-key failures of a DeleteResult (empty when every key was deleted).
Result<std::vector<DeleteFailure>> ParseDeleteResult(std::string_view xml);
// Code and Message of an <Error> document; both empty when the body is not one (e.g. empty).
S3ErrorInfo ParseError(std::string_view xml);
// True when the body's root element is <Error> (S3 may send one with a 200 status for
// CopyObject, UploadPartCopy and CompleteMultipartUpload).
bool IsErrorDocument(std::string_view xml);

// Object Lock documents (docs/design/object-lock.md). <Retention>: Mode and RetainUntilDate
// (both empty when absent); <LegalHold>: Status ON; <ObjectLockConfiguration>: ObjectLockEnabled
// Enabled and the optional Rule/DefaultRetention (Days; Years counted as 365 days).
Result<ObjectLock> ParseRetention(std::string_view xml);
Result<bool> ParseLegalHold(std::string_view xml);
Result<ObjectLockConfiguration> ParseObjectLockConfiguration(std::string_view xml);
std::string BuildRetention(const ObjectLock& lock);
// An object's AccessControlPolicy (GetObjectAcl) as grant lists (`id="X", uri="Y"` per
// permission: FULL_CONTROL, READ, READ_ACP, WRITE_ACP; WRITE is left out, objects do not take
// it). kInternal when malformed, or when a grantee has no ID, URI or e-mail address or one
// that cannot go in a grant header (a double quote).
Result<WriteAcl> ParseAccessControlPolicy(std::string_view xml);
std::string BuildLegalHold(bool on);
std::string BuildObjectLockConfiguration(const std::optional<DefaultRetention>& rule);

// Request body builders.
std::string BuildCompleteMultipartUpload(std::span<const CompletedPart> parts);
// The same with each part's additional checksum (CompletedPart::checksum) as the element of
// `algorithm` (<ChecksumCRC32C> for directory buckets); an empty value leaves it out.
std::string BuildCompleteMultipartUpload(std::span<const CompletedPart> parts,
                                         checksum::Algorithm algorithm);
std::string BuildDeleteObjects(std::span<const std::string> keys, bool quiet);
std::string BuildTagging(const Tags& tags);
// "" for us-east-1 (or an empty region): that region takes no LocationConstraint.
std::string BuildCreateBucketConfiguration(std::string_view region);
std::string BuildVersioningConfiguration(bool enabled);

// Appends `text` with XML's special characters escaped.
void AppendXmlEscaped(std::string& out, std::string_view text);

}  // namespace ferry::s3
