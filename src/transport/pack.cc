#include "transport/pack.h"

#include <chrono>

#include "archive/backend_io.h"
#include "transport/prefetch.h"

namespace ferry::transport {

archive::EntryHeader HeaderOf(const storage::ObjectInfo& o) {
  archive::EntryHeader h = archive::HeaderOf(o);
  // ferry's own entries are written again by the unpacker from the entry's checked CRC32C and
  // mtime, never copied: a stale one would lie about the bytes.
  h.metadata.erase(storage::kMetaCrc32c);
  h.metadata.erase(storage::kMetaMtime);
  return h;
}

Result<PackResult> PackObjects(storage::Backend& src, std::span<const storage::ObjectInfo> objects,
                               archive::ByteSink& sink, const PackOptions& options,
                               std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(auto writer, archive::Writer::Open(sink, options.writer));
  const bool with_tags = src.features().tags;
  PackResult result;
  Prefetcher ahead(src, objects, options.whole_read_limit, options.read_threads,
                   options.read_window, stop);
  for (size_t i = 0; i < objects.size(); ++i) {
    const storage::ObjectInfo& listed = objects[i];
    if (stop.stop_requested()) return Status::Cancelled("pack cancelled");
    if (!listed.unreadable.empty()) {
      return Status::Unavailable(listed.key + ": " + listed.unreadable);
    }
    Status s;
    if (listed.size <= options.whole_read_limit) {
      ReadObject r = ahead.Take(i);
      if (r.vanished) {
        ++result.vanished;
        continue;
      }
      FERRY_RETURN_IF_ERROR(r.status);
      archive::StringChunkSource body(r.bytes);
      archive::EntryHeader h = HeaderOf(r.object);
      h.destinations = options.destinations;
      s = writer->Add(h, body);
    } else {
      // The listing has no metadata: Stat has it all, and pins the ETag the reads check.
      auto object = src.Stat(listed.key, with_tags, stop);
      if (!object.ok() && object.status().code() == ErrorCode::kNotFound) {
        ++result.vanished;
        continue;
      }
      FERRY_RETURN_IF_ERROR(object.status().WithContext(listed.key));
      object->key = listed.key;
      if (object->metadata.count(storage::kMetaMtime) == 0 &&
          std::chrono::duration_cast<std::chrono::seconds>(listed.mtime.time_since_epoch()) ==
              std::chrono::duration_cast<std::chrono::seconds>(object->mtime.time_since_epoch())) {
        object->mtime = listed.mtime;  // the listing's milliseconds, as a plain copy keeps them
      }
      archive::BackendChunkSource body(src, *object, stop);
      archive::EntryHeader h = HeaderOf(*object);
      h.destinations = options.destinations;
      s = writer->Add(h, body);
    }
    if (!s.ok()) return s.WithContext(listed.key);
  }
  FERRY_ASSIGN_OR_RETURN(result.summary, writer->Finish());
  return result;
}

}  // namespace ferry::transport
