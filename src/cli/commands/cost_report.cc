#include "cli/commands/cost_report.h"

#include <cstdio>

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

}  // namespace ferry::cli
