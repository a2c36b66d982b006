// The cost model in the CLI (estimate/cost.h): the prices and region pair of a compressed run,
// its usage read from the run's counters, the S3 requests the process measured, and what the
// summary, `--json` and the metrics registry show of them (ratio, bytes saved, net saving).
// Shared by `ferry sync|cp --compress` (summary.cc), `ferry worker` and `ferry estimate`.
// And what any run cost at each store (docs/design/cost.md): the requests by op class and bytes
// out the S3 clients counted (ferry_requests_total, ferry_bytes_out_total), priced by the
// store's prices (app::PricesOfStore), in the summary, `--json` and ferry_cost_dollars_total.
//
// Thread-safety: functions are pure or read atomics; TransportCostMetrics is used by one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/location.h"
#include "app/wiring.h"
#include "obs/metrics.h"
#include "transfer/stats.h"
#include "estimate/cost.h"
#include "estimate/planned_requests.h"
#include "estimate/store_prices.h"

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

// What a run cost at one store: its requests by op class and bytes out as this process's S3
// clients counted them, its prices and the dollars they come to.
struct StoreRunCost {
  std::string remote;  // the config's remote, or "s3" (S3 locations without one)
  estimate::StoreUsage usage;
  std::optional<estimate::StorePrices> prices;  // nullopt: no prices set (not priced)
  double dollars = 0;                           // 0 when not priced
  // At a run's destination: the bytes it wrote there and what keeping them costs a month in
  // `storage_class` at the store's per_gb_month (shown beside the run's cost, not added to it).
  uint64_t bytes_written = 0;
  std::string storage_class;
  double storage_per_month = 0;
};

// Sets the bytes written at `remote` (when it is among `stores`) and their monthly storage cost
// in `storage_class` ("" = STANDARD).
void AddStoredBytes(std::vector<StoreRunCost>& stores, const std::string& remote, uint64_t bytes,
                    const std::string& storage_class);

// Every store `registry`'s ferry_requests_total counts requests for, priced by `config`
// (app::PricesOfStore), in remote order. A local folder sends no requests: it is not listed.
std::vector<StoreRunCost> MeasuredStoreCosts(
    const app::Config& config, const obs::Registry& registry = obs::DefaultRegistry());

// The summary's "cost" object: {"dollars": the priced stores' sum, "stores": [{"remote",
// "requests": {"PUT": n, ...}, "bytes_out", "prices": their source or "no prices set",
// "dollars" (null when not priced), and at a destination "bytes_written", "storage_class",
// "storage_per_month"}]}.
nlohmann::json StoreCostsJson(const std::vector<StoreRunCost>& stores);
// One line per store: "requests at R: 3 PUT, 1 LIST, ...; 1.2 MiB out; $0.000015 (prices:
// SOURCE)" or "...; no prices set".
std::vector<std::string> StoreCostLines(const std::vector<StoreRunCost>& stores);

// The label a location's requests are counted under: its remote, "s3" for s3:// without one,
// "" for a local folder or Azure (not counted).
std::string StoreLabelOf(const app::Location& location);

// A dry run's estimate (docs/design/cost.md): `stores` (the requests the dry run really sent,
// its listings) plus `planned` (estimate/planned_requests.h: what the writes it planned would
// send), every store repriced at `config`'s prices.
void AddEstimatedUsage(std::vector<StoreRunCost>& stores, const app::Config& config,
                       const estimate::StoreUsages& planned);
// A copy's dry run (sync, cp, move): `stores` plus the copies and deletes in `planned`
// (estimate::AddPlannedCopies from `src` to `dst`), repriced.
void AddDryRunEstimate(std::vector<StoreRunCost>& stores, const app::Config& config,
                       const app::Location& src, const app::Location& dst,
                       const transfer::Stats& planned);
// StoreCostLines on `out`, each after "dry run estimate: " when `estimate`.
void PrintStoreCostLines(std::FILE* out, const std::vector<StoreRunCost>& stores, bool estimate);

// ferry_cost_dollars_total{remote} for every priced store of `config` (its [remotes.X.prices],
// AWS's defaults for AWS stores), read from the S3 clients' counters when the registry renders
// while this lives; destroyed, the series keep their last values (the --metrics-file written at
// exit has them). The closures own what they read: any order of destruction is safe.
class StoreCostMetrics {
 public:
  explicit StoreCostMetrics(const app::Config& config,
                            obs::Registry& registry = obs::DefaultRegistry());
  ~StoreCostMetrics();
  StoreCostMetrics(const StoreCostMetrics&) = delete;
  StoreCostMetrics& operator=(const StoreCostMetrics&) = delete;

 private:
  std::vector<obs::Registration> series_;
};

}  // namespace ferry::cli
