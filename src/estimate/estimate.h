// The estimate module (docs/design/transport.md "Cost model and estimate"), and its front door:
// what a run costs before and after it runs. Its headers:
//  - cost.h: the cost model (prices by region pair, request classes, the net saving of
//    compression), used by the config's [costs], a compressed run's summary and this estimate;
//  - sampler.h: a stratified sample of a listing by extension and size, with bounded memory;
//  - estimate.h (this one): `ferry estimate`'s prediction of a plain and a compressed run;
//    estimate_internal.h: its sample packed at one level.
// The estimate cuts its batches with transport's Batcher and counts a staged archive's requests
// as transport stages it (transport/batch.h, transport/staging_requests.h): estimate depends on
// transport, never the reverse. The adaptive level (transport/level_advisor.h) lives in
// transport: the packs choose each archive's level with it.
//
// estimate::EstimateCopy: what `ferry estimate SRC DST` predicts before any data moves
// (docs/design/transport.md "Cost model and estimate"). It lists the source (and
// the destination: objects already there with the same size are left out, as a sync would
// skip them), feeds every object to copy to a StratifiedSampler (sampler.h) and to the same
// Batcher a compressed run's scan uses, reads the sample (small objects whole, larger ones as
// a few ranges spread over the object, never whole), packs it with archive::Writer, the
// packing code of the pack jobs, at each candidate level, and scales each stratum's measured
// ratio and CPU time to the stratum's bytes. Requests are counted per object as the plain and
// the compressed run send them (their sizes decide: whole or ranged reads, single or multipart
// writes; archives: transport/staging_requests.h), plus the listings and bucket checks. Nothing is
// written anywhere.
//
// Errors: the backends' (listing, reads); kInvalidArgument for options out of range.
// Thread-safety: one call per thread; backends may be shared.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/backend.h"
#include "transport/batch.h"
#include "transfer/executor.h"
#include "estimate/cost.h"

namespace ferry::estimate {

struct EstimateOptions {
  std::vector<int> levels = {1, 3, 6, 9};  // candidate zstd levels (1..19)
  size_t sample = 300;                     // objects read
  uint64_t seed = 1;
  uint64_t range_bytes = 256ull << 10;  // a large object is read as `ranges` ranges of this
  int ranges = 4;
  uint64_t max_sample_bytes = 64ull << 20;  // bytes held for the sample at most
  // As the run does (pack.h, unpack.h, pack_kind.cc, the transfer engine's defaults).
  transport::BatchLimits batch;
  uint64_t whole_read_limit = 1ull << 20;      // pack: objects up to this read in one GET
  uint64_t read_chunk = 4ull << 20;            // pack: ranged reads of larger ones
  uint64_t unpack_whole_limit = 16ull << 20;   // unpack: entries up to this written in one PUT
  uint64_t part_size = 16ull << 20;            // multipart parts on the destination
  uint64_t multipart_threshold = 64ull << 20;  // plain copy: objects from this size in parts
  uint64_t archive_part_size = 5ull << 20;     // pack: archive::ArchivePartSize of a batch
  Prices prices;
  double per_gb = 0;  // $/GB of the region pair data crosses
  // The process's executor (required): the sample's reads are its tasks, the bytes held in
  // its ByteBudget while the sample is packed. Not owned.
  transfer::Executor* executor = nullptr;
};

struct LevelEstimate {
  int level = 0;
  uint64_t wire_bytes = 0;  // archives, manifests included
  double cpu_seconds = 0;   // to pack every object at this level (one core's CPU)
  Requests requests;        // of the whole compressed run
  double cost = 0;          // transfer of wire bytes + CPU + requests + staging
  Costs costs;              // against a plain copy (net_saving)
};

struct StratumEstimate {
  std::string content;
  int size_class = 0;
  uint64_t objects = 0;
  uint64_t bytes = 0;
  uint64_t sampled_objects = 0;
  uint64_t sampled_bytes = 0;  // bytes read (ranges of large objects)
  double ratio = 1;            // at the chosen level
};

struct Estimate {
  uint64_t objects_listed = 0;  // source objects
  uint64_t unchanged = 0;       // on the destination with the same size: not copied
  uint64_t objects = 0;         // to copy
  uint64_t bytes = 0;
  uint64_t sampled_objects = 0;
  uint64_t sampled_bytes = 0;
  uint64_t archives = 0;    // batches of a compressed run
  Requests plain_requests;  // of a plain copy
  double plain_cost = 0;    // transfer of every byte + requests
  std::vector<LevelEstimate> levels;
  size_t chosen = 0;  // index into levels: the cheapest compressed run
  std::vector<StratumEstimate> strata;
};

Result<Estimate> EstimateCopy(storage::Backend& src, storage::Backend* dst,
                              const EstimateOptions& options, std::stop_token stop);

// The requests of one object of `size` in a plain copy and in a compressed run (pack read,
// unpack write; its archive's requests are counted per archive).
Requests PlainObjectRequests(uint64_t size, const EstimateOptions& options);
Requests PackedObjectRequests(uint64_t size, const EstimateOptions& options);

}  // namespace ferry::estimate
