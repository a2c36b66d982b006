// The access settings a write may ask for, read from the command line: S3 canned ACLs
// (--acl), grants in the AWS CLI's form (--grants), and a bucket's default retention
// (--default-retention MODE:DAYS), each refused with one line naming what is wrong.
// docs/design/object-lock.md.
//
// Thread-safety: pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/object_info.h"

namespace ferry::storage {

// `name` when it is one of S3's canned object ACLs: private, public-read, public-read-write,
// authenticated-read, aws-exec-read, bucket-owner-read, bucket-owner-full-control. Otherwise
// kInvalidArgument naming it and the accepted ones.
Result<std::string> ParseCannedAcl(std::string_view name);

// Grants as the AWS CLI's --grants takes them: each `PERMISSION=TYPE=VALUE`, PERMISSION one of
// read, readacp, writeacp, full; TYPE one of id, uri, emailaddress (e.g. `read=id=alice`,
// `read=uri=http://acs.amazonaws.com/groups/global/AllUsers`). Grants of one permission are
// joined into one x-amz-grant-* list (`id="alice", id="bob"`). Empty input: an empty ACL.
// kInvalidArgument naming the first grant that is not of that form (or holds a quote or comma).
Result<WriteAcl> ParseGrants(std::span<const std::string> grants);

// "GOVERNANCE:30" or "COMPLIANCE:365" (mode case-insensitive; 1 to 36500 days).
struct RetentionRule {
  std::string mode;  // upper-case
  int days = 0;
};
Result<RetentionRule> ParseRetentionRule(std::string_view text);

// "GOVERNANCE" / "COMPLIANCE" for `mode` in any case; kInvalidArgument otherwise.
Result<std::string> ParseLockMode(std::string_view mode);

}  // namespace ferry::storage
