// ReadGate: paces the reads of several pipelines that share a source (pack.cc: in the order of
// the packs' UploadOrder, so that the archive whose bytes cross the link next is read first).
// Used by the read-ahead of packs (read_ahead.h, prefetch.h). Thread-safe.
#pragma once

#include <stop_token>

namespace ferry::transport {

class ReadGate {
 public:
  virtual ~ReadGate() = default;
  // Before one read: waits for its turn. False when `stop` was requested meanwhile (the read
  // must not start); else `follower` is what to pass to End once the read is over.
  virtual bool Begin(std::stop_token stop, bool& follower) = 0;
  // Begin without waiting: false when the read may not start now.
  virtual bool TryBegin(bool& follower) = 0;
  virtual void End(bool follower) = 0;
};

}  // namespace ferry::transport
