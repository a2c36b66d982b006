// transport::Batcher: cuts a stream of objects (in listing order) into the batches that become
// one archive each: a batch closes once it holds `max_objects` objects or once the next object
// would take it past `max_bytes`; an object larger than `max_bytes` is a batch of its own.
// Bounding both keeps an archive's manifest small (count) and the work a crashed pack redoes
// (bytes). Pure; the scan that plans a compressed run (jobs/scan.cc) feeds it.
//
// Slow start: the first batch of a scan is bounded by `first_bytes` and each next one by twice
// the last bound, up to `max_bytes`. An archive's bytes cross the expensive link only once its
// first 5 MiB part (or, smaller than a part, all of it) is packed; a first archive of full size
// kept the link idle while about 20 MiB of the source were read and compressed. A small first
// archive is staged, and unpacked near the target, within a fraction of that, while the larger
// ones behind it are packed (docs/design/transport.md).
//
// Slow stop (SlowStopPieces): the last batch of a listing is cut into pieces whose bytes halve
// down to the first bound. The last archive can be unpacked only once it has crossed whole;
// a last archive of full size left the target writing its objects for most of a second after
// the link had gone quiet. With halving pieces, each is unpacked while the next one crosses,
// and what is left after the link is the unpacking of the smallest.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ferry::transport {

struct BatchLimits {
  uint64_t max_bytes = 64ull << 20;
  size_t max_objects = 5000;
  // The first batch's bound (at most max_bytes); 0: FirstBytesFor(max_bytes).
  uint64_t first_bytes = 0;

  // The default first bound: a sixteenth of max_bytes, at least 1 MiB (4 MiB for 64 MiB
  // archives: about 1 MiB compressed at a typical 4:1), never above max_bytes.
  static uint64_t FirstBytesFor(uint64_t max_bytes);
  // The first bound in effect: first_bytes, or FirstBytesFor(max_bytes), at most max_bytes.
  uint64_t first() const;
};

// One piece of a slow stop: the next `objects` objects of the batch, `bytes` in all.
struct SlowStopPiece {
  size_t objects = 0;
  uint64_t bytes = 0;
};

// The last batch of a listing (its objects' sizes, in order) cut for a slow stop: while more
// than twice `floor` bytes are left, a piece takes objects until it holds half of what is left
// (at least one object); the rest is the last piece. Returns the pieces in order; their objects
// add up to sizes.size(). E.g. 44 objects of 1 MiB with a floor of 4 MiB: pieces of 22, 11, 6
// and 5 objects (half rounded up).
std::vector<SlowStopPiece> SlowStopPieces(std::span<const uint64_t> sizes, uint64_t floor);

class Batcher {
 public:
  explicit Batcher(BatchLimits limits);

  // Whether the batch in the making must be closed before an object of `size` joins it: it
  // holds max_objects objects or max_bytes bytes already, or would pass max_bytes with it
  // (so an object as large as a whole batch goes alone). Never for an empty batch.
  bool ClosesBefore(uint64_t size) const;
  // The object joins the batch in the making.
  void Add(uint64_t size);
  // The batch was closed: the next object starts a new one, bounded by twice this one's bound
  // (up to max_bytes).
  void Reset();

  size_t objects() const { return objects_; }
  uint64_t bytes() const { return bytes_; }
  // The bound of the batch in the making.
  uint64_t limit_bytes() const { return limit_; }

 private:
  BatchLimits limits_;
  uint64_t limit_;
  size_t objects_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace ferry::transport
