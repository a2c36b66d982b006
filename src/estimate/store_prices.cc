#include "estimate/store_prices.h"

#include <cmath>

namespace ferry::estimate {
namespace {

constexpr double kStoreGb = 1024.0 * 1024.0 * 1024.0;
constexpr std::string_view kPerGbMonthPrefix = "per_gb_month_";
constexpr std::string_view kStorageClassList =
    "STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, "
    "DEEP_ARCHIVE, REDUCED_REDUNDANCY, EXPRESS_ONEZONE";

bool IsStorageClassName(std::string_view name) {
  size_t at = 0;
  while (at < kStorageClassList.size()) {
    size_t end = kStorageClassList.find(", ", at);
    if (end == std::string_view::npos) end = kStorageClassList.size();
    if (kStorageClassList.substr(at, end - at) == name) return true;
    at = end + 2;
  }
  return false;
}

}  // namespace

StorePrices AwsUsEast1ListPrices() {
  StorePrices p;
  p.per_1000_put = 0.005;
  p.per_1000_copy = 0.005;
  p.per_1000_list = 0.005;
  p.per_10000_get = 0.004;
  p.per_10000_head = 0.004;
  p.per_gb_out = 0.09;
  p.per_gb_month = {{"STANDARD", 0.023},          {"STANDARD_IA", 0.0125},
                    {"ONEZONE_IA", 0.01},         {"INTELLIGENT_TIERING", 0.023},
                    {"GLACIER_IR", 0.004},        {"GLACIER", 0.0036},
                    {"DEEP_ARCHIVE", 0.00099},    {"REDUCED_REDUNDANCY", 0.024},
                    {"EXPRESS_ONEZONE", 0.11}};
  p.source = "AWS S3 us-east-1 list prices (defaults)";
  return p;
}

std::string_view StorageClasses() { return kStorageClassList; }

Status SetStorePrice(StorePrices& prices, std::string_view key, double value) {
  double* slot = nullptr;
  if (key == "per_1000_put") slot = &prices.per_1000_put;
  if (key == "per_1000_copy") slot = &prices.per_1000_copy;
  if (key == "per_1000_list") slot = &prices.per_1000_list;
  if (key == "per_10000_get") slot = &prices.per_10000_get;
  if (key == "per_10000_head") slot = &prices.per_10000_head;
  if (key == "per_gb_out") slot = &prices.per_gb_out;
  if (slot == nullptr && key.starts_with(kPerGbMonthPrefix)) {
    const std::string_view cls = key.substr(kPerGbMonthPrefix.size());
    if (!IsStorageClassName(cls)) {
      return Status::InvalidArgument("'" + std::string(key) + "': storage class '" +
                                     std::string(cls) + "' is not one of " +
                                     std::string(kStorageClassList));
    }
    slot = &prices.per_gb_month[std::string(cls)];
  }
  if (slot == nullptr) {
    return Status::InvalidArgument(
        "unknown key '" + std::string(key) +
        "' (per_1000_put, per_1000_copy, per_1000_list, per_10000_get, per_10000_head, "
        "per_gb_out, per_gb_month_CLASS)");
  }
  if (!std::isfinite(value) || value < 0) {
    return Status::InvalidArgument("'" + std::string(key) + "' must be a number, 0 or more");
  }
  *slot = value;
  return Status::Ok();
}

double PricePerRequest(const StorePrices& p, std::string_view op) {
  if (op == "PUT") return p.per_1000_put / 1000;
  if (op == "COPY") return p.per_1000_copy / 1000;
  if (op == "LIST") return p.per_1000_list / 1000;
  if (op == "GET") return p.per_10000_get / 10000;
  if (op == "HEAD") return p.per_10000_head / 10000;
  return 0;  // DELETE, OTHER: free
}

double StoreCost(const StoreUsage& usage, const StorePrices& prices) {
  double dollars = static_cast<double>(usage.bytes_out) / kStoreGb * prices.per_gb_out;
  for (const auto& [op, n] : usage.requests) {
    dollars += static_cast<double>(n) * PricePerRequest(prices, op);
  }
  return dollars;
}

double MonthlyStorageCost(uint64_t bytes, const StorePrices& prices,
                          std::string_view storage_class) {
  const auto it =
      prices.per_gb_month.find(std::string(storage_class.empty() ? "STANDARD" : storage_class));
  return it == prices.per_gb_month.end() ? 0 : static_cast<double>(bytes) / kStoreGb * it->second;
}

}  // namespace ferry::estimate
