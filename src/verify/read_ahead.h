// ReadInOrder: reads one object whole, in chunks, and hands the chunks in order to a consumer
// (the hashing of `ferry verify`), with up to `depth` chunks read ahead by the executor's
// workers so that a large object is not read one request at a time.
//
// No worker ever waits for a task that no worker may run: each chunk read is queued as a
// priority task AND claimed by whichever comes first, the queued task or the consumer when it
// needs that chunk. A consumer that finds its chunk unclaimed reads it itself; one that finds it
// claimed waits for a read already running on another worker. So the call never deadlocks,
// whatever the executor's load, and at worst reads sequentially.
//
// Memory: one buffer of depth x chunk bytes borrowed from the executor's pool at once (so two
// readers never each hold a part of what they need).
//
// Thread-safety: one call per thread; call from a task of `queue` or from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <string>

#include "base/status.h"
#include "storage/backend.h"
#include "transfer/executor.h"

namespace ferry::verify {

struct ReadRequest {
  storage::Backend* backend = nullptr;
  std::string key;
  uint64_t size = 0;
  std::string etag;  // If-Match ("" = none)
  uint64_t chunk = 8ull << 20;
  int depth = 4;  // chunks in flight at most (1 = sequential)
};

// Calls `consume` with the object's bytes in order, chunk by chunk. Returns the first read
// error, or kCancelled when `stop` is requested.
Status ReadInOrder(const ReadRequest& request, transfer::TaskQueue& queue,
                   const std::function<void(std::span<const std::byte>)>& consume,
                   std::stop_token stop);

}  // namespace ferry::verify
