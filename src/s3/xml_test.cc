#include "s3/xml.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::s3 {
namespace {

TEST(XmlTest, ParsesListObjectsV2WithUrlEncoding) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>dir%2F</Prefix><MaxKeys>2</MaxKeys><EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated><KeyCount>2</KeyCount>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>dir/a+b%2Bc%25d</Key><LastModified>2026-11-22T00:53:21.123Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>11</Size>
    <StorageClass>STANDARD_IA</StorageClass></Contents>
  <Contents><Key>dir/caf%C3%A9</Key><LastModified>2026-11-22T00:53:22.000Z</LastModified>
    <ETag>"d41d8cd98f00b204e9800998ecf8427e-2"</ETag><Size>0</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <CommonPrefixes><Prefix>dir/sub%20dir/</Prefix></CommonPrefixes>
</ListBucketResult>)";
  auto page = ParseListObjectsV2(xml);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "dir/a b+c%d");
  EXPECT_EQ(page->objects[0].etag, "9b2cf535f27731c974343645a3985328");
  EXPECT_EQ(page->objects[0].size, 11u);
  EXPECT_EQ(page->objects[0].storage_class, "STANDARD_IA");
  EXPECT_EQ(page->objects[0].last_modified.time_since_epoch(),
            std::chrono::milliseconds(1795308801123));
  EXPECT_EQ(page->objects[1].key, "dir/caf\xC3\xA9");
  EXPECT_EQ(page->objects[1].etag, "d41d8cd98f00b204e9800998ecf8427e-2");
  ASSERT_EQ(page->common_prefixes.size(), 1u);
  EXPECT_EQ(page->common_prefixes[0], "dir/sub dir/");
  EXPECT_TRUE(page->truncated);
  // The continuation token is not URL-encoded and is kept verbatim.
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(XmlTest, ListWithoutEncodingKeepsKeysVerbatim) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a+b%20</Key>"
      "<Size>1</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects[0].key, "a+b%20");
  EXPECT_FALSE(page->truncated);
}

TEST(XmlTest, RejectsMalformedOrUnexpectedReplies) {
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><Contents>").status().code(),
            ErrorCode::kInternal);
  EXPECT_EQ(ParseListObjectsV2("<Error><Code>X</Code></Error>").status().code(),
            ErrorCode::kInternal);
  EXPECT_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").ok());
}

TEST(XmlTest, ParsesListVersionsInDocumentOrder) {
  const std::string xml = R"(<ListVersionsResult><EncodingType>url</EncodingType>
    <IsTruncated>true</IsTruncated><NextKeyMarker>k%20b</NextKeyMarker>
    <NextVersionIdMarker>v3</NextVersionIdMarker>
    <Version><Key>k%20a</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest>
      <LastModified>2026-11-22T00:53:21.000Z</LastModified><ETag>"e1"</ETag><Size>3</Size>
      <StorageClass>STANDARD</StorageClass></Version>
    <DeleteMarker><Key>k%20b</Key><VersionId>v2</VersionId><IsLatest>true</IsLatest>
      <LastModified>2026-11-22T00:53:22.000Z</LastModified></DeleteMarker>
    <Version><Key>k%20b</Key><VersionId>v3</VersionId><IsLatest>false</IsLatest>
      <ETag>e3</ETag><Size>5</Size></Version>
  </ListVersionsResult>)";
  auto page = ParseListVersions(xml);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->versions.size(), 3u);
  EXPECT_EQ(page->versions[0].key, "k a");
  EXPECT_TRUE(page->versions[0].is_latest);
  EXPECT_FALSE(page->versions[0].delete_marker);
  EXPECT_EQ(page->versions[0].etag, "e1");
  EXPECT_TRUE(page->versions[1].delete_marker);
  EXPECT_EQ(page->versions[1].version_id, "v2");
  EXPECT_EQ(page->versions[2].etag, "e3");
  EXPECT_FALSE(page->versions[2].is_latest);
  EXPECT_EQ(page->next_key_marker, "k b");
  EXPECT_EQ(page->next_version_id_marker, "v3");
}

TEST(XmlTest, ParsesMultipartReplies) {
  auto id = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>2~abc</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "2~abc");

  auto parts = ParseListParts(
      "<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>2"
      "</NextPartNumberMarker><Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag><Size>5242880"
      "</Size></Part><Part><PartNumber>2</PartNumber><ETag>&quot;bb&quot;</ETag><Size>1</Size>"
      "</Part></ListPartsResult>");
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->parts.size(), 2u);
  EXPECT_EQ(parts->parts[0].part_number, 1);
  EXPECT_EQ(parts->parts[0].etag, "aa");
  EXPECT_EQ(parts->parts[0].size, 5242880u);
  EXPECT_EQ(parts->parts[1].etag, "bb");
  EXPECT_TRUE(parts->truncated);
  EXPECT_EQ(parts->next_part_number_marker, 2);

  auto uploads = ParseListMultipartUploads(
      "<ListMultipartUploadsResult><EncodingType>url</EncodingType><IsTruncated>false"
      "</IsTruncated><Upload><Key>a%2Bb</Key><UploadId>u1</UploadId><Initiated>"
      "2026-11-22T00:53:21.000Z</Initiated></Upload></ListMultipartUploadsResult>");
  ASSERT_TRUE(uploads.ok());
  ASSERT_EQ(uploads->uploads.size(), 1u);
  EXPECT_EQ(uploads->uploads[0].key, "a+b");
  EXPECT_EQ(uploads->uploads[0].upload_id, "u1");

  // RGW: empty ETag in the Complete reply.
  auto complete = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResult><Location>x</Location><Bucket>b</Bucket><Key>k</Key>"
      "<ETag></ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(complete.ok());
  EXPECT_EQ(*complete, "");
  complete = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResult><ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>"
      "</CompleteMultipartUploadResult>");
  EXPECT_EQ(*complete, "3858f62230ac3c915f300c664312c11f-9");
}

TEST(XmlTest, CopyResultEtagMayBeUnquoted) {
  auto rgw = ParseCopyResult(
      "<CopyObjectResult><LastModified>2026-11-22T00:53:21.000Z</LastModified>"
      "<ETag>9b2cf535f27731c974343645a3985328</ETag></CopyObjectResult>");
  ASSERT_TRUE(rgw.ok());
  EXPECT_EQ(*rgw, "9b2cf535f27731c974343645a3985328");
  auto aws = ParseCopyResult(
      "<CopyPartResult><ETag>&quot;b54357faf0632cce46e942fa68356b38&quot;</ETag></CopyPartResult>");
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(*aws, "b54357faf0632cce46e942fa68356b38");
  EXPECT_FALSE(ParseCopyResult("<CopyObjectResult/>").ok());
}

TEST(XmlTest, TaggingRoundTripsThroughBuilderAndParser) {
  const Tags tags = {{"project", "ferry & co"}, {"empty", ""}, {"<k>", "\"v\" 'q'"}};
  auto parsed = ParseTagging(BuildTagging(tags));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, tags);
}

TEST(XmlTest, ParsesDeleteResultFailures) {
  auto failures = ParseDeleteResult(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b c</Key><Code>AccessDenied"
      "</Code><Message>Access Denied</Message></Error></DeleteResult>");
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].key, "b c");
  EXPECT_EQ((*failures)[0].code, "AccessDenied");
  EXPECT_TRUE(ParseDeleteResult("<DeleteResult/>")->empty());
}

TEST(XmlTest, ParsesErrorDocuments) {
  const S3ErrorInfo rgw = ParseError(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message/>"
      "<BucketName>b</BucketName><RequestId>tx0</RequestId></Error>");
  EXPECT_EQ(rgw.code, "NoSuchKey");
  EXPECT_EQ(rgw.message, "");
  EXPECT_EQ(ParseError("").code, "");
  EXPECT_EQ(ParseError("<html>bad gateway</html>").code, "");
  EXPECT_TRUE(IsErrorDocument("<Error><Code>InternalError</Code></Error>"));
  EXPECT_FALSE(IsErrorDocument("<CopyObjectResult><ETag>x</ETag></CopyObjectResult>"));
}

TEST(XmlTest, BuildsRequestBodies) {
  const CompletedPart parts[] = {{1, "aa", 5}, {2, "bb", 1}};
  EXPECT_EQ(BuildCompleteMultipartUpload(parts),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>&quot;aa&quot;</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>&quot;bb&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
  const std::string keys[] = {"a&b", "c<d"};
  EXPECT_EQ(BuildDeleteObjects(keys, true),
            "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
            "<Object><Key>a&amp;b</Key></Object><Object><Key>c&lt;d</Key></Object></Delete>");
  EXPECT_EQ(BuildCreateBucketConfiguration("us-east-1"), "");
  EXPECT_EQ(BuildCreateBucketConfiguration(""), "");
  EXPECT_EQ(BuildCreateBucketConfiguration("region-a"),
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<LocationConstraint>region-a</LocationConstraint></CreateBucketConfiguration>");
  EXPECT_NE(BuildVersioningConfiguration(true).find("<Status>Enabled</Status>"), std::string::npos);
  EXPECT_NE(BuildVersioningConfiguration(false).find("<Status>Suspended</Status>"),
            std::string::npos);
}

TEST(XmlTest, UnquotesEtags) {
  EXPECT_EQ(UnquoteEtag("\"abc\""), "abc");
  EXPECT_EQ(UnquoteEtag("abc"), "abc");
  EXPECT_EQ(UnquoteEtag("&quot;abc&quot;"), "abc");
  EXPECT_EQ(UnquoteEtag("\""), "\"");
  EXPECT_EQ(UnquoteEtag(""), "");
}

TEST(XmlTest, ParsesVersioningConfiguration) {
  EXPECT_EQ(ParseVersioningConfiguration(
                R"(<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                     <Status>Enabled</Status></VersioningConfiguration>)")
                .value(),
            BucketVersioning::kEnabled);
  EXPECT_EQ(ParseVersioningConfiguration(
                "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>")
                .value(),
            BucketVersioning::kSuspended);
  // A bucket whose versioning was never set has no <Status>.
  EXPECT_EQ(ParseVersioningConfiguration("<VersioningConfiguration/>").value(),
            BucketVersioning::kOff);
  EXPECT_EQ(ParseVersioningConfiguration(
                "<VersioningConfiguration><Status>Maybe</Status></VersioningConfiguration>")
                .status()
                .code(),
            ErrorCode::kInternal);
  EXPECT_EQ(ParseVersioningConfiguration("<Other/>").status().code(), ErrorCode::kInternal);
}

TEST(XmlTest, AccessControlPolicyBecomesGrantLists) {
  const std::string xml =
      "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>owner1</ID>"
      "</Owner><AccessControlList>"
      "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
      "xsi:type=\"CanonicalUser\"><ID>owner1</ID><DisplayName>o</DisplayName></Grantee>"
      "<Permission>FULL_CONTROL</Permission></Grant>"
      "<Grant><Grantee xsi:type=\"CanonicalUser\"><ID>other</ID></Grantee>"
      "<Permission>READ</Permission></Grant>"
      "<Grant><Grantee xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers"
      "</URI></Grantee><Permission>READ</Permission></Grant>"
      "<Grant><Grantee xsi:type=\"AmazonCustomerByEmail\"><EmailAddress>a@b.c</EmailAddress>"
      "</Grantee><Permission>READ_ACP</Permission></Grant>"
      "<Grant><Grantee xsi:type=\"CanonicalUser\"><ID>other</ID></Grantee>"
      "<Permission>WRITE</Permission></Grant>"
      "</AccessControlList></AccessControlPolicy>";
  Result<WriteAcl> acl = ParseAccessControlPolicy(xml);
  ASSERT_TRUE(acl.ok()) << acl.status().ToString();
  EXPECT_EQ(acl->grant_full_control, "id=\"owner1\"");
  EXPECT_EQ(acl->grant_read,
            "id=\"other\", uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"");
  EXPECT_EQ(acl->grant_read_acp, "emailAddress=\"a@b.c\"");
  EXPECT_EQ(acl->grant_write_acp, "");  // WRITE is a bucket permission: left out
  EXPECT_FALSE(ParseAccessControlPolicy("<Other/>").ok());
  EXPECT_FALSE(ParseAccessControlPolicy(
                   "<AccessControlPolicy><AccessControlList><Grant><Grantee/><Permission>READ"
                   "</Permission></Grant></AccessControlList></AccessControlPolicy>")
                   .ok());  // a grant nobody could be given again is never dropped silently
  EXPECT_FALSE(ParseAccessControlPolicy(
                   "<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>a\"b</ID></Grantee>"
                   "<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>")
                   .ok());
}

}  // namespace
}  // namespace ferry::s3
