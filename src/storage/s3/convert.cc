// Conversions between s3::ObjectHead / s3::WriteOptions and the engine's ObjectInfo / WriteSpec.
#include "s3/time_format.h"
#include "storage/s3/s3_backend.h"

namespace ferry::storage {

ObjectLock LockFromS3(const s3::ObjectLock& lock) {
  ObjectLock out;
  out.legal_hold = lock.legal_hold;
  // A date the store wrote in a form not understood leaves no retention rather than a wrong one
  // (a copy carrying it would then lack it; a delete pre-check asks the store, which refuses).
  if (auto until = s3::ParseIso8601(lock.retain_until); until && !lock.mode.empty()) {
    out.mode = lock.mode;
    out.retain_until = *until;
  }
  return out;
}

s3::ObjectLock LockToS3(const ObjectLock& lock) {
  s3::ObjectLock out;
  out.legal_hold = lock.legal_hold;
  if (!lock.mode.empty()) {
    out.mode = lock.mode;
    out.retain_until = s3::FormatIso8601(lock.retain_until);
  }
  return out;
}

s3::WriteAcl AclToS3(const WriteAcl& acl) {
  return s3::WriteAcl{acl.canned, acl.grant_read, acl.grant_read_acp, acl.grant_write_acp,
                      acl.grant_full_control};
}

ObjectInfo ObjectInfoFromHead(std::string key, const s3::ObjectHead& head) {
  ObjectInfo info;
  info.key = std::move(key);
  info.size = head.size;
  info.etag = head.etag;
  info.mtime = head.last_modified;
  info.storage_class = head.storage_class == "STANDARD" ? "" : head.storage_class;
  info.version_id = head.version_id;
  info.delete_marker = head.delete_marker;
  info.has_details = true;
  info.content = ContentHeaders{head.content.content_type,     head.content.content_encoding,
                                head.content.content_language, head.content.content_disposition,
                                head.content.cache_control,    head.content.expires};
  info.metadata = head.metadata;
  // An encrypted object's ETag (SSE-KMS, SSE-C) is not an MD5 of its bytes.
  info.etag_opaque = head.etag_not_md5();
  if (head.tag_count == 0) info.tags = Tags{};
  info.lock = LockFromS3(head.lock);
  info.checksum = head.checksum;
  info.archive = ArchiveFromHead(head);
  return info;
}

s3::WriteOptions WriteOptionsFromSpec(const WriteSpec& spec) {
  s3::WriteOptions o;
  o.content = s3::ContentHeaders{spec.content.content_type,     spec.content.content_encoding,
                                 spec.content.content_language, spec.content.content_disposition,
                                 spec.content.cache_control,    spec.content.expires};
  o.metadata = spec.metadata;
  if (spec.tags && !spec.tags->empty()) o.tags = *spec.tags;
  o.storage_class = spec.storage_class;
  o.content_md5 = spec.content_md5;
  o.if_none_match_any = spec.if_absent;
  o.lock = LockToS3(spec.lock);
  o.acl = AclToS3(spec.acl);
  o.checksum_algorithm = spec.checksum_algorithm;
  o.checksum_value = spec.checksum_value;
  return o;
}

}  // namespace ferry::storage
