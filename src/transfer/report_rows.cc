#include "transfer/report_rows.h"

#include <cctype>

#include "plan/decide.h"
#include "transfer/engine.h"
#include "transfer/verify.h"

namespace ferry::transfer {

namespace used_checksum = report::checksum_used;

std::string CopyChecksumUsed(const storage::ObjectInfo& src, std::string_view what,
                             bool local_source, bool unverified) {
  if (unverified) return std::string(used_checksum::kNone);
  if (what.find("server-side") != std::string_view::npos) {
    const bool parts = what.find("multipart") != std::string_view::npos;
    return std::string(parts ? used_checksum::kMd5Multipart : used_checksum::kServerSide);
  }
  const SourceCheck check = CheckOf(src);
  if (check.declared) {
    std::string name(checksum::AlgorithmName(check.declared->algorithm));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
  if (check.crc32c) return std::string(used_checksum::kCrc32c);
  if (check.md5) return std::string(used_checksum::kMd5);
  if (check.multipart) return std::string(used_checksum::kMd5Multipart);
  return std::string(local_source ? "local-file" : used_checksum::kNone);
}

std::string SkipChecksumUsed(std::string_view reason) {
  if (reason == plan::kReasonSameEtag) return std::string(used_checksum::kEtag);
  if (reason == plan::kReasonSameChecksum) return "checksum";
  if (reason == plan::kReasonSameContent) return "content";
  if (reason == plan::kReasonSameSize) return std::string(used_checksum::kSizeOnly);
  if (reason == plan::kReasonSameMtime || reason == plan::kReasonNotNewer ||
      reason == plan::kReasonDestinationNewer) {
    return std::string(used_checksum::kMtime);
  }
  return std::string(used_checksum::kNone);
}

report::Row NotOnSourceRow(std::string key, std::string_view why) {
  report::Row row;
  row.key = std::move(key);
  row.action = report::Action::kSkipped;
  row.outcome = report::Outcome::kSkipped;
  row.error_code = std::string(ErrorCodeName(ErrorCode::kNotFound));
  row.error_message = std::string(why);
  return row;
}

report::Row CopyRow(const CopyRowInput& in) {
  const storage::ObjectInfo& src = in.request.src;
  if (!in.status.ok()) {
    report::Row row = report::FailedRow(src.key, src.size, "copy", in.status);
    row.version_id = src.version_id;
    return row;
  }
  report::Row row;
  row.key = src.key;
  row.version_id = src.version_id;
  row.size = src.size;
  if (in.what == nullptr) {
    row.action = in.not_copied ? report::Action::kNotCopied : report::Action::kSkipped;
    row.outcome = report::Outcome::kSkipped;
    row.checksum = SkipChecksumUsed(in.request.reason);
  } else if (in.dry_run) {
    row.action = report::Action::kWouldCopy;
    row.outcome = report::Outcome::kOk;
  } else {
    row.action = report::Action::kCopied;
    row.outcome = report::Outcome::kOk;
    row.checksum = in.checksum;
  }
  return row;
}

report::Row SkipRow(const storage::ObjectInfo& src, std::string_view reason) {
  report::Row row;
  row.key = src.key;
  row.version_id = src.version_id;
  row.size = src.size;
  row.action = report::Action::kSkipped;
  row.outcome = report::Outcome::kSkipped;
  row.checksum = SkipChecksumUsed(reason);
  return row;
}

report::Row DeleteRow(std::string key, const Status& status, bool dry_run) {
  if (!status.ok()) return report::FailedRow(std::move(key), 0, "delete", status);
  report::Row row;
  row.key = std::move(key);
  row.action = dry_run ? report::Action::kWouldDelete : report::Action::kDeleted;
  row.outcome = report::Outcome::kOk;
  return row;
}

report::Row SourceDeleteRow(std::string key, const Status& status, bool dry_run) {
  if (!status.ok()) return report::FailedRow(std::move(key), 0, "delete-source", status);
  report::Row row;
  row.key = std::move(key);
  row.action = dry_run ? report::Action::kWouldDeleteSource : report::Action::kDeletedSource;
  row.outcome = report::Outcome::kOk;
  return row;
}

}  // namespace ferry::transfer
