// The planner's front door: everything the sync driver needs to turn two listings into
// actions. MergeListings (merge.h) walks the source and destination listings in key order;
// Filter (filter.h) says which keys the job covers; Decide (decide.h) says, per key, whether
// to skip, copy, delete or look closer (Stat) first. All of it is pure: no I/O, no clock, no
// threads; the callers (src/transfer/sync.cc, the CLI for the flag parsers) own those.
//
// Thread-safety: see each header; nothing here holds shared mutable state.
#pragma once

#include "plan/decide.h"
#include "plan/filter.h"
#include "plan/glob.h"
#include "plan/merge.h"
