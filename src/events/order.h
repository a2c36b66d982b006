// Duplicates and order among events. Notifications are delivered at least once and in no
// particular order: the same record may come twice (a sender's retry, two rules matching), and
// a later change may arrive before an earlier one.
//
// A DedupKey names one change: two events with equal keys are deliveries of the same record.
// SequencerLess orders two events on the same key by their sequencers, as AWS documents it:
// the sequencers are hexadecimal strings of possibly different lengths; right-pad the shorter
// with '0' and compare the strings (the greater is the later event). Sequencers of different
// keys say nothing about each other's order.
//
// Thread-safety: values; pure functions.
#pragma once

#include <compare>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "events/event.h"

namespace ferry::events {

struct DedupKey {
  std::string bucket;
  std::string key;
  std::string version_id;
  std::string sequencer;
  std::string name;  // the event name without its "s3:" prefix

  bool operator==(const DedupKey&) const = default;
  // One string for a store or a log: each field length-prefixed ("6:bucket3:key..."), so that no
  // two different keys give the same text whatever bytes their fields hold.
  std::string ToString() const;
};

struct DedupKeyHash {
  size_t operator()(const DedupKey& key) const;
};

// The key of `event`. Events without a sequencer (S3 sends one only for creations and
// deletions) of the same name on the same version share a key: for metadata changes that is
// what a caller wants, since it reads the object's current state anyway.
DedupKey DedupKeyOf(const Event& event);

// The order of two sequencers (case-insensitive hex, the shorter right-padded with '0'), or
// nullopt when either is empty or not hexadecimal: such events are unordered.
std::optional<std::strong_ordering> CompareSequencers(std::string_view a, std::string_view b);

// True when `a` is known to come before `b`: CompareSequencers(a, b) is less.
bool SequencerLess(std::string_view a, std::string_view b);

}  // namespace ferry::events
