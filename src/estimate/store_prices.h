// What a run cost at one store (docs/design/cost.md): a store's prices (the config's
// [remotes.X.prices], or AWS S3's us-east-1 list prices for s3:// without them), the requests
// the S3 client counted by op class (s3/client.h: ferry_requests_total{remote,op}) and the
// bytes it read out of the store (ferry_bytes_out_total{remote}), and the dollars they come to.
//
// Op classes (s3::RequestOpClass names them): "PUT" (PutObject, UploadPart, Create/Complete
// MultipartUpload, other PUT and POST requests), "COPY" (CopyObject, UploadPartCopy), "LIST"
// (every listing), "GET", "HEAD", "DELETE" (free, as on AWS), "OTHER" (CreateSession: free).
//
// Units: a GB is 2^30 bytes (as cloud bills count); prices in dollars.
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::estimate {

// A store's prices. per_gb_month by storage class ("STANDARD", "STANDARD_IA", ...): what the
// bytes a run wrote cost to keep a month (shown beside the run's cost, never added to it).
struct StorePrices {
  double per_1000_put = 0;
  double per_1000_copy = 0;
  double per_1000_list = 0;
  double per_10000_get = 0;
  double per_10000_head = 0;
  double per_gb_out = 0;
  std::map<std::string, double> per_gb_month;
  // Where they come from, as the summary names them: "[remotes.X.prices]",
  // "AWS S3 us-east-1 list prices (defaults)", "local folder (free)".
  std::string source;
};

// AWS S3's published us-east-1 list prices (aws.amazon.com/s3/pricing, S3 Standard, 2024):
// $0.005 per 1,000 PUT, COPY, POST and LIST; $0.0004 per 1,000 GET and HEAD ($0.004 per 10,000);
// $0.09/GB out to the internet (the first 10 TB a month); storage per GB-month by class.
StorePrices AwsUsEast1ListPrices();

// Sets one price by its key in [remotes.X.prices]: per_1000_put, per_1000_copy, per_1000_list,
// per_10000_get, per_10000_head, per_gb_out, or per_gb_month_CLASS with CLASS one of S3's
// storage classes (StorageClasses()). kInvalidArgument naming the key for an unknown key or
// class, or a value that is negative or not finite.
Status SetStorePrice(StorePrices& prices, std::string_view key, double value);
// The storage classes a per_gb_month_CLASS key may name, comma separated (for errors and docs).
std::string_view StorageClasses();

// The requests of one store by op class ("PUT", "COPY", ...), and the bytes read out of it.
struct StoreUsage {
  std::map<std::string, uint64_t> requests;
  uint64_t bytes_out = 0;
};

// The price of one request of `op` (0 for DELETE, OTHER and an unknown class).
double PricePerRequest(const StorePrices& prices, std::string_view op);
// Requests x their prices + bytes_out / 2^30 x per_gb_out.
double StoreCost(const StoreUsage& usage, const StorePrices& prices);
// What `bytes` cost a month in `storage_class` ("" = STANDARD); 0 without a price for it.
double MonthlyStorageCost(uint64_t bytes, const StorePrices& prices,
                          std::string_view storage_class);

}  // namespace ferry::estimate
