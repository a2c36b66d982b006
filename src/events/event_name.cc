// Event names to kinds: AWS S3's names, RGW's and MinIO's own, one table.
#include <array>
#include <utility>

#include "events/event.h"

namespace ferry::events {
namespace {

using Entry = std::pair<std::string_view, EventKind>;

// Bare names (no "s3:"). Exact matches only: a name added by a store later is kOther until it is
// written here, rather than guessed from its family (MinIO files metadata changes under
// ObjectCreated, which must not copy bytes).
constexpr std::array kEventNames = {
    Entry{"ObjectCreated:Put", EventKind::kCreated},
    Entry{"ObjectCreated:Post", EventKind::kCreated},
    Entry{"ObjectCreated:Copy", EventKind::kCreated},
    Entry{"ObjectCreated:CompleteMultipartUpload", EventKind::kCreated},
    Entry{"ObjectRemoved:Delete", EventKind::kRemoved},
    Entry{"ObjectRemoved:DeleteAllVersions", EventKind::kRemoved},  // MinIO: a forced delete
    Entry{"ObjectRemoved:DeleteMarkerCreated", EventKind::kDeleteMarkerCreated},
    Entry{"ObjectTagging:Put", EventKind::kTagging},
    Entry{"ObjectTagging:Delete", EventKind::kTagging},
    Entry{"ObjectCreated:PutTagging", EventKind::kTagging},     // MinIO
    Entry{"ObjectCreated:DeleteTagging", EventKind::kTagging},  // MinIO
    Entry{"ObjectAcl:Put", EventKind::kAcl},
    Entry{"ObjectCreated:PutRetention", EventKind::kRetention},  // MinIO
    Entry{"ObjectCreated:PutLegalHold", EventKind::kRetention},  // MinIO
    Entry{"LifecycleExpiration:Delete", EventKind::kLifecycleExpiration},
    Entry{"LifecycleExpiration:DeleteMarkerCreated", EventKind::kLifecycleExpiration},
    Entry{"LifecycleDelMarkerExpiration:Delete", EventKind::kLifecycleExpiration},  // MinIO
    Entry{"ObjectLifecycle:Expiration:Current", EventKind::kLifecycleExpiration},   // RGW
    Entry{"ObjectLifecycle:Expiration:NonCurrent", EventKind::kLifecycleExpiration},
    Entry{"ObjectLifecycle:Expiration:DeleteMarker", EventKind::kLifecycleExpiration},
    Entry{"ObjectLifecycle:Expiration:AbortMultipartUpload", EventKind::kLifecycleExpiration},
    Entry{"LifecycleTransition", EventKind::kLifecycleTransition},
    Entry{"IntelligentTiering", EventKind::kLifecycleTransition},
    Entry{"ObjectLifecycle:Transition:Current", EventKind::kLifecycleTransition},  // RGW
    Entry{"ObjectLifecycle:Transition:NonCurrent", EventKind::kLifecycleTransition},
    Entry{"ObjectTransition:Complete", EventKind::kLifecycleTransition},  // MinIO
    Entry{"ObjectTransition:Failed", EventKind::kLifecycleTransition},
    Entry{"ObjectRestore:Post", EventKind::kRestore},
    Entry{"ObjectRestore:Completed", EventKind::kRestore},
    Entry{"ObjectRestore:Delete", EventKind::kRestore},
    Entry{"ObjectRestore:Complete", EventKind::kRestore},  // RGW's spelling
    Entry{"Replication:OperationFailedReplication", EventKind::kReplication},
    Entry{"Replication:OperationMissedThreshold", EventKind::kReplication},
    Entry{"Replication:OperationReplicatedAfterThreshold", EventKind::kReplication},
    Entry{"Replication:OperationNotTracked", EventKind::kReplication},
    Entry{"Replication:OperationCompletedReplication", EventKind::kReplication},  // MinIO
    Entry{"Replication:Create", EventKind::kReplication},                         // RGW
    Entry{"Replication:Delete", EventKind::kReplication},
    Entry{"Replication:DeletionMarkerCreated", EventKind::kReplication},
    Entry{"ObjectSynced:Create", EventKind::kReplication},  // RGW multisite
    Entry{"ObjectSynced:Delete", EventKind::kReplication},
    Entry{"ObjectSynced:DeletionMarkerCreated", EventKind::kReplication},
    Entry{"ObjectAccessed:Get", EventKind::kAccessed},  // MinIO
    Entry{"ObjectAccessed:Head", EventKind::kAccessed},
    Entry{"ObjectAccessed:GetRetention", EventKind::kAccessed},
    Entry{"ObjectAccessed:GetLegalHold", EventKind::kAccessed},
    Entry{"ObjectAccessed:Attributes", EventKind::kAccessed},
};

constexpr std::array<std::string_view, 12> kKindNames = {
    "created",
    "removed",
    "delete_marker_created",
    "tagging",
    "acl",
    "retention",
    "lifecycle_expiration",
    "lifecycle_transition",
    "restore",
    "replication",
    "accessed",
    "other",
};
static_assert(kKindNames.size() == static_cast<size_t>(EventKind::kOther) + 1);

}  // namespace

std::string_view SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kAws:
      return "aws";
    case SourceKind::kRgw:
      return "rgw";
    case SourceKind::kMinio:
      return "minio";
  }
  return "unknown";
}

std::string_view EventKindName(EventKind kind) { return kKindNames[static_cast<size_t>(kind)]; }

std::string_view BareEventName(std::string_view name) {
  constexpr std::string_view kPrefix = "s3:";
  if (name.substr(0, kPrefix.size()) == kPrefix) name.remove_prefix(kPrefix.size());
  return name;
}

EventKind ClassifyEventName(std::string_view name) {
  const std::string_view bare = BareEventName(name);
  for (const auto& [known, kind] : kEventNames) {
    if (known == bare) return kind;
  }
  return EventKind::kOther;
}

}  // namespace ferry::events
