#include "estimate/cost.h"

#include <cmath>

namespace ferry::estimate {
namespace {

constexpr double kGb = 1024.0 * 1024.0 * 1024.0;
constexpr double kHoursPerMonth = 730;

}  // namespace

Status SetPrice(Prices& prices, std::string_view key, double value) {
  const std::pair<std::string_view, double*> slots[] = {
      {"per_gb", &prices.per_gb},
      {"per_cpu_second", &prices.per_cpu_second},
      {"per_1000_put", &prices.per_1000_put},
      {"per_1000_get", &prices.per_1000_get},
      {"per_gb_month_staging", &prices.per_gb_month_staging},
      {"staging_hours", &prices.staging_hours}};
  for (const auto& [name, slot] : slots) {
    if (name != key) continue;
    if (!std::isfinite(value) || value < 0) {
      return Status::InvalidArgument("'" + std::string(key) + "' must be a number, 0 or more");
    }
    *slot = value;
    return Status::Ok();
  }
  return Status::InvalidArgument("unknown key '" + std::string(key) + "'");
}

Status SetPairPrice(Prices& prices, std::string_view pair, double value) {
  const size_t arrow = pair.find("->");
  if (arrow == std::string_view::npos || arrow == 0 || arrow + 2 >= pair.size() ||
      pair.find("->", arrow + 2) != std::string_view::npos) {
    return Status::InvalidArgument("pairs '" + std::string(pair) +
                                   "' must be written \"from-region->to-region\"");
  }
  if (!std::isfinite(value) || value < 0) {
    return Status::InvalidArgument("pairs '" + std::string(pair) + "' must be a number, 0 or more");
  }
  prices.pairs[std::string(pair)] = value;
  return Status::Ok();
}

double PricePerGb(const Prices& prices, std::string_view from, std::string_view to) {
  auto it = prices.pairs.find(std::string(from) + "->" + std::string(to));
  if (it != prices.pairs.end()) return it->second;
  if (from.empty() || to.empty() || from == to) return 0;
  return prices.per_gb;
}

RequestClass ClassOf(std::string_view op) {
  if (op == "DeleteObject" || op == "DeleteObjects" || op == "AbortMultipartUpload" ||
      op == "DeleteBucket" || op == "DeleteObjectTagging") {
    return RequestClass::kFree;
  }
  if (op == "GetObject" || op == "HeadObject" || op == "HeadBucket" || op == "GetObjectTagging" ||
      op == "GetBucketVersioning") {
    return RequestClass::kGet;
  }
  // PUT, COPY, POST and every LIST are billed as PUT-class.
  return RequestClass::kPut;
}

double RequestCost(const Requests& r, const Prices& p) {
  return static_cast<double>(r.put) / 1000 * p.per_1000_put +
         static_cast<double>(r.get) / 1000 * p.per_1000_get;
}

Costs CostOf(const Usage& u, const Prices& p, double per_gb) {
  Costs c;
  c.transfer_plain = static_cast<double>(u.bytes_in) / kGb * per_gb;
  c.transfer_wire = static_cast<double>(u.bytes_wire) / kGb * per_gb;
  c.cpu = u.cpu_seconds * p.per_cpu_second;
  c.requests = RequestCost(u.extra_requests, p);
  c.staging = static_cast<double>(u.bytes_wire) / kGb * p.per_gb_month_staging * p.staging_hours /
              kHoursPerMonth;
  c.net_saving = c.transfer_plain - c.transfer_wire - c.cpu - c.requests - c.staging;
  return c;
}

}  // namespace ferry::estimate
