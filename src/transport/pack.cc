#include "transport/pack.h"

#include <chrono>

#include "archive/backend_io.h"

namespace ferry::transport {

archive::EntryHeader HeaderOf(const storage::ObjectInfo& o) {
  archive::EntryHeader h;
  h.key = o.key;
  h.size = o.size;
  h.version_id = o.version_id;
  h.etag = o.etag;
  h.mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(o.source_mtime().time_since_epoch())
          .count();
  h.content = o.content;
  h.metadata = o.metadata;
  // ferry's own entries are written again by the unpacker from the entry's checked CRC32C and
  // mtime, never copied: a stale one would lie about the bytes.
  h.metadata.erase(storage::kMetaCrc32c);
  h.metadata.erase(storage::kMetaMtime);
  h.tags = o.tags;
  h.storage_class = o.storage_class;
  return h;
}

namespace {

// A GET or HEAD gives the modification time in whole seconds (Last-Modified), a listing in
// milliseconds: the listing's is kept (as a plain copy keeps it) when it is the same second.
void KeepListedTime(const storage::ObjectInfo& listed, storage::ObjectInfo& object) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  if (object.metadata.count(storage::kMetaMtime) != 0) return;
  if (duration_cast<seconds>(listed.mtime.time_since_epoch()) ==
      duration_cast<seconds>(object.mtime.time_since_epoch())) {
    object.mtime = listed.mtime;
  }
}

}  // namespace

Result<PackResult> PackObjects(storage::Backend& src, std::span<const storage::ObjectInfo> objects,
                               archive::ByteSink& sink, const PackOptions& options,
                               std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(auto writer, archive::Writer::Open(sink, options.writer));
  const bool with_tags = src.features().tags;
  PackResult result;
  std::vector<std::byte> buffer;
  for (const storage::ObjectInfo& listed : objects) {
    if (stop.stop_requested()) return Status::Cancelled("pack cancelled");
    if (!listed.unreadable.empty()) {
      return Status::Unavailable(listed.key + ": " + listed.unreadable);
    }
    Status s;
    if (listed.size <= options.whole_read_limit) {
      // One GET gives the bytes and every detail (tags too when the object has any). Not
      // pinned to the listed ETag: what is read is what the entry describes.
      buffer.resize(listed.size);
      auto object = src.ReadObject(listed.key, buffer, "", stop);
      if (!object.ok() && object.status().code() == ErrorCode::kNotFound) {
        ++result.vanished;
        continue;
      }
      if (!object.ok() && object.status().code() == ErrorCode::kDataLoss) {
        // The object changed size since it was listed: read its current version.
        auto now = src.Stat(listed.key, false, stop);
        if (!now.ok() && now.status().code() == ErrorCode::kNotFound) {
          ++result.vanished;
          continue;
        }
        FERRY_RETURN_IF_ERROR(now.status().WithContext(listed.key));
        buffer.resize(now->size);
        object = src.ReadObject(listed.key, buffer, now->etag, stop);
      }
      FERRY_RETURN_IF_ERROR(object.status().WithContext(listed.key));
      object->key = listed.key;
      object->size = buffer.size();
      KeepListedTime(listed, *object);
      archive::StringChunkSource body(
          std::string_view(reinterpret_cast<const char*>(buffer.data()), buffer.size()));
      archive::EntryHeader h = HeaderOf(*object);
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
      KeepListedTime(listed, *object);
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
