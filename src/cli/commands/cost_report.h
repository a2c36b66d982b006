// The cost model in the CLI (estimate/cost.h): the prices and region pair of a compressed run,
// its usage read from the run's counters, the S3 requests the process measured, and what the
// summary, `--json` and the metrics registry show of them (ratio, bytes saved, net saving).
// Shared by `ferry sync|cp --compress` (summary.cc), `ferry worker` and `ferry estimate`.
//
// Thread-safety: functions are pure or read atomics; TransportCostMetrics is used by one thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/location.h"
#include "app/wiring.h"
#include "obs/metrics.h"
#include "transfer/stats.h"
#include "estimate/cost.h"

namespace ferry::cli {

// What prices a compressed run: the config's prices, the regions data crosses between (the
// source's and the staging location's) and their $/GB.
struct CostInputs {
  estimate::Prices prices;
  std::string from_region;
  std::string to_region;
  double per_gb = 0;
};

// The region of `location` as its S3 client knows it (remote's `region`, else the
// environment's); "" for a local folder or when it cannot be told.
std::string RegionOf(app::Wiring& wiring, const app::Location& location);

// Bytes in per byte on the wire (a compression ratio); 0 when nothing went on the wire.
double CompressionRatio(uint64_t in, uint64_t wire);
CostInputs CostInputsFor(const estimate::Prices& prices, std::string from, std::string to);

// The usage of a compressed run as its jobs recorded it in `stats`.
estimate::Usage TransportUsage(const transfer::Stats& stats);

// The S3 requests the process sent so far by billing class (ferry_s3_requests_total).
transport::Requests MeasuredRequests(const obs::Registry& registry = obs::DefaultRegistry());

// The cost part of a compressed run's `--json` "transport" object: cpu_seconds, bytes_saved,
// requests (measured: put, get), extra_requests, cost (transfer_plain, transfer_wire, cpu,
// requests, staging, net_saving) and the region pair.
void AddCostJson(nlohmann::json& transport, const transfer::Stats& stats, const CostInputs& in);
// One line: "cost model: ... saved, net saving $X (...)".
std::string CostLine(const transfer::Stats& stats, const CostInputs& in);

// Gauges of a compressed run while `stats` lives: ferry_transport_ratio,
// ferry_transport_bytes_saved, ferry_transport_cpu_seconds and ferry_transport_net_saving_dollars.
// Destroy before `stats`; the series then keep their last values.
class TransportCostMetrics {
 public:
  TransportCostMetrics(const transfer::Stats& stats, CostInputs in,
                       obs::Registry& registry = obs::DefaultRegistry());
  ~TransportCostMetrics();
  TransportCostMetrics(const TransportCostMetrics&) = delete;
  TransportCostMetrics& operator=(const TransportCostMetrics&) = delete;

 private:
  CostInputs in_;
  std::vector<obs::Registration> series_;
};

}  // namespace ferry::cli
