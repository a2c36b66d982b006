// Archived objects (S3 Glacier Flexible Retrieval, Deep Archive, Intelligent-Tiering's archive
// tiers): the RestoreObject request document and what HEAD/GET replies say about a restore.
// Pure functions, used by S3Client::RestoreObject (ops/restore_object.cc) and by
// ParseObjectHead (client.cc). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "http/transport.h"
#include "s3/types.h"

namespace ferry::s3 {

// The tiers RestoreObject takes: "Standard", "Bulk", "Expedited" (exactly so spelled).
bool IsRestoreTier(std::string_view tier);

// <RestoreRequest><Days>days</Days><GlacierJobParameters><Tier>tier</Tier>
// </GlacierJobParameters></RestoreRequest>. REQUIRES: days >= 1, IsRestoreTier(tier).
std::string BuildRestoreRequest(int days, std::string_view tier);

// An x-amz-restore value: `ongoing-request="true"` (running) or `ongoing-request="false",
// expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"` (done, readable until then). "" is no restore
// (requested false). A value whose ongoing-request cannot be read counts as still running (never
// taken for readable); an unreadable expiry-date leaves `expiry` at its epoch default.
RestoreState ParseRestoreHeader(std::string_view value);

// Sets head.restore (x-amz-restore) and head.archive_status (x-amz-archive-status:
// ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS) from reply headers; absent headers leave defaults.
void ParseArchiveHeaders(const http::Headers& headers, ObjectHead& head);

}  // namespace ferry::s3
