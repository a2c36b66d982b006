// transport::ArchiveWriteRequests, ArchiveReadRequests: the S3 requests one staged archive
// costs, as transport writes it (archive::BackendSink: a multipart upload, or one PUT when its
// batch was expected to fit one part) and reads it back (unpack.h: a HEAD, the three reads
// that open it, then its data in ranged reads). The pack and unpack kinds count them into a
// run's statistics; the cost model prices them (estimate/cost.h). Pure; thread-safe.
#pragma once

#include <cstdint>

namespace ferry::transport {

// Requests as bills count them: PUT-class (PUT, COPY, POST, LIST) and GET-class (GET, HEAD).
struct Requests {
  uint64_t put = 0;
  uint64_t get = 0;
  Requests& operator+=(const Requests& o) {
    put += o.put;
    get += o.get;
    return *this;
  }
};

// An archive of `archive_bytes` written as a multipart upload in parts of `part_size` (create,
// parts, complete), or in one PUT when its batch was expected to fit one part
// (`likely_one_part`) and it does. Its delete is free.
Requests ArchiveWriteRequests(uint64_t archive_bytes, uint64_t part_size = 16ull << 20,
                              bool likely_one_part = false);
// The same archive read back by its unpacker, in reads of `read_size`.
Requests ArchiveReadRequests(uint64_t archive_bytes, uint64_t read_size = 8ull << 20);

}  // namespace ferry::transport
