#include "estimate/estimate.h"

#include <algorithm>
#include <optional>

#include "archive/backend_io.h"
#include "storage/sorted_listing.h"
#include "estimate/estimate_internal.h"
#include "estimate/sampler.h"

namespace ferry::estimate {
namespace {

uint64_t CeilDiv(uint64_t a, uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

// What the listing pass learns: the objects to copy, their requests, the batches.
struct Listed {
  uint64_t listed = 0, unchanged = 0, objects = 0, bytes = 0, dst_objects = 0;
  Requests plain, packed;
  std::vector<uint64_t> batch_bytes;  // raw bytes of each batch of a compressed run
};

// Merges the source's and the destination's sorted listings: a source object whose key the
// destination holds with the same size is unchanged (a sync would skip it).
Status ListToCopy(storage::Backend& src, storage::Backend* dst, const EstimateOptions& o,
                  StratifiedSampler& sampler, Listed& out, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(auto s, storage::ListSorted(src, ""));
  std::unique_ptr<storage::ListingCursor> d;
  if (dst != nullptr) {
    FERRY_ASSIGN_OR_RETURN(d, storage::ListSorted(*dst, ""));
  }
  const storage::ObjectInfo* dn = nullptr;
  if (d) {
    FERRY_ASSIGN_OR_RETURN(dn, d->Next());
    if (dn != nullptr) ++out.dst_objects;
  }
  transport::Batcher batcher(o.batch);
  std::vector<uint64_t> making;  // the sizes of the batch in the making
  for (;;) {
    if (stop.stop_requested()) return Status::Cancelled("estimate cancelled");
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* sn, s->Next());
    if (sn == nullptr) break;
    ++out.listed;
    while (dn != nullptr && dn->key < sn->key) {
      FERRY_ASSIGN_OR_RETURN(dn, d->Next());
      if (dn != nullptr) ++out.dst_objects;
    }
    if (dn != nullptr && dn->key == sn->key && dn->size == sn->size) {
      ++out.unchanged;
      continue;
    }
    ++out.objects;
    out.bytes += sn->size;
    out.plain += PlainObjectRequests(sn->size, o);
    out.packed += PackedObjectRequests(sn->size, o);
    if (batcher.ClosesBefore(sn->size)) {
      out.batch_bytes.push_back(batcher.bytes());
      batcher.Reset();
      making.clear();
    }
    batcher.Add(sn->size);
    making.push_back(sn->size);
    sampler.Add(*sn);
  }
  while (dn != nullptr) {  // the rest of the destination's listing pages
    FERRY_ASSIGN_OR_RETURN(dn, d->Next());
    if (dn != nullptr) ++out.dst_objects;
  }
  // The last batch is packed in pieces for a slow stop, as the scan does (jobs/scan.cc).
  for (const transport::SlowStopPiece& p : transport::SlowStopPieces(making, o.batch.first())) {
    out.batch_bytes.push_back(p.bytes);
  }
  return Status::Ok();
}

// Reads one sampled object: a small one whole, a large one as `ranges` ranges spread evenly
// from its start to its end. kNotFound/kFailedPrecondition: gone or changed since listed.
Status ReadOne(storage::Backend& src, const storage::ObjectInfo& listed, uint64_t want,
               const EstimateOptions& o, internal::SampleEntry& e, std::stop_token stop) {
  e.bytes.resize(static_cast<size_t>(want));
  auto* data = reinterpret_cast<std::byte*>(e.bytes.data());
  if (!e.large)
    return src.ReadObject(listed.key, std::span(data, e.bytes.size()), "", stop).status();
  const uint64_t n = want / o.range_bytes;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t offset = n == 1 ? 0 : i * (listed.size - o.range_bytes) / (n - 1);
    FERRY_RETURN_IF_ERROR(src.ReadAt(
        listed.key, offset, std::span(data + i * o.range_bytes, static_cast<size_t>(o.range_bytes)),
        listed.etag, stop));
  }
  return Status::Ok();
}

// Reads the picked objects as tasks of the executor (one GET is a round trip, as many at once
// as it allows). The byte budget admits them in turns between strata, so that if it runs out
// no stratum is left unread; what is admitted is held in the executor's ByteBudget (overdrawn:
// the sample is bounded by max_sample_bytes) until `held` is released.
Result<std::vector<internal::SampleEntry>> ReadSample(storage::Backend& src,
                                                      const std::vector<Picked>& picked,
                                                      const EstimateOptions& o,
                                                      std::optional<transfer::BudgetLease>& held_lease,
                                                      std::stop_token stop) {
  std::vector<std::vector<const Picked*>> by_stratum;
  for (const Picked& p : picked) {
    if (by_stratum.size() <= p.stratum) by_stratum.resize(p.stratum + 1);
    by_stratum[p.stratum].push_back(&p);
  }
  std::vector<const Picked*> order;
  for (size_t round = 0; order.size() < picked.size(); ++round) {
    for (const auto& list : by_stratum) {
      if (round < list.size()) order.push_back(list[round]);
    }
  }
  std::vector<internal::SampleEntry> slots;
  std::vector<const storage::ObjectInfo*> objects;
  std::vector<uint64_t> wants;
  uint64_t held = 0;
  for (const Picked* p : order) {
    const storage::ObjectInfo& listed = p->object;
    internal::SampleEntry e;
    e.stratum = p->stratum;
    e.large = listed.size > o.whole_read_limit;
    const uint64_t want =
        e.large ? std::min<uint64_t>(listed.size, o.range_bytes * static_cast<uint64_t>(o.ranges))
                : listed.size;
    if (held + want > o.max_sample_bytes && !slots.empty()) continue;
    held += want;
    slots.push_back(std::move(e));
    objects.push_back(&listed);
    wants.push_back(want);
  }
  o.executor->budget().Overdraw(held);
  held_lease.emplace(o.executor->budget(), held);
  std::vector<Status> results(slots.size());
  transfer::RunAll(*o.executor, slots.size(), [&](size_t i) {
    results[i] = stop.stop_requested() ? Status::Cancelled("estimate cancelled")
                                       : ReadOne(src, *objects[i], wants[i], o, slots[i], stop);
  });
  std::vector<internal::SampleEntry> out;
  for (size_t i = 0; i < slots.size(); ++i) {
    const Status& s = results[i];
    if (s.code() == ErrorCode::kNotFound || s.code() == ErrorCode::kFailedPrecondition) {
      continue;  // gone or changed since it was listed: the sample goes on without it
    }
    FERRY_RETURN_IF_ERROR(s.WithContext("reading " + objects[i]->key));
    slots[i].header = archive::HeaderOf(*objects[i]);
    slots[i].header.size = slots[i].bytes.size();
    out.push_back(std::move(slots[i]));
  }
  return out;
}

}  // namespace

Requests PlainObjectRequests(uint64_t size, const EstimateOptions& o) {
  if (size < o.multipart_threshold) return Requests{.put = 1, .get = 1};
  const uint64_t parts = CeilDiv(size, o.part_size);
  // The source's details (HEAD), a ranged GET per part; create, parts, complete.
  return Requests{.put = 2 + parts, .get = 1 + parts};
}

Requests PackedObjectRequests(uint64_t size, const EstimateOptions& o) {
  Requests r;
  // Pack: one GET with its details, or a HEAD and ranged reads.
  r.get = size <= o.whole_read_limit ? 1 : 1 + CeilDiv(size, o.read_chunk);
  // Unpack: one PUT, or a multipart write.
  r.put = size <= o.unpack_whole_limit ? 1 : 2 + CeilDiv(size, o.part_size);
  return r;
}

Result<Estimate> EstimateCopy(storage::Backend& src, storage::Backend* dst,
                              const EstimateOptions& o, std::stop_token stop) {
  if (o.levels.empty()) return Status::InvalidArgument("no level to estimate");
  if (o.executor == nullptr) return Status::InvalidArgument("EstimateCopy: no executor");
  for (int level : o.levels) {
    if (level < 1 || level > 19) return Status::InvalidArgument("levels must be 1..19");
  }
  if (o.sample == 0 || o.ranges < 1 || o.range_bytes == 0) {
    return Status::InvalidArgument("sample, ranges and range bytes must be above 0");
  }
  StratifiedSampler sampler(o.sample, o.seed);
  Listed l;
  FERRY_RETURN_IF_ERROR(ListToCopy(src, dst, o, sampler, l, stop));
  Estimate est;
  est.objects_listed = l.listed;
  est.unchanged = l.unchanged;
  est.objects = l.objects;
  est.bytes = l.bytes;
  est.archives = l.batch_bytes.size();
  // Both (durable) runs list both sides (a page per 1,000 keys), check each bucket twice (the
  // command, then the run: HEAD) and look for abandoned uploads on the destination once.
  Requests common{
      .put = std::max<uint64_t>(1, CeilDiv(l.listed, 1000)) +
             (dst != nullptr ? std::max<uint64_t>(1, CeilDiv(l.dst_objects, 1000)) : 0) + 1,
      .get = 4};
  est.plain_requests = l.plain;
  est.plain_requests += common;
  est.plain_cost = static_cast<double>(l.bytes) / (1ull << 30) * o.per_gb +
                   RequestCost(est.plain_requests, o.prices);

  std::optional<transfer::BudgetLease> held;  // the sample's bytes, until it is packed
  FERRY_ASSIGN_OR_RETURN(auto sample, ReadSample(src, sampler.Pick(), o, held, stop));
  const std::vector<Stratum>& strata = sampler.strata();
  std::vector<uint64_t> raw(strata.size(), 0), count(strata.size(), 0);
  for (const auto& e : sample) {
    raw[e.stratum] += e.bytes.size();
    ++count[e.stratum];
    est.sampled_bytes += e.bytes.size();
  }
  est.sampled_objects = sample.size();
  std::vector<std::vector<double>> ratios;  // per level, per stratum
  for (int level : o.levels) {
    FERRY_ASSIGN_OR_RETURN(internal::PackedSample packed,
                           internal::PackSample(sample, strata.size(), level));
    LevelEstimate le;
    le.level = level;
    std::vector<double> r(strata.size(), 1.0);
    double wire = 0;
    for (size_t s = 0; s < strata.size(); ++s) {
      // A stratum no sample stands for (every read failed) is assumed not to compress.
      if (raw[s] > 0 && packed.wire[s] > 0) {
        r[s] = static_cast<double>(raw[s]) / static_cast<double>(packed.wire[s]);
        le.cpu_seconds +=
            static_cast<double>(strata[s].bytes) * packed.cpu[s] / static_cast<double>(raw[s]);
      }
      wire += static_cast<double>(strata[s].bytes) / r[s];
    }
    le.wire_bytes = static_cast<uint64_t>(wire) + est.archives * packed.empty_archive;
    // Archives: written to staging, read back, deleted; each batch's share of the wire bytes.
    le.requests = l.packed;
    le.requests += common;
    le.requests.get += 2;  // the staging bucket's checks
    for (uint64_t b : l.batch_bytes) {
      const auto archive_bytes =
          static_cast<uint64_t>(
              l.bytes == 0 ? 0.0 : static_cast<double>(b) * wire / static_cast<double>(l.bytes)) +
          packed.empty_archive;
      le.requests += transport::ArchiveWriteRequests(archive_bytes, o.archive_part_size,
                                          /*likely_one_part=*/b < o.archive_part_size);
      le.requests += transport::ArchiveReadRequests(archive_bytes);
    }
    Usage u{.bytes_in = l.bytes,
            .bytes_wire = le.wire_bytes,
            .cpu_seconds = le.cpu_seconds,
            .extra_requests = {.put = le.requests.put > est.plain_requests.put
                                          ? le.requests.put - est.plain_requests.put
                                          : 0,
                               .get = le.requests.get > est.plain_requests.get
                                          ? le.requests.get - est.plain_requests.get
                                          : 0}};
    le.costs = CostOf(u, o.prices, o.per_gb);
    le.cost = le.costs.transfer_wire + le.costs.cpu + RequestCost(le.requests, o.prices) +
              le.costs.staging;
    est.levels.push_back(le);
    ratios.push_back(std::move(r));
  }
  for (size_t i = 1; i < est.levels.size(); ++i) {
    if (est.levels[i].cost < est.levels[est.chosen].cost) est.chosen = i;
  }
  for (size_t s = 0; s < strata.size(); ++s) {
    est.strata.push_back(StratumEstimate{.content = strata[s].content,
                                         .size_class = strata[s].size_class,
                                         .objects = strata[s].objects,
                                         .bytes = strata[s].bytes,
                                         .sampled_objects = count[s],
                                         .sampled_bytes = raw[s],
                                         .ratio = ratios[est.chosen][s]});
  }
  return est;
}

}  // namespace ferry::estimate
