#include "cli/commands/metrics.h"

#include "http/curl_transport.h"

namespace ferry::cli {

// Only counters that never go down (objects_planned and bytes_planned, estimates for the
// progress line that the engine corrects downwards, are left out).
std::span<const StatsField> StatsFields() {
  using S = transfer::Stats;
  static const StatsField kFields[] = {
      {"objects_listed", "ferry_transfer_objects_listed_total",
       "Source objects listed that passed the filters.", &S::objects_listed},
      {"objects_copied", "ferry_transfer_objects_copied_total", "Objects copied.",
       &S::objects_copied},
      {"bytes_copied", "ferry_transfer_bytes_copied_total", "Bytes of the objects copied.",
       &S::bytes_copied},
      {nullptr, "ferry_transfer_bytes_moved_total",
       "Bytes moved so far, parts of unfinished objects included.", &S::bytes_moved},
      {"objects_unchanged", "ferry_transfer_objects_unchanged_total",
       "Objects already up to date on the destination.", &S::objects_skipped},
      {"objects_deleted", "ferry_transfer_objects_deleted_total",
       "Destination objects deleted.", &S::objects_deleted},
      {nullptr, "ferry_transfer_deletes_planned_total", "Destination objects planned for deletion.",
       &S::deletes_planned},
      {"deletes_kept", "ferry_transfer_deletes_kept_total",
       "Deletions not done: the source had the key again.", &S::deletes_kept},
      {"sources_deleted", "ferry_transfer_sources_deleted_total",
       "ferry move: source objects deleted once the destination proved them.",
       &S::sources_deleted},
      {"sources_kept", "ferry_transfer_sources_kept_total",
       "ferry move: source objects kept because nothing proved their copy.", &S::sources_kept},
      {"backups_kept", "ferry_transfer_backups_kept_total",
       "--backup-dir: destination objects copied to the backup location before being replaced "
       "or deleted.",
       &S::backups_kept},
      {"server_side_copies", "ferry_transfer_server_side_copies_total",
       "Objects copied on the server.", &S::objects_server_side},
      {"multipart_copies", "ferry_transfer_multipart_copies_total", "Objects copied in parts.",
       &S::objects_multipart},
      {"parts_resumed", "ferry_transfer_parts_resumed_total",
       "Parts found on the destination after a crash and not sent again.", &S::parts_resumed},
      {"markers_skipped", "ferry_transfer_markers_skipped_total",
       "Folder markers a local destination has no use for.", &S::markers_skipped},
      {"folders_not_followed", "ferry_transfer_folders_not_followed_total",
       "Source folders not entered (symbolic links to folders): not copied, nothing under them "
       "deleted.",
       &S::folders_not_followed},
      {"conflicts_deferred", "ferry_transfer_conflicts_deferred_total",
       "Copies left for the next run (a file and a folder of one name trade places).",
       &S::conflicts_deferred},
      {"listed_not_found", "ferry_transfer_listed_not_found_total",
       "Keys of a --files-from list that the source does not have.", &S::listed_not_found},
      {"details_fetched", "ferry_transfer_details_fetched_total",
       "HEAD requests the planner asked for.", &S::details_fetched},
      {"objects_unverified", "ferry_transfer_objects_unverified_total",
       "Objects copied that no checksum the source declares could verify.",
       &S::objects_unverified},
      {"objects_etag_encrypted", "ferry_transfer_objects_etag_encrypted_total",
       "Objects copied whose source is SSE-KMS/SSE-C encrypted (ETag not an MD5; ferry's "
       "CRC32C checks them).",
       &S::objects_etag_encrypted},
      {"checksum_retries", "ferry_transfer_checksum_retries_total",
       "Reads or writes refused by a checksum and done again.", &S::checksum_retries},
      {nullptr, "ferry_transfer_job_retries_total", "Job attempts retried after a failure.",
       &S::job_retries},
      {"uploads_restarted", "ferry_transfer_uploads_restarted_total",
       "Unfinished uploads started over because their source changed.", &S::uploads_restarted},
      {"classes_not_kept", "ferry_transfer_classes_not_kept_total",
       "Objects whose storage class the destination could not keep.", &S::classes_not_kept},
      {"tags_not_kept", "ferry_transfer_tags_not_kept_total",
       "Objects whose tags the destination could not keep.", &S::tags_not_kept},
      {"archived_not_copied", "ferry_transfer_archived_not_copied_total",
       "Archived source objects (Glacier, Deep Archive) not readable and not copied.",
       &S::archived_not_copied},
      {"restores_requested", "ferry_transfer_restores_requested_total",
       "Restores of archived source objects asked for (--restore-archived).",
       &S::restores_requested},
      {"archived_copied", "ferry_transfer_archived_copied_total",
       "Archived source objects copied from their restored copy.", &S::archived_copied},
      {"archives_staged", "ferry_transport_archives_staged_total",
       "Compressed archives written to the staging location.", &S::archives_staged},
      {"transport_bytes_in", "ferry_transport_bytes_in_total",
       "Bytes of the objects packed into archives.", &S::transport_bytes_in},
      {"transport_bytes_wire", "ferry_transport_bytes_wire_total",
       "Bytes of the archives written to staging (what crosses to the target region).",
       &S::transport_bytes_wire},
      {"entries_packed", "ferry_transport_entries_packed_total", "Objects packed into archives.",
       &S::entries_packed},
      {"entries_stored_raw", "ferry_transport_entries_stored_raw_total",
       "Objects packed uncompressed (their sample did not compress).", &S::entries_stored_raw},
      {"archives_unpacked", "ferry_transport_archives_unpacked_total",
       "Staged archives unpacked into the destination and deleted.", &S::archives_unpacked},
      {"entries_verified", "ferry_transport_entries_verified_total",
       "Objects unpacked whose CRC32C was checked before they became visible.",
       &S::entries_verified},
      {"entries_already_present", "ferry_transport_entries_already_present_total",
       "Objects an interrupted unpack had written already (not written again).",
       &S::entries_already_present},
      {nullptr, "ferry_transport_staging_puts_total",
       "PUT-class requests of archive writes to staging (what packing adds to a plain copy).",
       &S::transport_extra_puts},
      {nullptr, "ferry_transport_staging_gets_total",
       "GET-class requests of archive reads from staging (what unpacking adds to a plain copy).",
       &S::transport_extra_gets},
  };
  return kFields;
}

StatsMetrics::StatsMetrics(const transfer::Stats& stats, obs::Registry& registry) {
  for (const StatsField& f : StatsFields()) {
    const std::atomic<uint64_t>* value = &(stats.*f.member);
    series_.push_back(registry.Observe(obs::MetricType::kCounter, f.metric, f.help, {}, {},
                                       [value] { return static_cast<double>(value->load()); }));
  }
  series_.push_back(registry.Observe(
      obs::MetricType::kCounter, "ferry_transfer_object_failures_total",
      "Object copies or deletes that failed (a durable run retries them in a later attempt).",
      {}, {}, [&stats] { return static_cast<double>(stats.failures()); }));
}

StatsMetrics::~StatsMetrics() {
  for (obs::Registration& r : series_) r.Detach();
}

void RegisterProcessMetrics() {
  // never destroyed: the series live as long as the process (and its registry)
  static const auto* series = new std::vector<obs::Registration>([] {
    obs::Registry& registry = obs::DefaultRegistry();
    std::vector<obs::Registration> s;
    s.push_back(registry.Observe(
        obs::MetricType::kGauge, "ferry_http_requests_in_flight",
        "HTTP requests of this process in flight (every command, run and job).", {}, {},
        [] { return static_cast<double>(http::ProcessRequestsInFlight().now); }));
    s.push_back(registry.Observe(
        obs::MetricType::kGauge, "ferry_http_requests_in_flight_peak",
        "The most HTTP requests of this process in flight at once since it started.", {}, {},
        [] { return static_cast<double>(http::ProcessRequestsInFlight().peak); }));
    return s;
  }());
  (void)series;
}

}  // namespace ferry::cli
