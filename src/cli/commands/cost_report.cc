#include "cli/commands/cost_report.h"

#include <cstdio>
#include <map>

#include "app/config_remotes.h"
#include "transfer/progress.h"

namespace ferry::cli {
namespace {

// Every operation the S3 client names (s3/client.cc OperationName).
constexpr const char* kOperations[] = {
    "ListBuckets", "HeadBucket", "DeleteObjects", "ListObjectsV2", "ListObjectVersions",
    "ListMultipartUploads", "GetBucketVersioning", "CreateSession", "ListObjects",
    "PutBucketVersioning", "CreateBucket", "DeleteBucket", "BucketRequest", "GetObjectTagging",
    "PutObjectTagging", "DeleteObjectTagging", "UploadPartCopy", "UploadPart",
    "CompleteMultipartUpload", "ListParts", "AbortMultipartUpload", "CreateMultipartUpload",
    "GetObject", "HeadObject", "CopyObject", "PutObject", "DeleteObject", "ObjectRequest"};

// The op classes of ferry_requests_total (s3::RequestOpClass), in the order lines name them.
constexpr const char* kStoreOpClasses[] = {"PUT", "COPY", "LIST", "GET", "HEAD", "DELETE", "OTHER"};
constexpr const char* kRequestsHelp =
    "Requests the store answered, by remote and op class as bills count them (PUT, COPY, LIST, "
    "GET, HEAD, DELETE, OTHER).";
constexpr const char* kBytesOutHelp = "Reply bytes read out of the store, by remote.";

// The value of label `name` in a sample of `family`.
std::string_view StoreCostLabel(const obs::Registry::FamilySnapshot& family,
                                const obs::Registry::Sample& sample, std::string_view name) {
  for (size_t i = 0; i < family.label_names.size() && i < sample.label_values.size(); ++i) {
    if (family.label_names[i] == name) return sample.label_values[i];
  }
  return {};
}

}  // namespace

double CompressionRatio(uint64_t in, uint64_t wire) {
  return wire == 0 ? 0.0 : static_cast<double>(in) / static_cast<double>(wire);
}

std::string RegionOf(app::Wiring& wiring, const app::Location& location) {
  if (!location.is_s3()) return "";
  auto client = wiring.ClientFor(location);
  return client.ok() ? (*client)->options().region : "";
}

CostInputs CostInputsFor(const estimate::Prices& prices, std::string from, std::string to) {
  CostInputs in{.prices = prices, .from_region = std::move(from), .to_region = std::move(to),
                .per_gb = 0};
  in.per_gb = estimate::PricePerGb(in.prices, in.from_region, in.to_region);
  return in;
}

estimate::Usage TransportUsage(const transfer::Stats& s) {
  return estimate::Usage{
      .bytes_in = s.transport_bytes_in.load(),
      .bytes_wire = s.transport_bytes_wire.load(),
      .cpu_seconds = static_cast<double>(s.transport_cpu_us.load()) / 1e6,
      .extra_requests = {.put = s.transport_extra_puts.load(),
                         .get = s.transport_extra_gets.load()}};
}

transport::Requests MeasuredRequests(const obs::Registry& registry) {
  transport::Requests r;
  for (const char* op : kOperations) {
    const auto n =
        static_cast<uint64_t>(registry.Total("ferry_s3_requests_total", "operation", op));
    switch (estimate::ClassOf(op)) {
      case estimate::RequestClass::kPut: r.put += n; break;
      case estimate::RequestClass::kGet: r.get += n; break;
      case estimate::RequestClass::kFree: break;
    }
  }
  return r;
}

void AddCostJson(nlohmann::json& t, const transfer::Stats& stats, const CostInputs& in) {
  const estimate::Usage u = TransportUsage(stats);
  const estimate::Costs c = estimate::CostOf(u, in.prices, in.per_gb);
  const transport::Requests measured = MeasuredRequests();
  t["bytes_saved"] = u.bytes_in >= u.bytes_wire ? u.bytes_in - u.bytes_wire : 0;
  t["cpu_seconds"] = u.cpu_seconds;
  t["requests"] = {{"put", measured.put}, {"get", measured.get}};
  t["extra_requests"] = {{"put", u.extra_requests.put}, {"get", u.extra_requests.get}};
  t["cost"] = {{"from_region", in.from_region}, {"to_region", in.to_region},
               {"per_gb", in.per_gb}, {"transfer_plain", c.transfer_plain},
               {"transfer_wire", c.transfer_wire}, {"cpu", c.cpu}, {"requests", c.requests},
               {"staging", c.staging}, {"net_saving", c.net_saving}};
}

std::string CostLine(const transfer::Stats& stats, const CostInputs& in) {
  const estimate::Usage u = TransportUsage(stats);
  const estimate::Costs c = estimate::CostOf(u, in.prices, in.per_gb);
  const uint64_t saved = u.bytes_in >= u.bytes_wire ? u.bytes_in - u.bytes_wire : 0;
  char line[512];
  std::snprintf(line, sizeof line,
                "cost model: %s saved across %s->%s ($%.4g/GB), %.2f CPU s, %llu+%llu staging "
                "requests; net saving $%.6f (transfer $%.6f - CPU $%.6f - requests $%.6f - "
                "staging $%.6f)",
                transfer::HumanBytes(static_cast<double>(saved)).c_str(),
                in.from_region.empty() ? "?" : in.from_region.c_str(),
                in.to_region.empty() ? "?" : in.to_region.c_str(), in.per_gb, u.cpu_seconds,
                static_cast<unsigned long long>(u.extra_requests.put),
                static_cast<unsigned long long>(u.extra_requests.get), c.net_saving,
                c.transfer_plain - c.transfer_wire, c.cpu, c.requests, c.staging);
  return line;
}

TransportCostMetrics::TransportCostMetrics(const transfer::Stats& stats, CostInputs in,
                                           obs::Registry& registry)
    : in_(std::move(in)) {
  const transfer::Stats* s = &stats;
  const CostInputs* c = &in_;
  series_.push_back(registry.Observe(
      obs::MetricType::kGauge, "ferry_transport_ratio",
      "Bytes packed / bytes on the wire of the compressed transport.", {}, {},
      [s] { return CompressionRatio(s->transport_bytes_in.load(), s->transport_bytes_wire.load()); }));
  series_.push_back(registry.Observe(
      obs::MetricType::kCounter, "ferry_transport_bytes_saved_total",
      "Bytes packed minus bytes on the wire (what compression kept off the link).", {}, {},
      [s] {
        const uint64_t in = s->transport_bytes_in.load(), wire = s->transport_bytes_wire.load();
        return static_cast<double>(in >= wire ? in - wire : 0);
      }));
  series_.push_back(registry.Observe(
      obs::MetricType::kCounter, "ferry_transport_cpu_seconds_total",
      "CPU seconds charged to packing (the process's CPU shared between packs in flight).", {},
      {}, [s] { return static_cast<double>(s->transport_cpu_us.load()) / 1e6; }));
  series_.push_back(registry.Observe(
      obs::MetricType::kGauge, "ferry_transport_net_saving_dollars",
      "Transfer cost saved minus CPU, extra request and staging cost ([costs] prices).", {}, {},
      [s, c] { return estimate::CostOf(TransportUsage(*s), c->prices, c->per_gb).net_saving; }));
}

TransportCostMetrics::~TransportCostMetrics() {
  for (obs::Registration& r : series_) r.Detach();
}

std::vector<StoreRunCost> MeasuredStoreCosts(const app::Config& config,
                                             const obs::Registry& registry) {
  std::map<std::string, StoreRunCost> by_remote;
  for (const obs::Registry::FamilySnapshot& f : registry.Snapshot()) {
    const bool requests = f.name == "ferry_requests_total";
    if (!requests && f.name != "ferry_bytes_out_total") continue;
    for (const obs::Registry::Sample& sample : f.samples) {
      const auto n = static_cast<uint64_t>(sample.value);
      if (n == 0) continue;
      StoreRunCost& c = by_remote[std::string(StoreCostLabel(f, sample, "remote"))];
      if (requests) {
        c.usage.requests[std::string(StoreCostLabel(f, sample, "op"))] += n;
      } else {
        c.usage.bytes_out += n;
      }
    }
  }
  std::vector<StoreRunCost> out;
  for (auto& [remote, c] : by_remote) {
    c.remote = remote;
    c.prices = app::PricesOfStore(config, remote);
    c.dollars = c.prices ? estimate::StoreCost(c.usage, *c.prices) : 0;
    out.push_back(std::move(c));
  }
  return out;
}

void AddStoredBytes(std::vector<StoreRunCost>& stores, const std::string& remote, uint64_t bytes,
                    const std::string& storage_class) {
  for (StoreRunCost& c : stores) {
    if (c.remote != remote || bytes == 0) continue;
    c.bytes_written = bytes;
    c.storage_class = storage_class.empty() ? "STANDARD" : storage_class;
    c.storage_per_month =
        c.prices ? estimate::MonthlyStorageCost(bytes, *c.prices, c.storage_class) : 0;
  }
}

nlohmann::json StoreCostsJson(const std::vector<StoreRunCost>& stores) {
  nlohmann::json cost = {{"dollars", 0.0}, {"stores", nlohmann::json::array()}};
  double total = 0;
  for (const StoreRunCost& c : stores) {
    nlohmann::json requests = nlohmann::json::object();
    for (const auto& [op, n] : c.usage.requests) requests[op] = n;
    cost["stores"].push_back({{"remote", c.remote},
                              {"requests", std::move(requests)},
                              {"bytes_out", c.usage.bytes_out},
                              {"prices", c.prices ? c.prices->source : "no prices set"},
                              {"dollars", c.prices ? nlohmann::json(c.dollars) : nullptr}});
    if (c.bytes_written > 0) {
      nlohmann::json& store = cost["stores"].back();
      store["bytes_written"] = c.bytes_written;
      store["storage_class"] = c.storage_class;
      store["storage_per_month"] = c.prices ? nlohmann::json(c.storage_per_month) : nullptr;
    }
    total += c.dollars;
  }
  cost["dollars"] = total;
  return cost;
}

std::vector<std::string> StoreCostLines(const std::vector<StoreRunCost>& stores) {
  std::vector<std::string> lines;
  for (const StoreRunCost& c : stores) {
    std::string line = "requests at " + c.remote + ":";
    const char* sep = " ";
    for (const char* op : kStoreOpClasses) {
      const auto it = c.usage.requests.find(op);
      if (it == c.usage.requests.end()) continue;
      line += sep + std::to_string(it->second) + " " + op;
      sep = ", ";
    }
    line += "; " + transfer::HumanBytes(static_cast<double>(c.usage.bytes_out)) + " out; ";
    if (c.prices) {
      char dollars[64];
      std::snprintf(dollars, sizeof dollars, "$%.6f", c.dollars);
      line += std::string(dollars) + " (prices: " + c.prices->source + ")";
      if (c.bytes_written > 0) {
        std::snprintf(dollars, sizeof dollars, "$%.6f", c.storage_per_month);
        line += "; keeping the " + transfer::HumanBytes(static_cast<double>(c.bytes_written)) +
                " written: " + dollars + "/month (" + c.storage_class + ")";
      }
    } else {
      line += "no prices set (set [remotes." + c.remote + ".prices] to price them)";
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string StoreLabelOf(const app::Location& location) {
  if (!location.is_s3()) return "";
  return location.remote.empty() ? "s3" : location.remote;
}

namespace {

// `stores`' entry for `remote` (added when missing).
StoreRunCost& StoreEntry(std::vector<StoreRunCost>& stores, const std::string& remote) {
  for (StoreRunCost& c : stores) {
    if (c.remote == remote) return c;
  }
  StoreRunCost& added = stores.emplace_back();
  added.remote = remote;
  return added;
}

}  // namespace

void AddEstimatedUsage(std::vector<StoreRunCost>& stores, const app::Config& config,
                       const estimate::StoreUsages& planned) {
  for (const auto& [remote, usage] : planned) {
    StoreRunCost& c = StoreEntry(stores, remote);
    for (const auto& [op, n] : usage.requests) c.usage.requests[op] += n;
    c.usage.bytes_out += usage.bytes_out;
  }
  for (StoreRunCost& c : stores) {
    c.prices = app::PricesOfStore(config, c.remote);
    c.dollars = c.prices ? estimate::StoreCost(c.usage, *c.prices) : 0;
  }
}

void AddDryRunEstimate(std::vector<StoreRunCost>& stores, const app::Config& config,
                       const app::Location& src, const app::Location& dst,
                       const transfer::Stats& planned) {
  estimate::StoreUsages usages;
  estimate::AddPlannedCopies(usages, {.from = StoreLabelOf(src),
                                      .to = StoreLabelOf(dst),
                                      .objects = planned.objects_copied.load(),
                                      .bytes = planned.bytes_copied.load(),
                                      .deletes = planned.objects_deleted.load(),
                                      .source_deletes = planned.sources_deleted.load()});
  AddEstimatedUsage(stores, config, usages);
}

void PrintStoreCostLines(std::FILE* out, const std::vector<StoreRunCost>& stores, bool estimate) {
  for (const std::string& line : StoreCostLines(stores)) {
    std::fprintf(out, "%s%s\n", estimate ? "dry run estimate: " : "", line.c_str());
  }
}

namespace {

// The dollars of one store's counters at its prices.
struct StoreCostReader {
  std::vector<std::pair<const obs::Counter*, double>> requests;  // counter, $ per request
  const obs::Counter* bytes_out = nullptr;
  double per_byte_out = 0;
  double operator()() const {
    double dollars = static_cast<double>(bytes_out->value()) * per_byte_out;
    for (const auto& [counter, price] : requests) {
      dollars += static_cast<double>(counter->value()) * price;
    }
    return dollars;
  }
};

obs::Registration OneStoreCostSeries(const std::string& remote,
                                     const estimate::StorePrices& prices,
                                     obs::Registry& registry) {
  auto ops = registry.AddCounter("ferry_requests_total", kRequestsHelp, {"remote", "op"});
  StoreCostReader read;
  for (const char* op : kStoreOpClasses) {
    const double price = estimate::PricePerRequest(prices, op);
    if (price > 0) read.requests.emplace_back(&ops.WithLabels({remote, op}), price);
  }
  read.bytes_out =
      &registry.AddCounter("ferry_bytes_out_total", kBytesOutHelp, {"remote"}).WithLabels({remote});
  read.per_byte_out = prices.per_gb_out / (1024.0 * 1024.0 * 1024.0);
  return registry.Observe(
      obs::MetricType::kCounter, "ferry_cost_dollars_total",
      "What the requests and bytes out counted at a store cost at its prices "
      "([remotes.X.prices], AWS's us-east-1 list prices for AWS stores without them).",
      {"remote"}, {remote}, read);
}

}  // namespace

StoreCostMetrics::StoreCostMetrics(const app::Config& config, obs::Registry& registry) {
  std::vector<std::string> remotes = {"s3"};
  for (const auto& [name, remote] : config.remotes) {
    if (!remote.is_azure()) remotes.push_back(name);
  }
  for (const std::string& remote : remotes) {
    if (auto prices = app::PricesOfStore(config, remote)) {
      series_.push_back(OneStoreCostSeries(remote, *prices, registry));
    }
  }
}

StoreCostMetrics::~StoreCostMetrics() {
  for (obs::Registration& r : series_) r.Detach();
}

}  // namespace ferry::cli
